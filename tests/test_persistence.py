"""Saving a fitted model: skops loads it trusting only skadam's public classes, pickle
and skops give back a model that predicts and continues training bit for bit."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam._persistence import plain_state
from skadam.optim import SGD, Adam, ReduceOnPlateauSchedule

MODELS = [
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), ensemble_size=2, dropout=0.1, max_iter=4,
                  early_stopping=True, random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), max_iter=4, solver=SGD(momentum=0.9),
                 random_state=0),
    LinearRegression(max_iter=4, random_state=0),
    LogisticRegression(max_iter=4, solver=Adam(learning_rate=ReduceOnPlateauSchedule(0.01)),
                       random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), ensemble="shared", ensemble_size=3, dropout=0.1,
                 max_iter=4, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), scaling_layer=False, max_iter=4, random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), numeric_embedding="periodic", max_iter=4,
                 random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), numeric_embedding="piecewise_linear", max_iter=4,
                  random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), linear_skip=True, ensemble_size=2, max_iter=4,
                  random_state=0),
]
IDS = ["mlp", "ensemble with dropout", "regressor with SGD", "linear", "logistic",
       "shared ensemble", "no scaling layer", "periodic embedding",
       "piecewise-linear embedding", "linear skip"]


def _fit(model, binary, regression, **kwargs):
    X, y = binary
    if not hasattr(model, "predict_proba"):
        y = regression[1][:, 0]
        X = regression[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **kwargs), X, y


def _public(name):
    return name.startswith("skadam.") and not any(part.startswith("_") for part in
                                                  name.split(".")[1:-1])


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_skops_trusts_the_estimator_and_its_optimizer_only(model, binary, regression):
    fitted, X, _ = _fit(clone(model), binary, regression)
    data = sio.dumps(fitted)
    untrusted = sio.get_untrusted_types(data=data)
    classes = {type(fitted), type(fitted.optimizer_)}
    schedule = getattr(fitted.optimizer_, "learning_rate", None)
    if not isinstance(schedule, float):
        classes.add(type(schedule))
    assert set(untrusted) == {f"{c.__module__}.{c.__qualname__}" for c in classes}
    assert not any(name.startswith("numpy") for name in untrusted)
    loaded = sio.loads(data, trusted=untrusted)
    method = "predict_proba" if hasattr(fitted, "predict_proba") else "predict"
    np.testing.assert_array_equal(getattr(loaded, method)(X), getattr(fitted, method)(X))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_saved_model_continues_training_bit_for_bit(model, binary, regression):
    fitted, X, y = _fit(clone(model).set_params(warm_start=True), binary, regression)
    copies = [pickle.loads(pickle.dumps(fitted)),
              sio.loads(sio.dumps(fitted), trusted=sio.get_untrusted_types(
                  data=sio.dumps(fitted)))]
    _fit(fitted, binary, regression)
    for saved in copies:
        _fit(saved, binary, regression)
        np.testing.assert_array_equal(saved._params, fitted._params)
        assert saved.loss_curve_ == fitted.loss_curve_
        assert saved.optimizer_state_ is not None


def test_the_saved_state_is_arrays_and_builtins_with_nothing_twice(binary, regression):
    """What pickle and skops write: no object of skadam's but the estimator's public
    parameters, no scratch memory, and the best weights once when they are the model's."""
    model = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=2,
                          tol=0.5, max_iter=50, random_state=0)
    fitted, _, _ = _fit(model, binary, regression)
    assert fitted.patience_exhausted_  # the best weights were restored into _params
    state = fitted.__getstate__()
    assert plain_state(state).keys() == state.keys()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from walk(item)
        else:
            yield value

    kinds = {type(value) for value in walk(state)}
    allowed = {np.ndarray, int, float, str, bool, type(None), np.random.RandomState}
    assert kinds - allowed == {type(fitted.optimizer_)} or kinds <= allowed
    assert state["_history"]["best_params"] == "_params"
    assert isinstance(state["_optimizer_states"][0]["scratch"], bool)  # a flag, no memory
    arrays = [value for value in walk(state) if isinstance(value, np.ndarray)]
    n_params = fitted._params.size
    # the weights, their average's source, and Adam's two moments: four copies at most
    assert sum(a.size for a in arrays if a.size >= n_params) <= 4 * n_params
