"""The linear skip (linear_skip=True): the output layer also reads X through weights of
its own. The forward pass against the equations written out, backpropagation against
finite differences, for one network and for a shared ensemble, and the estimators'
guarantees."""

import pickle
import warnings

import numpy as np
import pytest
from _finite_differences import central_differences
from _small_networks import (
    assert_a_stack_gives_each_run_what_it_gives_alone,
    first_layer_inputs,
    small_problem,
)
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skadam import MLPClassifier, MLPRegressor
from skadam._losses import SquaredError
from skadam._model import Network
from skadam._shared_ensemble import MemberMeanLoss, SharedEnsembleNetwork

N_ROWS, N_FEATURES, N_MEMBERS = 6, 4, 3


def _problem(sparse, embedded, members=0):
    embedding, layout, params, X = small_problem(
        (5,), 2, n_rows=N_ROWS, n_features=N_FEATURES, columns=[1, 3] if embedded else None,
        sparse=sparse, skip_inputs=N_FEATURES, shared_members=members,
        input_scale=not members)
    network = (SharedEnsembleNetwork if members else Network)(layout, "tanh", embedding)
    return network, layout, params, X


def _reference(network, layout, params, X):
    """Each member's raw output, (members, n_rows, 2): tanh((inputs * s_m) @ W0 + b0)
    @ W1_m + b1_m + X @ S_m, the inputs being the embedded features then X, S_m the
    member's skip weights (one network is one member, its scales s)."""
    inputs = first_layer_inputs(network.embedding, layout, params, X)
    dense = X.toarray() if hasattr(X, "toarray") else X
    (W0, W1), (b0, b1) = layout.coefs(params), layout.intercepts(params)
    scales = params[layout.adapter_start:layout.embedding_start].reshape(-1, inputs.shape[1])
    skip = params[layout.skip_start:layout.n_weights].reshape(-1, N_FEATURES, 2)
    W1, b1 = W1.reshape(-1, 5, 2), b1.reshape(-1, 2)
    return np.stack([np.tanh((inputs * scales[m]) @ W0 + b0) @ W1[m] + b1[m] + dense @ skip[m]
                     for m in range(len(skip))])


@pytest.mark.parametrize("members", [0, N_MEMBERS], ids=["one network", "shared ensemble"])
@pytest.mark.parametrize("embedded", [False, True], ids=["plain", "embedded"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_forward_and_backprop_match_the_equations(sparse, embedded, members):
    network, layout, params, X = _problem(sparse, embedded, members)
    want = _reference(network, layout, params, X)
    np.testing.assert_allclose(network.outputs(params[np.newaxis], X), want, rtol=1e-12,
                               atol=1e-13)
    loss = SquaredError(2)
    Y = np.random.default_rng(1).normal(size=(N_ROWS, 2))

    def objective(values):
        # The mean over the members of each member's mean loss.
        raw = _reference(network, layout, values, X)
        return float(np.mean([loss.per_sample(member, Y) for member in raw]))

    grad = np.full((1, params.size), np.nan)
    work = network.workspace(params[np.newaxis], grad, N_ROWS + 1)
    raw = network.forward(work, X)
    delta = work.deltas(N_ROWS)[-1]
    (MemberMeanLoss(loss, members) if members else loss).loss_and_gradient(raw, Y, delta)
    delta *= 1.0 / N_ROWS
    network.backward(work, X, delta)
    np.testing.assert_allclose(grad[0], central_differences(objective, params, 1e-6),
                               rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_a_stack_gives_each_run_what_it_gives_alone(sparse):
    network, _, params, X = _problem(sparse, embedded=True)
    assert_a_stack_gives_each_run_what_it_gives_alone(network, params, X)


def test_the_skip_lies_among_the_penalised_weights():
    _, layout, _, _ = _problem(False, False)
    weights = sum(W.size for W in layout.coefs(np.zeros(layout.n_params)))
    assert (layout.skip_start, layout.n_weights) == (weights, weights + N_FEATURES * 2)


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    return X, y + 0.1 * X[:, 0] ** 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predictions_add_the_skip_to_the_network(regression):
    X, y = regression
    model = MLPRegressor((8,), numeric_embedding=None, scaling_layer=False, ensemble_size=1,
                         max_iter=20, random_state=0).fit(X, y)
    skip = model.linear_skip_coef_
    assert skip.shape == (5, 1) and np.all(skip != 0.0)  # it trained from 0
    (W0, W1), (b0, b1) = model.coefs_, model.intercepts_
    raw = np.maximum(X @ W0 + b0, 0.0) @ W1 + b1 + X @ skip
    np.testing.assert_allclose(model.predict(X),
                               raw[:, 0] * model.target_scale_[0] + model.target_mean_[0],
                               rtol=1e-10)
    without = MLPRegressor((8,), linear_skip=False, numeric_embedding=None,
                           scaling_layer=False, ensemble_size=1, max_iter=20,
                           random_state=0).fit(X, y)
    assert without.linear_skip_coef_ is None
    assert [W.shape for W in without.coefs_] == [W.shape for W in model.coefs_]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_classifier_takes_a_skip_per_member():
    X, y = make_classification(n_samples=200, n_features=6, n_classes=3, n_informative=4,
                               random_state=0)
    model = MLPClassifier((8,), linear_skip=True, ensemble_size=2, max_iter=5,
                          random_state=0).fit(X, y)
    assert model.linear_skip_coef_.shape == (2, 6, 3)
    shared = MLPClassifier((8,), linear_skip=True, ensemble="shared", ensemble_size=4,
                           max_iter=5, random_state=0).fit(X, y)
    assert shared.linear_skip_coef_.shape == (4, 6, 3)
    assert MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y).linear_skip_coef_ is None


def test_without_hidden_layers_the_skip_changes_nothing(regression):
    X, y = regression
    settings = dict(hidden_layer_sizes=(), ensemble_size=1, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        skipped = MLPRegressor(linear_skip=True, **settings).fit(X, y)
        plain = MLPRegressor(linear_skip=False, **settings).fit(X, y)
    assert skipped.linear_skip_coef_ is None
    np.testing.assert_array_equal(skipped.predict(X), plain.predict(X))


def test_warm_start_continues_and_a_changed_skip_is_refused(regression):
    X, y = regression
    settings = dict(hidden_layer_sizes=(8,), early_stopping=False, max_iter=3,
                    random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = MLPRegressor(**{**settings, "max_iter": 6}).fit(X, y)
        twice = MLPRegressor(warm_start=True, **settings).fit(X, y)
        twice = pickle.loads(pickle.dumps(twice)).fit(X, y)
    np.testing.assert_array_equal(twice.linear_skip_coef_, once.linear_skip_coef_)
    np.testing.assert_array_equal(twice.predict(X), once.predict(X))
    before = twice.predict(X)
    with pytest.raises(ValueError, match="linear_skip changed"):
        twice.set_params(linear_skip=False).fit(X, y)
    np.testing.assert_array_equal(twice.predict(X), before)


@pytest.mark.parametrize("estimator", [MLPClassifier(linear_skip=True, random_state=0),
                                       MLPRegressor(linear_skip=False, random_state=0)],
                         ids=["classifier with the skip", "regressor without"])
def test_sklearn_estimator_checks_with_the_other_setting(estimator):
    # The defaults run the common checks (the regressor with its skip, the classifier
    # without); here each the other way.
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_estimator(estimator)
