"""Nothing lost: interrupts, divergence, pickling mid-training, threads, random states."""

import copy
import pickle
import re
import signal
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _interrupts import SigintAfter
from _states import buffers, step_counts
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.optim import SGD, Adagrad, Adam, RMSprop

# Every stack of these tests trains in both layouts of its parts (conftest.py).
pytestmark = pytest.mark.usefixtures("stack_layout")

ESTIMATORS = [
    LogisticRegression(max_iter=6, random_state=0),
    MLPClassifier(hidden_layer_sizes=(7,), max_iter=6, random_state=0),
    LinearRegression(max_iter=6, random_state=0),
    MLPRegressor(hidden_layer_sizes=(7,), max_iter=6, random_state=0),
]
IDS = [type(estimator).__name__ for estimator in ESTIMATORS]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(estimator, binary, regression):
    if is_classifier(estimator):
        return binary
    X, Y = regression
    return X, Y[:, 0]


def _state(model):
    """Everything a continued fit depends on, as comparable values."""
    return (model._params.tobytes(), step_counts(model),
            [buffer.tobytes() for buffer in buffers(model)],
            list(model.loss_curve_), model.n_iter_, model.t_,
            pickle.dumps(model._random_state.get_state()))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_ctrl_c_keeps_the_last_completed_step(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    model = clone(estimator).set_params(max_iter=50).set_callbacks(SigintAfter(2))
    with pytest.raises(KeyboardInterrupt, match="last completed minibatch step"):
        model.fit(X, y)
    # The interrupt arrived after epoch 2 and stopped training before the next step:
    # the model is the one of two epochs, with its optimizer state, and usable.
    two_epochs = clone(estimator).set_params(max_iter=2).fit(X, y)
    assert model.n_iter_ == 2
    assert _state(model)[:6] == _state(two_epochs)[:6]
    assert np.isfinite(model.predict(X).astype(float)).all()
    if is_classifier(model):
        model.partial_fit(X, y)
    else:
        model.partial_fit(X, y)
    assert model.n_iter_ == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_stops_at_once_and_restores_the_model(binary):
    X, y = binary
    model = LogisticRegression(max_iter=3, random_state=0, warm_start=True).fit(X, y)
    before = _state(model)
    model.set_callbacks(SigintAfter(1, times=2))
    with pytest.raises(KeyboardInterrupt) as raised:
        model.fit(X, y)
    assert "last completed" not in str(raised.value)
    assert _state(model) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_divergence_never_leaves_nan_in_the_model(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    X = X * 1e6  # badly scaled features
    if not is_classifier(estimator):
        y = y * 1e12  # and targets
    model = clone(estimator).set_params(solver=SGD(learning_rate=1e8), batch_size=16,
                                        max_iter=20)
    with pytest.warns(ConvergenceWarning, match="non-finite.*Lower the solver's learning rate"):
        model.fit(X, y)
    assert np.isfinite(model._params).all()
    assert all(np.isfinite(buffer).all() for buffer in buffers(model))
    assert np.isfinite(model.loss_curve_).all()
    assert np.isfinite(model.predict(X).astype(float)).all() or is_classifier(model)


@pytest.mark.parametrize("solver", [Adam(), Adam(amsgrad=True), RMSprop(), Adagrad()],
                         ids=["adam", "amsgrad", "rmsprop", "adagrad"])
def test_an_overflowing_optimizer_state_is_divergence(solver):
    # Squared gradients beyond float64's range: v becomes infinite and the step m / inf
    # would silently freeze the coordinate.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    X[:, 0] *= 1e200
    y = (X[:, 1] + X[:, 2] > 0).astype(int)
    model = LogisticRegression(solver=solver, max_iter=5, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(messages) == 1, messages
    assert re.search("optimizer's state .* overflowed in epoch 1.*StandardScaler", messages[0])
    assert caught[0].filename == __file__
    for name in model.optimizer_state_.buffer_names:
        assert np.isfinite(getattr(model.optimizer_state_, name)).all()
    assert np.isfinite(model._params).all()


@pytest.mark.parametrize("estimator", ESTIMATORS[1::2], ids=IDS[1::2])
def test_a_call_whose_first_minibatch_diverges_raises_and_changes_nothing(
        estimator, binary, regression):
    # A network's first layer overflows already at the starting weights. (A linear
    # model starts from zero weights, where its loss is finite whatever X.)
    X, y = _data(estimator, binary, regression)
    # Every entry the largest float64 of its sign: X * 1e307 leaves some batches' first
    # layer finite (if huge), which a network may then step from.
    huge = np.where(X > 0, np.finfo(X.dtype).max, -np.finfo(X.dtype).max)
    model = clone(estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no claim of weights kept
        with pytest.raises(ValueError, match="nothing was trained.*largest \\|X\\| is"):
            model.fit(huge, y)
    assert not hasattr(model, "_params")
    model.fit(X, y)
    before = _state(model)
    # The same for a later call, whose first layer overflows at the weights the model has.
    hopeless = huge
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ValueError, match="nothing was trained"):
            model.partial_fit(hopeless, y)
    assert _state(model) == before


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("duplicate", [
    lambda model: pickle.loads(pickle.dumps(model)), copy.deepcopy,
], ids=["pickle", "deepcopy"])
def test_a_copy_mid_training_continues_bit_for_bit(estimator, duplicate, binary, regression):
    X, y = _data(estimator, binary, regression)
    chunks = np.array_split(np.arange(len(y)), 6)
    extra = {"classes": np.unique(y)} if is_classifier(estimator) else {}
    straight = clone(estimator).set_params(solver=Adam(learning_rate=0.01))
    resumed = clone(straight)
    for index, chunk in enumerate(chunks):
        straight.partial_fit(X[chunk], y[chunk], **extra)
        resumed.partial_fit(X[chunk], y[chunk], **extra)
        if index == 2:
            resumed = duplicate(resumed)
    assert _state(resumed) == _state(straight)
    np.testing.assert_array_equal(resumed.predict(X), straight.predict(X))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_same_random_state_same_model(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    first = clone(estimator).set_params(early_stopping=True).fit(X, y)
    second = clone(estimator).set_params(early_stopping=True).fit(X, y)
    assert _state(first) == _state(second)
    assert first.validation_scores_ == second.validation_scores_


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_predictions_from_many_threads_equal_serial_ones(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    model = clone(estimator).fit(X, y)
    method = model.predict_proba if is_classifier(model) else model.predict
    # Different sizes, so that calls that shared buffers would overwrite each other.
    parts = [X[: 50 + 10 * index] for index in range(16)]
    serial = [method(part) for part in parts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            concurrent = list(pool.map(method, parts))
            for got, expected in zip(concurrent, serial, strict=True):
                np.testing.assert_array_equal(got, expected)
