"""Bad input raises a ValueError that says what is wrong, and leaves a fitted model as it was."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.optim import Adam

ESTIMATORS = [LinearRegression(max_iter=3), LogisticRegression(max_iter=3),
              MLPRegressor(hidden_layer_sizes=(4,), max_iter=3),
              MLPClassifier(hidden_layer_sizes=(4,), max_iter=3)]


@pytest.fixture
def data(request, binary, regression):
    estimator = request.param
    if is_classifier(estimator):
        X, y = binary
    else:
        X, y = regression[0], regression[1][:, 0]
    return clone(estimator).set_params(random_state=0), X, y


def _bad_calls(X, y):
    X_nan, X_inf, y_nan = X.copy(), X.copy(), y.astype(float).copy()
    X_nan[3, 1], X_inf[5, 0], y_nan[2] = np.nan, np.inf, np.nan
    weights = np.ones(len(y))
    negative, nan_weights = weights.copy(), weights.copy()
    negative[0], nan_weights[1] = -1.0, np.nan
    y_inf = y.astype(float).copy()
    y_inf[4] = np.inf
    inf_weights = weights.copy()
    inf_weights[2] = np.inf
    X_text = X.astype(object)
    X_text[1, 0] = "seven"
    return {
        "nan in X": (("fit", X_nan, y), {}, "NaN"),
        "inf in y": (("fit", X, y_inf), {}, "infinity"),
        "inf weight": (("fit", X, y), {"sample_weight": inf_weights}, "infinity"),
        "empty": (("fit", X[:0], y[:0]), {}, "0 sample"),
        "1-D X": (("fit", X[:, 0], y), {}, "Expected 2D array"),
        "text in X": (("fit", X_text, y), {}, "could not convert string to float"),
        "empty partial_fit": (("partial_fit", X[:0], y[:0]), {}, "0 sample"),
        "inf in X": (("fit", X_inf, y), {}, "infinity"),
        "nan in y": (("fit", X, y_nan), {}, "NaN"),
        "rows differ": (("fit", X, y[:-1]), {}, "inconsistent numbers of samples"),
        "features differ": (("partial_fit", X[:, :-1], y), {}, "features"),
        "negative weight": (("fit", X, y), {"sample_weight": negative}, "Negative values"),
        "nan weight": (("fit", X, y), {"sample_weight": nan_weights}, "NaN"),
        "zero weights": (("fit", X, y), {"sample_weight": 0 * weights}, "non-zero"),
        "bad alpha": (("set_fit", X, y), {"alpha": -1.0}, "'alpha' parameter"),
        "bad solver name": (("set_fit", X, y), {"solver": "adamax"}, "'solver' parameter"),
        "bad beta": (("set_fit", X, y), {"solver": Adam(beta_1=1.0)}, "'beta_1' parameter"),
        "val without es": (("fit without early stopping", X, y), {"X_val": X, "y_val": y},
                           "early_stopping=True"),
    }


CASES = list(_bad_calls(np.zeros((8, 2)), np.zeros(8)))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("data", ESTIMATORS, indirect=True, ids=lambda e: type(e).__name__)
def test_bad_input_raises_and_leaves_the_fitted_model_unchanged(data, case):
    model, X, y = data
    model.fit(X, y)
    before = pickle.dumps(model)
    (method, X_bad, y_bad), kwargs, message = _bad_calls(X, y)[case]
    original = model.get_params(deep=False)
    with pytest.raises(ValueError, match=message):
        if method == "set_fit":
            model.set_params(**kwargs).fit(X_bad, y_bad)
        elif method == "fit without early stopping":
            model.set_params(early_stopping=False).fit(X_bad, y_bad, **kwargs)
        else:
            extra = {}
            if method == "partial_fit" and is_classifier(model):
                extra["classes"] = np.unique(y)
            getattr(model, method)(X_bad, y_bad, **extra, **kwargs)
    model.set_params(**original)  # undo what set_params itself was asked to change
    assert pickle.dumps(model) == before
    model.partial_fit(X, y)  # and it keeps working
    assert np.isfinite(np.asarray(model.predict(X), dtype=float)).all()


def test_partial_fit_refuses_unseen_labels_and_keeps_the_model(binary):
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match=r"labels not in classes_ \[0, 1\]: \[2\]"):
        model.partial_fit(X, np.where(y == 1, 2, 0))
    assert pickle.dumps(model) == before


def test_partial_fit_needs_classes_on_the_first_call(binary):
    X, y = binary
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        LogisticRegression().partial_fit(X, y)


def test_balanced_class_weight_is_refused_by_partial_fit(binary):
    X, y = binary
    with pytest.raises(ValueError, match="compute_class_weight"):
        LogisticRegression(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("label, written", [(0, "0"), (np.int64(3), "3"), ("spam", "'spam'"),
                                            (2.0, "2.0"), (True, "True")])
def test_one_class_is_refused_naming_the_label_as_the_user_wrote_it(binary, label, written):
    """The label of a one-class y as in the user's data, not numpy's repr of it
    ("np.int64(0)")."""
    X, _ = binary
    y = np.full(len(X), label, dtype=object if isinstance(label, str) else None)
    for model in (LogisticRegression(), MLPClassifier()):
        with pytest.raises(ValueError, match="at least 2 classes") as raised:
            model.fit(X, y)
        assert str(raised.value).endswith(f"the data hold only one class: {written}.")


def test_poisson_needs_non_negative_targets(regression):
    X, Y = regression
    with pytest.raises(ValueError, match="non-negative"):
        LinearRegression(loss="poisson").fit(X, Y[:, 0] - Y[:, 0].mean())


class _ScorerFailingAfter:
    """A scorer that works a few times, then raises."""

    def __init__(self, n_calls):
        self.n_calls = n_calls

    def __call__(self, estimator, X, y):
        self.n_calls -= 1
        if self.n_calls < 0:
            raise RuntimeError("scorer failed")
        return estimator.score(X, y)


def _fitted_state(model):
    state = model.optimizer_state_
    return (model._params.tobytes(), state.t, state.m.tobytes(), state.v.tobytes(),
            list(model.loss_curve_), list(model.validation_scores_), model.n_iter_, model.t_,
            pickle.dumps(model._random_state))


def test_an_error_during_training_restores_the_model(digits):
    # A scorer that fails in the middle of a warm-started fit: the epochs already run in
    # that call must not leak into the model.
    X, y, X_val, y_val = digits
    model = LogisticRegression(early_stopping=True, scoring=_ScorerFailingAfter(4),
                               warm_start=True, max_iter=3, random_state=0)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    before = _fitted_state(model)
    with pytest.raises(RuntimeError, match="scorer failed"):
        model.fit(X, y, X_val=X_val, y_val=y_val)
    assert _fitted_state(model) == before


PREDICT_CASES = {
    "nan": (lambda X: np.where(np.arange(X.shape[1]) == 0, np.nan, X), "NaN"),
    "features": (lambda X: X[:, :-1], "features"),
    "empty": (lambda X: X[:0], "0 sample"),
    "1-D": (lambda X: X[:, 0], "Expected 2D array"),
}


@pytest.mark.parametrize("case", list(PREDICT_CASES))
@pytest.mark.parametrize("data", ESTIMATORS, indirect=True, ids=lambda e: type(e).__name__)
def test_bad_input_to_predict_raises_and_changes_nothing(data, case):
    model, X, y = data
    model.fit(X, y)
    before = pickle.dumps(model)
    make_bad, message = PREDICT_CASES[case]
    methods = ["predict"] + (["predict_proba", "predict_log_proba", "score"]
                             if is_classifier(model) else ["score"])
    for method in methods:
        arguments = (make_bad(X), y) if method == "score" else (make_bad(X),)
        with pytest.raises(ValueError, match=message):
            getattr(model, method)(*arguments)
    assert pickle.dumps(model) == before
    assert np.isfinite(np.asarray(model.predict(X), dtype=float)).all()


@pytest.mark.parametrize("data", ESTIMATORS, indirect=True, ids=lambda e: type(e).__name__)
def test_bad_validation_data_raises_and_changes_nothing(data):
    model, X, y = data
    model.set_params(early_stopping=True).fit(X, y)
    before = pickle.dumps(model)
    X_val = X[:20].copy()
    X_val[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, y, X_val=X_val, y_val=y[:20])
    n_features = X.shape[1]
    with pytest.raises(ValueError, match=f"X_val has {n_features - 1} features, but the model "
                                         f"was trained on {n_features}.*transform_input"):
        model.fit(X, y, X_val=X[:20, :-1], y_val=y[:20])
    with pytest.raises(ValueError, match="Pass both X_val and y_val"):
        model.fit(X, y, X_val=X[:20])
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("labels", [
    np.array(["no", "yes"]), np.array([False, True]), np.array(["cat", "dog"], dtype=object),
    np.array([-1.0, 2.0]),
], ids=["str", "bool", "object", "float"])
def test_labels_of_any_one_type(labels, binary):
    X, y = binary
    model = LogisticRegression(max_iter=3, random_state=0).fit(X, labels[y])
    assert model.classes_.tolist() == labels.tolist()
    assert set(model.predict(X).tolist()) <= set(labels.tolist())
    streaming = MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    streaming.partial_fit(X, labels[y], classes=labels)
    assert streaming.classes_.tolist() == labels.tolist()


def test_labels_of_mixed_types_are_refused_clearly(binary):
    X, y = binary
    mixed = np.array(["cat", 3], dtype=object)[y]
    with pytest.raises(TypeError, match=r"mix types that cannot be ordered \(int, str\)"):
        LogisticRegression().fit(X, mixed)


def test_classes_that_disagree_with_the_first_call(binary):
    X, y = binary
    model = MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    before = pickle.dumps(model)
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2\] differs"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    assert pickle.dumps(model) == before


def test_one_sample(regression):
    X, Y = regression
    model = LinearRegression(max_iter=3, random_state=0).fit(X[:1], Y[:1, 0])
    assert np.isfinite(model.predict(X)).all()
    with pytest.raises(ValueError, match="could not hold out validation_fraction"):
        LinearRegression(early_stopping=True).fit(X[:1], Y[:1, 0])


def test_bad_input_to_a_search_names_the_problem(binary):
    from sklearn.exceptions import FitFailedWarning

    from skadam.model_selection import BatchedGridSearchCV

    X, y = binary
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    search = BatchedGridSearchCV(LogisticRegression(solver=Adam(), max_iter=3),
                                 {"solver__learning_rate": [0.1, 0.01]}, cv=2)
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="NaN"):
        search.fit(X_nan, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        search.fit(X, y[:-1])

