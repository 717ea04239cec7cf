"""The batched searches give GridSearchCV's and RandomizedSearchCV's results, batching what
they can."""

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV, BatchedRandomizedSearchCV, _batching
from skadam.optim import SGD, Adam

# Every stack of these tests trains in both layouts of its parts (conftest.py).
pytestmark = pytest.mark.usefixtures("stack_layout")

ADAM_GRID = {
    "solver__learning_rate": [0.03, 0.003],
    "solver__beta_1": [0.5, 0.9],
    "solver__beta_2": [0.99, 0.999],
}

ESTIMATORS = [
    LogisticRegression(solver=Adam(), max_iter=12, random_state=0),
    MLPClassifier(hidden_layer_sizes=(10,), solver=Adam(), max_iter=6, random_state=0),
    LinearRegression(solver=Adam(), max_iter=12, random_state=0),
    MLPRegressor(hidden_layer_sizes=(10,), solver=Adam(), max_iter=6, random_state=0),
]


def _searches(estimator, grid, X, y, *, randomized=False, **options):
    fit_params = options.pop("fit_params", {})
    batched_class, reference_class = ((BatchedRandomizedSearchCV, RandomizedSearchCV)
                                      if randomized else (BatchedGridSearchCV, GridSearchCV))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        batched = batched_class(estimator, grid, **options).fit(X, y, **fit_params)
        reference = reference_class(estimator, grid, **options).fit(X, y, **fit_params)
    return batched, reference


@pytest.fixture
def fit_together_calls(monkeypatch):
    """The number of estimators of every call the searches make to ``fit_together``."""
    calls = []
    fit_together = _batching.fit_together

    def spy(estimators, *args, **kwargs):
        calls.append(len(estimators))
        return fit_together(estimators, *args, **kwargs)

    monkeypatch.setattr(_batching, "fit_together", spy)
    return calls


@pytest.fixture
def broken_fit_together(monkeypatch):
    """``fit_together`` raising, as a broken batched path would."""
    def broken(estimators, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_batching, "fit_together", broken)


def _assert_same_search(batched, reference):
    assert set(batched.cv_results_) == set(reference.cv_results_)
    for key, values in reference.cv_results_.items():
        if "time" in key:
            continue
        if key == "params":
            assert batched.cv_results_[key] == values
        else:
            np.testing.assert_array_equal(batched.cv_results_[key], values, err_msg=key)
    if hasattr(reference, "best_index_"):
        assert batched.best_params_ == reference.best_params_
        assert batched.best_index_ == reference.best_index_
        assert batched.best_score_ == reference.best_score_


def _data(estimator, binary, regression):
    if isinstance(estimator, (LogisticRegression, MLPClassifier)):
        return binary
    X, Y = regression
    return X, Y[:, 0]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_same_results_as_grid_search(estimator, early_stopping, binary, regression):
    X, y = _data(estimator, binary, regression)
    estimator = clone(estimator).set_params(early_stopping=early_stopping, n_iter_no_change=2,
                                            alpha=1e-4)
    batched, reference = _searches(estimator, ADAM_GRID, X, y, cv=3)
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 1
    np.testing.assert_array_equal(batched.best_estimator_.predict(X),
                                  reference.best_estimator_.predict(X))


