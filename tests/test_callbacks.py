"""scikit-learn's callbacks: a fit is a task, each epoch a subtask, alone or nested."""

import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.callback import ProgressBar
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV

ESTIMATORS = [
    LogisticRegression(max_iter=4, random_state=0),
    MLPClassifier(hidden_layer_sizes=(5,), max_iter=4, random_state=0),
    LinearRegression(max_iter=4, random_state=0),
    MLPRegressor(hidden_layer_sizes=(5,), max_iter=4, random_state=0),
]


class Recorder:
    """Records every hook; asks to stop after ``stop_after`` epochs if given."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.events = []
        self.epoch_models = []

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.events.append(("end", context.task_name))
        if context.task_name == "epoch":
            self.epoch_models.append(fitted_estimator)
            return self.stop_after is not None and len(self.epoch_models) >= self.stop_after
        return False


class PropagatedRecorder(Recorder):
    """The same, handed down by meta-estimators to the estimators they fit."""

    max_propagation_depth = None


def _data(estimator, binary):
    X, y = binary
    if isinstance(estimator, (LinearRegression, MLPRegressor)):
        y = X[:, 0] - X[:, 1]
    return X, y


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_each_epoch_is_a_task(estimator, binary):
    X, y = _data(estimator, binary)
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = clone(estimator).set_callbacks(recorder).fit(X, y)
    epochs = [("begin", "epoch"), ("end", "epoch")] * model.n_iter_
    assert recorder.events == ["setup", ("begin", "fit"), *epochs, ("end", "fit"), "teardown"]
    # Each epoch's model predicts with that epoch's weights; the fit keeps its best
    # validation epoch's (the MLPs stop early from 100 samples on), else its last.
    scores = model.validation_scores_
    kept = recorder.epoch_models[-1 if scores is None else int(np.argmax(scores))]
    np.testing.assert_array_equal(kept.predict(X), model.predict(X))
    first = recorder.epoch_models[0]
    assert not np.array_equal(first._params, model._params)

    recorder = Recorder()
    clone(estimator).set_callbacks(recorder).partial_fit(
        X, y, **({"classes": np.unique(y)} if is_classifier(estimator) else {}))
    assert recorder.events.count(("end", "epoch")) == 1


def test_a_callback_stops_training(binary):
    X, y = binary
    recorder = Recorder(stop_after=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopping is not a failure
        model = LogisticRegression(max_iter=100, random_state=0).set_callbacks(recorder)
        model.fit(X, y)
    assert model.n_iter_ == 3
    assert recorder.events[-2:] == [("end", "fit"), "teardown"]


class Failing(Recorder):
    """Raises at the end of the second epoch, as a broken callback or an interrupt might."""

    def on_fit_task_end(self, estimator, context, **hook_arguments):
        super().on_fit_task_end(estimator, context, **hook_arguments)
        if len(self.epoch_models) == 2:
            raise KeyboardInterrupt


def test_callbacks_are_torn_down_and_the_model_kept_when_fit_raises(binary):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=3, random_state=0, warm_start=True).fit(X, y)
    before = {name: np.copy(value) for name, value in vars(model).items()
              if isinstance(value, np.ndarray)}
    # The fitted arrays are the run's: the parameters and the optimizer's moments.
    before.update({name: np.copy(getattr(model, name)) for name in ("_params", "coef_")})
    moments = {name: np.copy(getattr(model.optimizer_state_, name)) for name in ("m", "v")}
    recorder = Failing()
    model.set_callbacks(recorder)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert recorder.events[-1] == "teardown"
    assert model.n_iter_ == 3
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    for name, value in moments.items():
        np.testing.assert_array_equal(getattr(model.optimizer_state_, name), value)
    assert not hasattr(model, "_callback_fit_ctx")


@pytest.mark.parametrize("make_meta", [
    lambda model: make_pipeline(StandardScaler(), model),
    lambda model: GridSearchCV(model, {"alpha": [0.0, 1e-3]}, cv=2),
    lambda model: BatchedGridSearchCV(model, {"alpha": [0.0, 1e-3], "batch_size": [50, 100]},
                                      cv=2),
], ids=["pipeline", "GridSearchCV", "BatchedGridSearchCV"])
def test_epochs_reported_when_nested(make_meta, binary):
    X, y = binary
    recorder = PropagatedRecorder()
    meta = make_meta(LogisticRegression(max_iter=3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        meta.set_callbacks(recorder).fit(X, y)
    # At least the final fit (the pipeline's model or the search's refit) reports its
    # three epochs; the searches' fits on the folds add theirs.
    assert recorder.events.count(("end", "epoch")) >= 3
    assert recorder.events.count(("begin", "epoch")) == recorder.events.count(("end", "epoch"))
    assert recorder.events[0] == "setup" and recorder.events[-1] == "teardown"


def test_progress_bar_runs(binary, capsys):
    pytest.importorskip("rich", reason="ProgressBar draws with rich, in the test extra")
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make_pipeline(StandardScaler(), MLPClassifier(max_iter=2, random_state=0)).set_callbacks(
            ProgressBar()).fit(X, y)
        BatchedGridSearchCV(LogisticRegression(max_iter=2, random_state=0),
                            {"alpha": [0.0, 1e-3]}, cv=2).set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "MLPClassifier - fit" in out and "BatchedGridSearchCV - fit" in out


def test_a_batched_search_reports_the_epochs_of_grid_search(binary):
    # The points of a group train together, each reporting its own epochs to its own
    # task: the same events as GridSearchCV's fits one by one, in another order.
    X, y = binary
    grid = {"alpha": [0.0, 1e-3, 1e-2]}
    events = []
    for search in (GridSearchCV, BatchedGridSearchCV):
        recorder = PropagatedRecorder()
        meta = search(LogisticRegression(max_iter=3, tol=0.0, random_state=0), grid, cv=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            meta.set_callbacks(recorder).fit(X, y)
        events.append(Counter(map(str, recorder.events)))
    assert events[1] == events[0]
    # Every fit of every point on every fold, and the refit: 3 epochs each.
    assert events[0][str(("end", "epoch"))] == (3 * 2 + 1) * 3
