"""RealMLP's scaling layer (scaling_layer=True): a learnt scale per input of the first
layer. The forward pass against the equations written out, backpropagation against
finite differences, and the estimators' guarantees."""

import pickle
import warnings

import numpy as np
import pytest
from _finite_differences import central_differences
from _small_networks import first_layer_inputs, small_problem
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skadam import MLPClassifier, MLPRegressor
from skadam._losses import SquaredError
from skadam._model import Network

N_ROWS, N_FEATURES = 6, 4


def _problem(sparse, embedded):
    embedding, layout, params, X = small_problem(
        (5,), 2, n_rows=N_ROWS, n_features=N_FEATURES, columns=[1, 3] if embedded else None,
        sparse=sparse, input_scale=True)
    return Network(layout, "tanh", embedding), layout, params, X


def _reference(network, layout, params, X):
    """tanh((inputs * s) @ W0 + b0) @ W1 + b1, the inputs being the embedded features
    then X."""
    inputs = first_layer_inputs(network.embedding, layout, params, X)
    scales = params[layout.adapter_start:layout.embedding_start]
    (W0, W1), (b0, b1) = layout.coefs(params), layout.intercepts(params)
    return np.tanh((inputs * scales) @ W0 + b0) @ W1 + b1


@pytest.mark.parametrize("embedded", [False, True], ids=["plain", "embedded"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_forward_and_backprop_match_the_equations(sparse, embedded):
    network, layout, params, X = _problem(sparse, embedded)
    np.testing.assert_allclose(network.outputs(params[np.newaxis], X)[0],
                               _reference(network, layout, params, X), rtol=1e-12,
                               atol=1e-13)
    loss = SquaredError(2)
    Y = np.random.default_rng(1).normal(size=(N_ROWS, 2))

    def objective(values):
        return float(np.mean(loss.per_sample(_reference(network, layout, values, X), Y)))

    grad = np.full((1, params.size), np.nan)
    work = network.workspace(params[np.newaxis], grad, N_ROWS + 1)
    raw = network.forward(work, X)
    delta = work.deltas(N_ROWS)[-1]
    loss.gradient(raw, Y, delta)
    delta *= 1.0 / N_ROWS
    network.backward(work, X, delta)
    np.testing.assert_allclose(grad[0], central_differences(objective, params, 1e-6),
                               rtol=1e-5, atol=1e-8)


@pytest.fixture(scope="module")
def binary():
    return make_classification(n_samples=240, n_features=6, random_state=0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("ensemble_size", [1, 3])
def test_coefs_are_the_weights_the_first_layer_applies(binary, ensemble_size):
    X, y = binary
    model = MLPClassifier((8,), scaling_layer=True, ensemble_size=ensemble_size,
                          numeric_embedding=None, max_iter=10, random_state=0).fit(X, y)
    scales = model._params[:, model._layout.adapter_start:model._layout.embedding_start]
    assert not np.allclose(scales, 1.0)  # the scales trained
    (W0, W1), (b0, b1) = model.coefs_, model.intercepts_
    if ensemble_size == 1:
        W0, W1, b0, b1 = W0[None], W1[None], b0[None], b1[None]
    logits = [np.maximum(X @ W0[m] + b0[m], 0) @ W1[m] + b1[m] for m in range(ensemble_size)]
    probabilities = np.mean([1 / (1 + np.exp(-z[:, 0])) for z in logits], axis=0)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], probabilities, rtol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_and_pickling_go_on_and_a_changed_layer_is_refused(binary):
    X, y = binary
    settings = dict(hidden_layer_sizes=(8,), scaling_layer=True, early_stopping=False,
                    random_state=0)
    once = MLPClassifier(max_iter=6, **settings).fit(X, y)
    twice = MLPClassifier(max_iter=3, warm_start=True, **settings).fit(X, y)
    twice = pickle.loads(pickle.dumps(twice)).fit(X, y)
    np.testing.assert_array_equal(twice._params, once._params)
    with pytest.raises(ValueError, match="scaling_layer or linear_skip changed"):
        twice.set_params(scaling_layer=False).fit(X, y)


def test_the_scales_learn_which_inputs_matter():
    # Only the first two of eight columns carry the target: their scales grow past the
    # others'.
    X, y = make_regression(n_samples=600, n_features=8, n_informative=2, shuffle=False,
                           noise=0.1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPRegressor((16,), scaling_layer=True, numeric_embedding=None,
                             early_stopping=False, max_iter=60, random_state=0).fit(X, y)
    layout = model._layout
    scales = np.abs(model._params[0, layout.adapter_start:layout.embedding_start])
    assert scales[:2].min() > scales[2:].max()


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_sklearn_estimator_checks_without_the_scaling_layer(estimator):
    # The defaults have it, and the common checks run on them; here the plain first layer.
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_estimator(estimator(scaling_layer=False, random_state=0))