@pytest.mark.parametrize("estimator", ESTIMATORS[::3], ids=lambda e: type(e).__name__)
def test_sample_weights_and_scorers(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    weights = np.random.default_rng(0).uniform(0.1, 2.0, size=len(y))
    grid = {"solver__learning_rate": [0.03, 0.003], "alpha": [0.0, 0.01]}
    batched, reference = _searches(estimator, grid, X, y, cv=3,
                                   fit_params={"sample_weight": weights})
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 1
    scoring = ({"ll": "neg_log_loss", "acc": "accuracy"}
               if isinstance(estimator, LogisticRegression)
               else ["r2", "neg_mean_absolute_error"])
    refit = "ll" if isinstance(estimator, LogisticRegression) else "r2"
    batched, reference = _searches(estimator, grid, X, y, cv=3, scoring=scoring, refit=refit,
                                   return_train_score=True)
    _assert_same_search(batched, reference)


def test_pipeline_transformers_are_fitted_once_per_fold(binary):
    X, y = binary
    pipe = make_pipeline(StandardScaler(), LogisticRegression(solver=Adam(), max_iter=10,
                                                              random_state=0))
    grid = {"logisticregression__solver__learning_rate": [0.1, 0.01],
            "logisticregression__alpha": [0.0, 1e-3]}
    batched, reference = _searches(pipe, grid, X, y, cv=KFold(3))
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 1


def test_what_cannot_be_batched_is_fitted_alone(binary, regression):
    X, y = binary
    grid = [{"hidden_layer_sizes": [(4,), (6,)], "solver__learning_rate": [0.01, 0.003]},
            {"solver": [SGD(learning_rate=0.01), SGD(learning_rate=0.01, momentum=0.9)]}]
    estimator = MLPClassifier(solver=Adam(), max_iter=4, random_state=0)
    batched, reference = _searches(estimator, grid, X, y, cv=2)
    _assert_same_search(batched, reference)
    # (4,) and (6,) each batch their two learning rates; SGD with and without momentum
    # keep different buffers.
    assert batched.n_groups_ == 4

    X, Y = regression
    batched, reference = _searches(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, X, Y, cv=3)
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 3


def test_failed_fits_score_as_grid_search(binary):
    X, y = binary
    grid = {"alpha": [0.0, -1.0, 1e-3]}
    estimator = LogisticRegression(max_iter=5, random_state=0)
    with pytest.warns(FitFailedWarning):
        batched = BatchedGridSearchCV(estimator, grid, cv=2).fit(X, y)
    scores = batched.cv_results_["mean_test_score"]
    assert np.isnan(scores[1]) and np.isfinite(scores[[0, 2]]).all()
    with pytest.raises(ValueError, match="alpha"):
        BatchedGridSearchCV(estimator, grid, cv=2, error_score="raise").fit(X, y)


def test_refit(binary):
    X, y = binary
    estimator = LogisticRegression(solver=Adam(), max_iter=10, random_state=0)
    search = BatchedGridSearchCV(estimator, {"solver__learning_rate": [0.1, 0.001]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
        alone = clone(estimator).set_params(**search.best_params_).fit(X, y)
    np.testing.assert_array_equal(search.predict_proba(X), alone.predict_proba(X))
    assert search.refit_time_ > 0
    assert search.n_features_in_ == X.shape[1]

    search = BatchedGridSearchCV(estimator, {"solver__learning_rate": [0.1, 0.001]}, cv=2,
                                 refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    assert not hasattr(search, "best_estimator_")
    assert search.best_params_ in search.cv_results_["params"]


def test_no_random_state_still_trains_a_group_together(binary):
    X, y = binary
    estimator = LogisticRegression(solver=Adam(), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = BatchedGridSearchCV(estimator, {"alpha": [0.0, 1e-3, 1e-2]}, cv=2).fit(X, y)
    assert search.n_groups_ == 1
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_parallel_jobs_give_the_same_search(binary):
    X, y = binary
    estimator = LogisticRegression(solver=Adam(), max_iter=5, random_state=0)
    grid = {"solver__learning_rate": [0.1, 0.01], "alpha": [0.0, 1e-3]}
    batched, reference = _searches(estimator, grid, X, y, cv=3)
    parallel, _ = _searches(estimator, grid, X, y, cv=3, n_jobs=2)
    _assert_same_search(parallel, reference)
    _assert_same_search(batched, reference)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_a_solver_given_by_name_is_tuned_in_both_searches(estimator, binary, regression):
    # The default solver="adam": solver__* parameters act on the Adam it stands for.
    X, y = _data(estimator, binary, regression)
    by_name = clone(estimator).set_params(solver="adam")
    batched, reference = _searches(by_name, ADAM_GRID, X, y, cv=3)
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 1
    assert by_name.solver == "adam"  # the search's estimator is untouched
    best = reference.best_estimator_
    assert isinstance(best.solver, Adam)
    for key, value in reference.best_params_.items():
        assert best.optimizer_.get_params()[key.split("__")[1]] == value
    # Everything not in the grid keeps the estimator's default for the name: the
    # linear models' larger learning rate, for one.
    default = clone(estimator).set_params(solver="adam")._resolve_solver()
    tuned = clone(estimator).set_params(solver="adam", solver__beta_2=0.9)
    assert tuned.solver.get_params() == {**default.get_params(), "beta_2": 0.9}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_a_default_estimator_in_a_pipeline_is_tuned_in_both_searches(estimator, binary,
                                                                    regression):
    X, y = _data(estimator, binary, regression)
    pipe = make_pipeline(StandardScaler(), clone(estimator).set_params(solver="adam"))
    name = pipe.steps[-1][0]
    grid = {f"{name}__solver__learning_rate": [1e-3, 1e-2],
            f"{name}__solver__beta_1": [0.8, 0.9]}
    batched, reference = _searches(pipe, grid, X, y, cv=3)
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 1


def test_the_batched_path_runs(binary, fit_together_calls):
    X, y = binary
    estimator = LogisticRegression(solver=Adam(), max_iter=8, random_state=0)
    batched, reference = _searches(estimator, ADAM_GRID, X, y, cv=3)
    # One stack of all 8 grid points per fold, and GridSearchCV's results.
    assert fit_together_calls == [8, 8, 8]
    _assert_same_search(batched, reference)


def test_a_failing_group_fails_each_of_its_points(binary, broken_fit_together):
    X, y = binary
    estimator = LogisticRegression(solver=Adam(), max_iter=5, random_state=0)
    # The first two points train together; batch_size=50 alone, by _fit_and_score.
    grid = [{"solver__learning_rate": [0.1, 0.01]}, {"batch_size": [50]}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(FitFailedWarning, match="(?s)6 fits failed out of a total of 9.*boom"):
            search = BatchedGridSearchCV(estimator, grid, cv=3, error_score=-1.0,
                                         return_train_score=True).fit(X, y)
    assert search.n_groups_ == 2
    results = search.cv_results_
    np.testing.assert_array_equal(results["mean_test_score"][:2], -1.0)
    np.testing.assert_array_equal(results["mean_train_score"][:2], -1.0)
    assert results["mean_test_score"][2] > 0.5
    assert search.best_params_ == {"batch_size": 50}

    # With several scorers, each scorer's score is error_score.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(FitFailedWarning, match="boom"):
            search = BatchedGridSearchCV(estimator, grid, cv=3, error_score=-1.0,
                                         scoring=["accuracy", "neg_log_loss"],
                                         refit="accuracy").fit(X, y)
    for name in ("accuracy", "neg_log_loss"):
        np.testing.assert_array_equal(search.cv_results_[f"mean_test_{name}"][:2], -1.0)

    with pytest.raises(RuntimeError, match="boom"):
        BatchedGridSearchCV(estimator, grid, cv=3, error_score="raise").fit(X, y)
    # When every point fails, the search raises with the error, as GridSearchCV does.
    with pytest.raises(ValueError, match="(?s)All the 6 fits failed.*boom"):
        BatchedGridSearchCV(estimator, grid[0], cv=3).fit(X, y)


def test_an_invalid_optimizer_is_fitted_alone(binary, fit_together_calls):
    X, y = binary
    estimator = LogisticRegression(max_iter=5, random_state=0)
    # Three SGDs without buffers; the third is invalid (Nesterov momentum of 0).
    grid = {"solver": [SGD(learning_rate=0.1), SGD(learning_rate=0.01),
                       SGD(learning_rate=0.01, nesterov=True)]}
    with pytest.warns(FitFailedWarning, match="nesterov"):
        batched, reference = _searches(estimator, grid, X, y, cv=3)
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 2
    assert fit_together_calls == [2, 2, 2]
    scores = batched.cv_results_["mean_test_score"]
    assert np.isfinite(scores[:2]).all() and np.isnan(scores[2])
    with pytest.raises(ValueError, match="nesterov"):
        BatchedGridSearchCV(estimator, grid, cv=3, error_score="raise").fit(X, y)


def test_an_unknown_parameter_raises_as_in_grid_search(binary):
    X, y = binary
    estimator = LogisticRegression(max_iter=5, random_state=0)
    grid = {"alpha": [0.0, 1e-3], "no_such_parameter": [1]}
    with pytest.raises(ValueError, match="no_such_parameter"):
        GridSearchCV(estimator, grid, cv=2).fit(X, y)
    with pytest.raises(ValueError, match="no_such_parameter"):
        BatchedGridSearchCV(estimator, grid, cv=2).fit(X, y)


@pytest.mark.parametrize("estimator", ESTIMATORS[:2], ids=lambda e: type(e).__name__)
def test_same_results_as_randomized_search(estimator, binary, fit_together_calls):
    X, y = binary
    space = {"solver__learning_rate": loguniform(1e-4, 1e-1),
             "solver__beta_1": uniform(0.5, 0.45), "alpha": [0.0, 1e-4]}
    batched, reference = _searches(estimator, space, X, y, randomized=True, n_iter=5, cv=3,
                                   random_state=0)
    _assert_same_search(batched, reference)
    assert batched.n_groups_ == 1
    assert fit_together_calls == [5, 5, 5]
    np.testing.assert_array_equal(batched.best_estimator_.predict(X),
                                  reference.best_estimator_.predict(X))


def test_randomized_search_groups_what_it_draws(binary):
    X, y = binary
    estimator = MLPClassifier(solver="adam", max_iter=4, random_state=0)
    space = [{"hidden_layer_sizes": [(4,), (6,)], "solver__learning_rate": [0.01, 0.003]},
             {"solver": [SGD(learning_rate=0.01, momentum=0.9)]}]
    batched, reference = _searches(estimator, space, X, y, randomized=True, n_iter=4,
                                   cv=2, random_state=1)
    _assert_same_search(batched, reference)
    # Drawn: a learning rate on (6,), two on (4,), and the SGD (on the default (100,)).
    params = batched.cv_results_["params"]
    assert [point.get("hidden_layer_sizes") for point in params] == [(6,), (4,), None, (4,)]
    assert batched.n_groups_ == 3
