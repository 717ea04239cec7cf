"""Ensembles whose members share their hidden layers (TabM-mini): the forward pass against
the equations written out, backpropagation against finite differences, and the
estimators' guarantees with ensemble="shared"."""

import pickle
import warnings

import numpy as np
import pytest
from _finite_differences import central_differences
from _small_networks import first_layer_inputs, small_problem
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_estimator

from skadam import MLPClassifier, MLPRegressor
from skadam._losses import BinaryLogLoss, MultinomialLogLoss, SquaredError
from skadam._shared_ensemble import MemberMeanLoss, SharedEnsembleNetwork
from skadam.model_selection import BatchedGridSearchCV

N_ROWS, N_FEATURES, N_MEMBERS = 6, 4, 3
HIDDEN = (5, 4)


def _problem(n_outputs, sparse=False, embedded=False):
    embedding, layout, params, X = small_problem(
        HIDDEN, n_outputs, n_rows=N_ROWS, n_features=N_FEATURES,
        columns=[0, 2] if embedded else None, sparse=sparse, shared_members=N_MEMBERS)
    return SharedEnsembleNetwork(layout, "tanh", embedding), layout, params, X


def _reference_outputs(network, layout, params, X):
    """Each member's raw output from the equations: the first layer reads the input
    scaled by the member's vector, the hidden layers are everyone's, the output layer
    the member's own."""
    dense = first_layer_inputs(network.embedding, layout, params, X)
    coefs, intercepts = layout.coefs(params), layout.intercepts(params)
    scales = params[layout.adapter_start:layout.embedding_start].reshape(N_MEMBERS, -1)
    outputs = []
    for member in range(N_MEMBERS):
        A = dense * scales[member]
        for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
            A = np.tanh(A @ W + b)
        outputs.append(A @ coefs[-1][member] + intercepts[-1][member])
    return np.stack(outputs)


@pytest.mark.parametrize("embedded", [False, True], ids=["plain", "embedded"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_forward_matches_the_equations(sparse, embedded):
    network, layout, params, X = _problem(2, sparse, embedded)
    raw = network.outputs(params[np.newaxis], X)
    np.testing.assert_allclose(raw, _reference_outputs(network, layout, params, X),
                               rtol=1e-12, atol=1e-13)


LOSSES = {
    "squared": (lambda: SquaredError(2), lambda rng: rng.normal(size=(N_ROWS, 2))),
    "binary": (lambda: BinaryLogLoss(2),
               lambda rng: rng.integers(0, 2, size=(N_ROWS, 2)).astype(float)),
    "multinomial": (lambda: MultinomialLogLoss(3), lambda rng: rng.integers(0, 3, N_ROWS)),
}


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize("embedded", [False, True], ids=["plain", "embedded"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_backprop_of_the_mean_member_loss_matches_finite_differences(sparse, embedded,
                                                                     loss_name):
    make_loss, make_targets = LOSSES[loss_name]
    inner = make_loss()
    network, layout, params, X = _problem(inner.n_outputs, sparse, embedded)
    Y = make_targets(np.random.default_rng(1))
    loss = MemberMeanLoss(inner, N_MEMBERS)

    def objective(values):
        # The mean over the members of each member's mean loss, from the equations.
        raw = _reference_outputs(network, layout, values, X)
        return float(np.mean([inner.per_sample(raw[m][np.newaxis], Y)
                              for m in range(N_MEMBERS)]))

    grad = np.full((1, params.size), np.nan)
    work = network.workspace(params[np.newaxis], grad, N_ROWS + 2)  # a larger workspace
    raw = network.forward(work, X)
    delta = work.deltas(N_ROWS)[-1]
    losses = loss.loss_and_gradient(raw, Y, delta)
    delta *= 1.0 / N_ROWS
    network.backward(work, X, delta)
    np.testing.assert_allclose(losses.mean(), objective(params), rtol=1e-12)
    fd = central_differences(objective, params, 1e-6)
    np.testing.assert_allclose(grad[0], fd, rtol=1e-5, atol=1e-8)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=240, n_features=6, random_state=0)
    return X, y


def _shared(estimator, **params):
    settings = dict(hidden_layer_sizes=(16,), ensemble="shared", ensemble_size=4,
                    max_iter=15, random_state=0)
    return estimator(**{**settings, **params})


def test_predictions_average_the_members_probabilities(binary):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _shared(MLPClassifier, numeric_embedding=None).fit(X, y)
    layout, params = model._layout, model._params[0]
    network = SharedEnsembleNetwork(layout, "relu")
    members = network.outputs(params[np.newaxis], X)  # (members, n, 1)
    probabilities = 1 / (1 + np.exp(-members[:, :, 0]))
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], probabilities.mean(axis=0),
                               rtol=1e-10)
    assert model.coefs_[-1].shape == (4, 16, 1)
    assert model.intercepts_[-1].shape == (4, 1)
    assert model._params.shape[0] == 1  # one network's parameters


def test_one_member_is_one_network(binary):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        shared = MLPClassifier((8,), ensemble="shared", max_iter=5, random_state=0).fit(X, y)
        plain = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(shared._params, plain._params)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_partial_fit_and_pickling_go_on_from_where_training_was(binary):
    X, y = binary
    once = _shared(MLPClassifier, max_iter=6, early_stopping=False).fit(X, y)
    twice = _shared(MLPClassifier, max_iter=3, early_stopping=False, warm_start=True)
    twice.fit(X, y)
    twice = pickle.loads(pickle.dumps(twice)).fit(X, y)
    np.testing.assert_array_equal(twice._params, once._params)
    streamed = _shared(MLPClassifier)
    for _ in range(10):
        streamed.partial_fit(X, y, classes=[0, 1])
    assert streamed.n_iter_ == 10
    assert streamed.loss_curve_[-1] < 0.9 * streamed.loss_curve_[0]
    with pytest.raises(ValueError, match="sharing changed"):
        streamed.set_params(ensemble="independent", warm_start=True).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_batched_search_gives_grid_searchs_results(binary):
    X, y = binary
    model = _shared(MLPClassifier, dropout=0.1, weight_averaging=2.0)
    grid = {"alpha": [1e-4, 1e-2], "solver__learning_rate": [1e-3, 3e-3]}
    batched = BatchedGridSearchCV(model, grid, cv=2).fit(X, y)
    plain = GridSearchCV(model, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(batched.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])


def test_a_network_without_hidden_layers_cannot_share_them(binary):
    X, y = binary
    with pytest.raises(ValueError, match="has none"):
        MLPClassifier((), ensemble="shared", ensemble_size=3).fit(X, y)


def test_sample_weights_weigh_every_members_loss(binary):
    X, y = binary
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = _shared(MLPClassifier, early_stopping=False).fit(X, y, sample_weight=weights)
        twice = _shared(MLPClassifier, early_stopping=False).fit(
            X, y, sample_weight=2 * weights)
    # Weights count relative to each other, for every member alike.
    np.testing.assert_allclose(weighted._params, twice._params, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimator", [
    MLPClassifier((16,), ensemble="shared", ensemble_size=3, random_state=0),
    MLPRegressor((16,), ensemble="shared", ensemble_size=3, random_state=0),
], ids=["classifier", "regressor"])
def test_sklearn_estimator_checks(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_estimator(clone(estimator))


def test_regressor_fits_a_smooth_function():
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    model = _shared(MLPRegressor, max_iter=200).fit(X[:200], y[:200])
    assert model.score(X[200:], y[200:]) > 0.9
