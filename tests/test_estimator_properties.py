"""Property: over any shapes, dtypes, sparsity, weights and hyperparameters, a fit either
succeeds with finite parameters and predictions, or raises a ValueError or TypeError.

The Poisson loss's predictions, the exponential of the raw output, may overflow on data
far from what it was trained on; they are never NaN."""

import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor

KINDS = {
    "linear": LinearRegression,
    "logistic": LogisticRegression,
    "mlp-regressor": MLPRegressor,
    "mlp-classifier": MLPClassifier,
}


@st.composite
def problems(draw):
    kind = draw(st.sampled_from(sorted(KINDS)))
    n_samples = draw(st.integers(1, 40))
    n_features = draw(st.integers(1, 5))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3, 1e6]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=scale, size=(n_samples, n_features))
    if draw(st.booleans()):
        X[rng.uniform(size=X.shape) < 0.5] = 0.0
    X = X.astype(draw(st.sampled_from([np.float32, np.float64])))
    if draw(st.booleans()):
        X = sp.csr_matrix(X)
    if kind in ("logistic", "mlp-classifier"):
        y = rng.integers(0, draw(st.integers(1, 4)), size=n_samples)
    else:
        y = rng.normal(scale=draw(st.sampled_from([1e-3, 1.0, 1e4])), size=n_samples)
        if draw(st.booleans()) and kind == "linear":
            y = np.abs(y)  # allows the Poisson loss
    weights = draw(st.sampled_from(["none", "positive", "some zero"]))
    sample_weight = None if weights == "none" else rng.uniform(0.1, 5.0, size=n_samples)
    if weights == "some zero":
        sample_weight[rng.uniform(size=n_samples) < 0.5] = 0.0
    params = {
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1.0])),
        "batch_size": draw(st.sampled_from(["auto", 1, 7, 64])),
        "max_iter": draw(st.integers(1, 4)),
        "early_stopping": draw(st.booleans()),
        "solver": draw(st.sampled_from(["adam", "adamw", "sgd", "rmsprop", "adagrad"])),
        "random_state": seed,
    }
    if kind.startswith("mlp"):
        params["hidden_layer_sizes"] = (draw(st.integers(1, 6)),)
        params["activation"] = draw(st.sampled_from(["relu", "tanh", "logistic", "identity"]))
    if kind == "linear":
        params["loss"] = draw(st.sampled_from(["squared_error", "huber", "poisson"]))
    return KINDS[kind](**params), X, y, sample_weight


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_fit_succeeds_with_finite_output_or_raises_clearly(problem):
    model, X, y, sample_weight = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as error:
            assert len(str(error)) > 20  # a sentence that says what is wrong
            assert not hasattr(model, "_params")
            return
    assert np.isfinite(model._params).all()
    prediction = model.predict(X)
    assert prediction.shape[0] == X.shape[0]
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-4)
    elif getattr(model, "loss", None) == "poisson":
        # exp of the raw output: data far from the training points may overflow it, a
        # genuine prediction of the log link, but never NaN.
        assert not np.isnan(prediction).any()
    else:
        assert np.isfinite(prediction).all()
