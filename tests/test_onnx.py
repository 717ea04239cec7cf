"""ONNX export: the graph skl2onnx writes with skadam's converters, run by onnxruntime,
against skadam's own predictions (labels equal; probabilities and regression outputs
within 1e-5 relative in float64 and 1e-4 in float32)."""

import warnings

import numpy as np
import onnxruntime
import pytest
from skl2onnx import to_onnx
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skadam.onnx  # noqa: F401  (registers the converters)
from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor

TOLERANCE = {np.float64: 1e-5, np.float32: 1e-4}
ACTIVATIONS = ["relu", "leaky_relu", "tanh", "logistic", "selu", "mish", "identity"]


def _data(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 5))
    X[:, 4] = rng.integers(0, 2, 240)  # a 0/1 column, which the embedding leaves alone
    return X.astype(dtype)


def _run(model, X):
    options = {"zipmap": False} if hasattr(model, "predict_proba") else None
    graph = to_onnx(model, X[:1], options=options)
    session = onnxruntime.InferenceSession(graph.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _close(got, want, dtype):
    scale = np.max(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE[dtype] * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("model", [
    MLPRegressor(hidden_layer_sizes=(9,), max_iter=10, random_state=0),
    MLPRegressor(hidden_layer_sizes=(6, 4), ensemble_size=3, max_iter=10, random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), numeric_embedding=None, max_iter=10,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), loss="poisson", ensemble_size=2, max_iter=10,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), loss="huber", max_iter=10, random_state=0),
    MLPRegressor(hidden_layer_sizes=(6, 5), ensemble="shared", ensemble_size=4, max_iter=10,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), scaling_layer=False, ensemble_size=2, max_iter=10,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), linear_skip=False, max_iter=10, random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), numeric_embedding="periodic", max_iter=10,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), numeric_embedding="piecewise_linear", max_iter=10,
                 random_state=0),
    MLPRegressor(hidden_layer_sizes=(6, 5), numeric_embedding="piecewise_linear",
                 ensemble="shared", ensemble_size=3, max_iter=10, random_state=0),
    LinearRegression(random_state=0),
], ids=["mlp", "ensemble of 3", "no embedding", "poisson ensemble", "huber",
        "shared ensemble of 4", "no scaling layer", "no linear skip", "periodic",
        "piecewise linear", "piecewise linear shared", "linear"])
def test_regressors(model, dtype):
    X = _data(dtype)
    y = 100 + 30 * X[:, 0] - 20 * np.sin(3 * X[:, 1]) + 5 * X[:, 4]
    if model.loss == "poisson":
        y = np.exp(0.5 * X[:, 0])
    _fit(model, X, y)
    [prediction] = _run(model, X)
    assert prediction.dtype == dtype
    _close(prediction.ravel(), model.predict(X), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_piecewise_linear_bins_extend_past_the_training_range(dtype):
    # The first and last bins are open: values beyond the edges keep their slope.
    X = _data(dtype)
    y = 100 + 30 * X[:, 0] - 20 * np.sin(3 * X[:, 1])
    model = _fit(MLPRegressor(hidden_layer_sizes=(6,), numeric_embedding="piecewise_linear",
                              max_iter=10, random_state=0), X, y)
    wide = (X * 3).astype(dtype)
    [prediction] = _run(model, wide)
    _close(prediction.ravel(), model.predict(wide), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_multi_output_regressor(dtype):
    X = _data(dtype)
    Y = np.column_stack([X[:, 0] * 10, np.cos(2 * X[:, 1]) + 3])
    model = _fit(MLPRegressor(hidden_layer_sizes=(8,), max_iter=10, random_state=0), X, Y)
    [prediction] = _run(model, X)
    _close(prediction, model.predict(X), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation(activation, dtype):
    X = _data(dtype)
    y = np.digitize(X[:, 0] + np.sin(2 * X[:, 1]), [-0.5, 0.5])
    model = _fit(MLPClassifier(hidden_layer_sizes=(7, 5), activation=activation, max_iter=10,
                               random_state=0), X, y)
    labels, proba = _run(model, X)
    np.testing.assert_array_equal(labels, model.predict(X))
    _close(proba, model.predict_proba(X), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("model, labels", [
    (MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0), ["no", "yes"]),
    (MLPClassifier(hidden_layer_sizes=(8,), ensemble_size=3, max_iter=10, random_state=0),
     [3, 7, 11]),
    (MLPClassifier(hidden_layer_sizes=(8,), ensemble_size=2, max_iter=10, random_state=0),
     [-1, 1]),
    (MLPClassifier(hidden_layer_sizes=(8,), ensemble="shared", ensemble_size=3, max_iter=10,
                   random_state=0), [3, 7, 11]),
    (LogisticRegression(random_state=0), ["a", "b", "c"]),
    (LogisticRegression(random_state=0), [0, 1]),
    (MLPClassifier(hidden_layer_sizes=(8,), numeric_embedding="piecewise_linear",
                   max_iter=10, random_state=0), [0, 1]),
    (MLPClassifier(hidden_layer_sizes=(8,), linear_skip=True, ensemble="shared",
                   ensemble_size=2, max_iter=10, random_state=0), [3, 7, 11]),
], ids=["binary strings", "ensemble of 3 classes", "binary ensemble",
        "shared ensemble of 3 classes", "logistic 3", "logistic 2", "piecewise linear",
        "linear skip, shared ensemble"])
def test_classifiers_labels_and_probabilities(model, labels, dtype):
    X = _data(dtype)
    codes = np.digitize(X[:, 0] - X[:, 1], [-0.7, 0.7][:len(labels) - 1])
    y = np.asarray(labels)[codes]
    _fit(model, X, y)
    onnx_labels, proba = _run(model, X)
    np.testing.assert_array_equal(onnx_labels, model.predict(X))
    _close(proba, model.predict_proba(X), dtype)


def test_a_pipeline_exports_whole():
    X = _data(np.float64) * 50 + 300
    y = np.digitize(X[:, 0], [250, 350])
    pipe = _fit(make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,),
                                                                max_iter=10, random_state=0)),
                X, y)
    labels, proba = _run(pipe, X)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    _close(proba, pipe.predict_proba(X), np.float64)


def test_a_multilabel_classifier_is_refused_with_the_reason():
    X = _data(np.float64)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    model = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, Y)
    with pytest.raises(NotImplementedError, match="multilabel"):
        to_onnx(model, X[:1], options={"zipmap": False})


def test_float32_keeps_skl2onnx_default_zipmap():
    """skl2onnx's default output of probabilities, a dictionary per row (ZipMap), which
    onnxruntime has for float32."""
    X = _data(np.float32)
    y = np.where(X[:, 0] > 0, "yes", "no")
    model = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, y)
    session = onnxruntime.InferenceSession(to_onnx(model, X[:1]).SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    labels, rows = session.run(None, {"X": X[:5]})
    np.testing.assert_array_equal(labels, model.predict(X[:5]))
    np.testing.assert_allclose([[row["no"], row["yes"]] for row in rows],
                               model.predict_proba(X[:5]), rtol=1e-5)
