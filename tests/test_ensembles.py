"""Ensembles trained in one pass: each member a network of its own, predictions averaged.

The references are written out here: each member's forward pass in plain NumPy from its
weights, the members' predictions averaged by hand, scikit-learn's log-loss and R², and
the model ``ensemble_size=1`` trains.
"""

import pickle
import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV

from skadam import MLPClassifier, MLPRegressor, _threads
from skadam.model_selection import BatchedGridSearchCV
from skadam.optim import Adam

# Every stack of these tests trains in both layouts of its parts (conftest.py).
pytestmark = pytest.mark.usefixtures("stack_layout")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _member_outputs(model, X):
    """Each member's raw output, from its weights by a plain forward pass (plus
    ``X @ linear_skip_coef_`` where the network has a linear skip)."""
    outputs = []
    for member in range(model.ensemble_size):
        A = X
        for layer, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
            A = A @ W[member] + b[member]
            if layer < len(model.coefs_) - 1:
                A = np.maximum(A, 0.0)
        if model.linear_skip_coef_ is not None:
            A = A + X @ model.linear_skip_coef_[member]
        outputs.append(A)
    return outputs


def test_classifier_predicts_the_mean_of_its_members_probabilities(digits):
    X, y, X_test, _ = digits
    model = MLPClassifier(hidden_layer_sizes=(16,), ensemble_size=3, max_iter=5,
                          numeric_embedding=None, random_state=0).fit(X, y)
    assert [W.shape for W in model.coefs_] == [(3, 64, 16), (3, 16, 10)]
    members = [softmax(raw, axis=1) for raw in _member_outputs(model, X_test)]
    assert not np.allclose(members[0], members[1])  # initialised apart
    expected = np.mean(members, axis=0)
    np.testing.assert_allclose(model.predict_proba(X_test), expected, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(model.predict(X_test),
                                  model.classes_[expected.argmax(axis=1)])


def test_binary_and_multilabel_average_the_sigmoids(binary):
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(8,), ensemble_size=4, max_iter=5,
                          numeric_embedding=None, random_state=0).fit(X, y)
    expected = np.mean([expit(raw[:, 0]) for raw in _member_outputs(model, X)], axis=0)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expected, rtol=1e-10)
    np.testing.assert_array_equal(model.predict(X), (expected > 0.5).astype(int))

    Y = np.column_stack([y, 1 - y, y])
    multilabel = clone(model).fit(X, Y)
    expected = np.mean([expit(raw) for raw in _member_outputs(multilabel, X)], axis=0)
    np.testing.assert_allclose(multilabel.predict_proba(X), expected, rtol=1e-10)


def test_regressor_predicts_the_mean_of_its_members(regression):
    X, Y = regression
    model = MLPRegressor(hidden_layer_sizes=(8,), ensemble_size=3, max_iter=5,
                         numeric_embedding=None, random_state=0).fit(X, Y)
    members = [raw * model.target_scale_ + model.target_mean_
               for raw in _member_outputs(model, X)]
    np.testing.assert_allclose(model.predict(X), np.mean(members, axis=0), rtol=1e-10)
    counts = np.round(np.abs(Y[:, 0] - 1000.0) / 10.0)
    poisson = MLPRegressor(hidden_layer_sizes=(8,), loss="poisson", ensemble_size=3,
                           max_iter=5, numeric_embedding=None,
                           random_state=0).fit(X / 100.0, counts)
    expected = np.mean([np.exp(raw[:, 0]) for raw in _member_outputs(poisson, X / 100.0)],
                       axis=0)
    np.testing.assert_allclose(poisson.predict(X / 100.0), expected, rtol=1e-10)


def test_the_default_regressor_averages_two_networks_of_two_layers_of_48(regression):
    # The default the tabular benchmark chose: coefs_ and the optimizer state per member.
    X, Y = regression
    model = MLPRegressor(numeric_embedding=None, max_iter=5, random_state=0).fit(X, Y[:, 0])
    assert [W.shape for W in model.coefs_] == [(2, X.shape[1], 48), (2, 48, 48), (2, 48, 1)]
    assert [b.shape for b in model.intercepts_] == [(2, 48), (2, 48), (2, 1)]
    assert len(model.optimizer_state_) == 2
    members = [raw[:, 0] * model.target_scale_[0] + model.target_mean_[0]
               for raw in _member_outputs(model, X)]
    assert not np.allclose(members[0], members[1])
    np.testing.assert_allclose(model.predict(X), np.mean(members, axis=0), rtol=1e-10)


def test_the_default_classifier_is_one_network_of_one_layer_of_200(digits):
    # The classifier's default the tabular benchmark chose: no member axis, one state.
    X, y, _, _ = digits
    model = MLPClassifier(numeric_embedding=None, max_iter=2, random_state=0).fit(X, y)
    assert [W.shape for W in model.coefs_] == [(X.shape[1], 200), (200, 10)]
    assert [b.shape for b in model.intercepts_] == [(200,), (10,)]
    # One state, not a tuple of members': the weights, the biases and the scaling layer's
    # scale per input.
    n_weights = sum(W.size for W in model.coefs_) + sum(b.size for b in model.intercepts_)
    assert model.optimizer_state_.n_params == n_weights + X.shape[1]


@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_each_member_trains_as_it_would_in_any_ensemble(digits, dropout):
    """Member 0 is the model of ensemble_size=1 and every member is the same network in
    an ensemble of any size, bit for bit: one shuffling, a stream of its own each."""
    X, y, _, _ = digits
    base = MLPClassifier(hidden_layer_sizes=(12,), max_iter=3, dropout=dropout,
                         random_state=0)
    single = clone(base).fit(X, y)
    three = clone(base).set_params(ensemble_size=3).fit(X, y)
    five = clone(base).set_params(ensemble_size=5).fit(X, y)
    np.testing.assert_array_equal(three._params[0], single._params[0])
    np.testing.assert_array_equal(five._params[:3], three._params)
    np.testing.assert_array_equal(three.optimizer_state_[2].v, five.optimizer_state_[2].v)
    # The objective is the mean of the members' (each member's own: an ensemble of one).
    assert three.loss_curve_[0] != single.loss_curve_[0]
    assert three._params.base is None


def test_early_stopping_monitors_the_averaged_prediction(digits):
    X, y, X_val, y_val = digits
    model = MLPClassifier(hidden_layer_sizes=(16,), ensemble_size=3, max_iter=40,
                          solver=Adam(learning_rate=0.02), early_stopping=True,
                          n_iter_no_change=3, random_state=0)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    assert model.patience_exhausted_ and model.n_iter_ < 40
    # The best epoch's weights, every member's, are restored: the model scores there.
    assert model.best_validation_score_ == max(model.validation_scores_)
    np.testing.assert_allclose(-log_loss(y_val, model.predict_proba(X_val)),
                               model.best_validation_score_, rtol=1e-10)
    accuracy = clone(model).set_params(scoring="accuracy").fit(X, y, X_val=X_val,
                                                                y_val=y_val)
    assert accuracy.best_validation_score_ == pytest.approx(accuracy.score(X_val, y_val))


def test_warm_start_partial_fit_and_pickling_continue_every_member(regression):
    X, Y = regression
    base = MLPRegressor(hidden_layer_sizes=(8,), ensemble_size=3, random_state=0)
    once = clone(base).set_params(max_iter=6).fit(X, Y)
    twice = clone(base).set_params(max_iter=3, warm_start=True).fit(X, Y)
    restored = pickle.loads(pickle.dumps(twice))
    restored.fit(X, Y)
    np.testing.assert_array_equal(restored._params, once._params)
    assert restored.loss_curve_ == once.loss_curve_
    # An MLP's batch_size='auto' takes 64 rows at a time on small data.
    assert [state.t for state in restored.optimizer_state_] == [6 * -(-len(Y) // 64)] * 3

    streamed, single = clone(base), MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(6):
        streamed.partial_fit(X, Y)
        single.partial_fit(X, Y)
    np.testing.assert_array_equal(streamed._params[0], single._params[0])
    assert streamed.n_iter_ == 6


def test_a_refused_change_of_size_leaves_the_model_as_it_was(regression):
    X, Y = regression
    model = MLPRegressor(hidden_layer_sizes=(8,), ensemble_size=3, max_iter=2,
                         warm_start=True, random_state=0).fit(X, Y)
    before = model._params.copy(), model.loss_curve_.copy()
    with pytest.raises(ValueError, match="ensemble of 3 and ensemble_size is now 2"):
        model.set_params(ensemble_size=2).fit(X, Y)
    np.testing.assert_array_equal(model._params, before[0])
    assert model.loss_curve_ == before[1]


@pytest.mark.parametrize("weight_averaging", [0.0, 1.0])
def test_a_diverging_member_stops_and_the_others_go_on(regression, weight_averaging):
    X, Y = regression
    model = MLPRegressor(hidden_layer_sizes=(8,), ensemble_size=3, max_iter=2,
                         weight_averaging=weight_averaging, warm_start=True,
                         random_state=0).fit(X, Y)
    model.optimizer_state_[1].v[:] = np.inf  # overflowed: the member's steps would freeze
    # The weights the optimizer steps: the model's own, or those it averages.
    trained = model._params if not weight_averaging else model._trained_params
    frozen = trained[1].copy()
    with pytest.warns(ConvergenceWarning, match="member 1 of the ensemble of 3"):
        model.fit(X, Y)
    trained = model._params if not weight_averaging else model._trained_params
    assert model.n_iter_ == 4  # the ensemble went on
    assert model.optimizer_state_[1].t == 0
    assert np.isfinite(model.optimizer_state_[1].v).all()
    np.testing.assert_array_equal(trained[1], frozen)  # back to its last sound weights
    assert np.isfinite(model._params[1]).all()
    assert model.optimizer_state_[0].t == model.optimizer_state_[2].t == 4 * -(-len(Y) // 64)


def test_sample_weights_reach_every_member(binary):
    X, y = binary
    weights = np.where(y == 1, 3.0, 1.0)
    model = MLPClassifier(hidden_layer_sizes=(8,), ensemble_size=3, max_iter=4,
                          random_state=0)
    weighted = clone(model).fit(X, y, sample_weight=weights)
    balanced = clone(model).set_params(class_weight={0: 1.0, 1: 3.0}).fit(X, y)
    np.testing.assert_array_equal(weighted._params, balanced._params)
    assert not np.array_equal(weighted._params, clone(model).fit(X, y)._params)


def test_batched_search_over_ensembles_equals_grid_search(binary):
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(6,), ensemble_size=2, max_iter=4,
                          solver=Adam(), random_state=0)
    grid = {"solver__learning_rate": [1e-3, 1e-2], "alpha": [0.0, 1e-2]}
    batched = BatchedGridSearchCV(model, grid, cv=2).fit(X, y)
    plain = GridSearchCV(model, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(batched.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(batched.best_estimator_._params,
                                  plain.best_estimator_._params)


def test_the_parts_of_a_stack_change_no_network(digits, monkeypatch):
    """One thread or one part per core: the same networks, bit for bit."""
    X, y, _, _ = digits
    model = MLPClassifier(hidden_layer_sizes=(12,), ensemble_size=4, max_iter=3,
                          dropout=0.1, random_state=0)
    fits = []
    for threshold in (np.inf, 1):
        monkeypatch.setattr(_threads, "MIN_WORK_PER_PART", threshold)
        fits.append(clone(model).fit(X, y))
    np.testing.assert_array_equal(fits[0]._params, fits[1]._params)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
