"""The four estimators as a scikit-learn user meets them: scores, attributes, methods,
pipelines and grid searches, and every optimizer with every estimator."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk_linear
import sklearn.neural_network as sk_neural
from _states import optimizer_states, step_counts
from sklearn.base import clone, is_classifier
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    GridSearchCV,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.optim import SGD, Adagrad, Adam, AdamW, RMSprop

# (skadam estimator, its scikit-learn counterpart, data sets)
COUNTERPARTS = [
    (LinearRegression, sk_linear.LinearRegression, [load_diabetes]),
    (MLPRegressor, sk_neural.MLPRegressor, [load_diabetes]),
    (LogisticRegression, sk_linear.LogisticRegression,
     [load_breast_cancer, load_wine, load_iris, load_digits]),
    (MLPClassifier, sk_neural.MLPClassifier,
     [load_breast_cancer, load_wine, load_iris, load_digits]),
]


@pytest.mark.parametrize(
    "ours, theirs, load",
    [(ours, theirs, load) for ours, theirs, loads in COUNTERPARTS for load in loads],
    ids=lambda x: getattr(x, "__name__", ""),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_defaults_score_at_least_as_well_as_sklearn(ours, theirs, load):
    X, y = load(return_X_y=True)
    # Repeated folds on the small sets, so that one lucky split decides nothing.
    splitter = RepeatedStratifiedKFold if is_classifier(ours()) else RepeatedKFold
    cv = splitter(n_splits=5, n_repeats=1 if len(y) > 1000 else 3, random_state=0)
    scores = {}
    for name, estimator in (("skadam", ours(random_state=0)), ("sklearn", theirs())):
        if "random_state" in estimator.get_params():
            estimator.set_params(random_state=0)
        pipeline = make_pipeline(StandardScaler(), estimator)
        scores[name] = cross_val_score(pipeline, X, y, cv=cv)
    # "At least as well" up to noise: the mean of the paired per-fold differences may
    # fall short of zero by two standard errors, or by one sample of the data set.
    difference = scores["skadam"] - scores["sklearn"]
    standard_error = difference.std(ddof=1) / np.sqrt(len(difference))
    slack = max(2 * standard_error, 1 / len(y) if is_classifier(ours()) else 0.0)
    assert difference.mean() >= -slack, {k: v.mean() for k, v in scores.items()}


ESTIMATORS = [LinearRegression(), LogisticRegression(), MLPRegressor(hidden_layer_sizes=(8,)),
              MLPClassifier(hidden_layer_sizes=(8,))]


def _data(estimator, binary, regression):
    if is_classifier(estimator):
        return binary
    X, Y = regression
    return X, Y[:, 0]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_grid_search_over_adam_hyperparameters_in_a_pipeline(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    solver = Adam()
    pipeline = make_pipeline(
        StandardScaler(), clone(estimator).set_params(solver=solver, max_iter=5,
                                                      random_state=0)
    )
    name = pipeline.steps[-1][0]
    grid = {
        f"{name}__solver__beta_1": [0.5, 0.9],
        f"{name}__solver__beta_2": [0.9, 0.999],
        f"{name}__solver__learning_rate": [1e-3, 1e-1],
    }
    # A continuous score, so that any change of the model shows in the results.
    scoring = "neg_log_loss" if is_classifier(estimator) else "r2"
    search = GridSearchCV(pipeline, grid, cv=3, scoring=scoring).fit(X, y)
    assert solver.get_params() == Adam().get_params()  # the user's object is untouched
    scores = search.cv_results_["mean_test_score"]
    assert len(set(np.round(scores, 12))) == 8  # every setting changes the result
    best = search.best_estimator_.steps[-1][1]
    assert best.optimizer_.learning_rate == search.best_params_[f"{name}__solver__learning_rate"]
    assert best.optimizer_ is not best.solver


OPTIMIZERS = [Adam(learning_rate=0.01), Adam(learning_rate=0.01, amsgrad=True),
              AdamW(learning_rate=0.01), SGD(learning_rate=0.01, momentum=0.9),
              SGD(learning_rate=0.01, momentum=0.9, nesterov=True), SGD(learning_rate=0.05),
              RMSprop(learning_rate=0.003), Adagrad(learning_rate=0.1)]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_optimizer_trains_every_estimator(estimator, optimizer, binary, regression):
    X, y = _data(estimator, binary, regression)
    X = StandardScaler().fit_transform(X)
    model = clone(estimator).set_params(solver=optimizer, max_iter=40, batch_size=20,
                                        random_state=0)
    model.fit(X[:200], y[:200])
    assert type(model.optimizer_) is type(optimizer)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.score(X[200:], y[200:]) > (0.8 if is_classifier(model) else 0.7)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fitted_attributes_are_views_that_survive_pickle_and_deepcopy(
    estimator, binary, regression
):
    X, y = _data(estimator, binary, regression)
    model = clone(estimator).set_params(max_iter=3).fit(X, y)
    names = ["coefs_", "intercepts_"] if hasattr(model, "coefs_") else ["coef_", "intercept_"]
    for restored in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(restored.predict(X), model.predict(X))
        for name in names:
            if name == "coefs_" or isinstance(model, LogisticRegression):
                arrays = getattr(restored, name)
                arrays = arrays if isinstance(arrays, list) else [arrays]
                if name == "coefs_" and restored.scaling_layer:
                    # The first layer's weights times their input scales: a new array.
                    np.testing.assert_array_equal(arrays[0], model.coefs_[0])
                    arrays = arrays[1:]
                assert all(np.shares_memory(a, restored._params) for a in arrays)
                assert not any(np.shares_memory(a, model._params) for a in arrays)
        assert restored.loss_curve_ == model.loss_curve_
        assert step_counts(restored) == step_counts(model)


def test_linear_regression_coefficients_are_in_the_units_of_y(regression):
    X, Y = regression
    model = LinearRegression(random_state=0).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), X @ model.coef_.T + model.intercept_,
                               rtol=1e-10)
    ols = sk_linear.LinearRegression().fit(X, Y)
    np.testing.assert_allclose(model.coef_, ols.coef_, atol=0.01 * np.abs(ols.coef_).max())
    single = LinearRegression(random_state=0).fit(X, Y[:, 0])
    assert single.coef_.shape == (6,) and isinstance(single.intercept_, float)


@pytest.mark.parametrize("loss", ["huber", "poisson"])
def test_linear_regression_losses(loss):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    coef = np.array([0.5, -0.3, 0.2])
    if loss == "poisson":
        y = rng.poisson(np.exp(X @ coef + 1.0))
        model = LinearRegression(loss="poisson", random_state=0).fit(X, y)
        reference = sk_linear.PoissonRegressor(alpha=0).fit(X, y)
    else:
        y = X @ coef * 10 + rng.standard_normal(500)
        y[:25] += 200  # outliers the Huber loss shrugs off
        model = LinearRegression(loss="huber", epsilon=1.35, random_state=0).fit(X, y)
        reference = sk_linear.HuberRegressor(alpha=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0.1, atol=0.05)
    assert np.all(model.predict(X) > 0) or loss == "huber"


def test_mlp_regressor_with_huber_loss_shrugs_off_outlying_targets():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 3))
    line = X @ np.array([0.5, -0.3, 0.2]) * 10
    y = line + rng.standard_normal(600)
    y[:30] += 200  # outliers that pull a squared error's fit up by about 10
    X_test = rng.standard_normal((200, 3))
    truth = X_test @ np.array([0.5, -0.3, 0.2]) * 10
    huber_line = sk_linear.HuberRegressor(alpha=0).fit(X, y).predict(X_test)
    settings = dict(hidden_layer_sizes=(16,), numeric_embedding=None, early_stopping=False,
                    max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        huber = MLPRegressor(loss="huber", epsilon=1.35, **settings).fit(X, y)
        squared = MLPRegressor(**settings).fit(X, y)
    assert np.abs(huber.predict(X_test) - huber_line).mean() < 0.5
    assert np.abs(huber.predict(X_test) - truth).mean() < 0.5
    assert np.abs(squared.predict(X_test) - truth).mean() > 5.0


def test_classifier_methods_agree(binary, digits):
    for X, y in (binary, digits[:2]):
        model = LogisticRegression(max_iter=20, random_state=0).fit(X, y)
        proba = model.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_allclose(np.log(proba), model.predict_log_proba(X), rtol=1e-10)
        np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))
        decision = model.decision_function(X)
        np.testing.assert_allclose(decision, X @ model.coef_.T.squeeze() + model.intercept_
                                   if decision.ndim == 1 else X @ model.coef_.T +
                                   model.intercept_, rtol=1e-10)


def test_string_labels_and_class_weight(binary):
    X, y = binary
    labels = np.array(["no", "yes"])[y]
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    assert set(model.fit(X, labels).predict(X)) <= {"no", "yes"}
    weighted = clone(model).set_params(class_weight={"no": 1.0, "yes": 5.0}).fit(X, labels)
    by_sample = clone(model).fit(X, labels, sample_weight=np.where(y == 1, 5.0, 1.0))
    np.testing.assert_array_equal(weighted._params, by_sample._params)
    assert (weighted.predict(X) == "yes").mean() > (model.predict(X) == "yes").mean()


def test_multilabel_classification():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5]).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(16,), batch_size=32, max_iter=100,
                          random_state=0).fit(X, Y)
    assert model.predict(X).shape == (400, 3)
    assert model.predict_proba(X).shape == (400, 3)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert (model.predict(X) == Y).mean() > 0.9
    with pytest.raises(ValueError, match="1-D y"):
        LogisticRegression().fit(X, Y)


def test_multi_output_regression_scales_outputs_alike(regression):
    X, Y = regression
    model = MLPRegressor(hidden_layer_sizes=(16,), batch_size=32, max_iter=100,
                         random_state=0).fit(X, Y)
    assert model.predict(X).shape == Y.shape and model.score(X, Y) > 0.9
    # Both targets weigh the same in the loss whatever their units.
    rescaled = clone(model).fit(X, Y * np.array([1.0, 1000.0]))
    np.testing.assert_allclose(rescaled.predict(X) / np.array([1.0, 1000.0]),
                               model.predict(X), rtol=1e-6)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sparse_input_gives_the_dense_result(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    X = np.where(np.abs(X) > 1, X, 0.0)
    dense = clone(estimator).set_params(max_iter=5, random_state=0).fit(X, y)
    sparse = clone(estimator).set_params(max_iter=5, random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse._params, dense._params, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-9)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_float32_trains_in_float32(estimator, binary, regression):
    X, y = _data(estimator, binary, regression)
    model = clone(estimator).set_params(max_iter=5, random_state=0)
    model.fit(X.astype(np.float32), y)
    assert model._params.dtype == np.float32
    assert all(state.m.dtype == np.float32 for state in optimizer_states(model))
    reference = clone(model).fit(X, y)
    np.testing.assert_allclose(model._params, reference._params, rtol=1e-3, atol=1e-3)


def test_set_params_on_a_solver_given_by_name():
    model = LogisticRegression()
    model.set_params(solver__learning_rate=0.1, solver__beta_1=0.8)
    assert model.solver.get_params() == Adam(learning_rate=0.1, beta_1=0.8).get_params()
    model.set_params(solver="sgd", solver__momentum=0.9)
    assert model.solver.get_params() == SGD(learning_rate=0.01, momentum=0.9).get_params()
    model = MLPClassifier(solver="adamw").set_params(solver__weight_decay=0.1)
    assert model.solver.get_params() == AdamW(weight_decay=0.1).get_params()
    with pytest.raises(ValueError, match="beta_9"):
        MLPClassifier().set_params(solver__beta_9=0.5)


def test_solver_names_start_at_the_estimators_learning_rates(binary):
    # The optimizer keeps Kingma and Ba's 0.001; the MLPs' "adam" starts at 0.003, their
    # other solvers at their optimizers' defaults; the linear models start every solver
    # at 0.01.
    X, y = binary
    assert Adam().learning_rate == 1e-3
    for cls in (MLPClassifier, MLPRegressor):
        assert cls().set_params(solver__beta_1=0.8).solver.learning_rate == 3e-3
        assert cls(solver="sgd").set_params(solver__momentum=0.9).solver.learning_rate == (
            SGD().learning_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(X, y)
        assert model.optimizer_.learning_rate == 3e-3
        for cls in (LinearRegression, LogisticRegression):
            for name in ("adam", "rmsprop", "adagrad"):
                fitted = cls(solver=name, max_iter=1).fit(X, y)
                assert fitted.optimizer_.learning_rate == 0.01


@pytest.mark.parametrize("estimator", [LogisticRegression(max_iter=30),
                                       MLPClassifier(hidden_layer_sizes=(16,), max_iter=60)],
                         ids=lambda e: type(e).__name__)
def test_label_smoothing_keeps_predicted_probabilities_away_from_0_and_1(estimator, digits):
    # Trained towards (1 - e) onehot + e / 10, the classes' probabilities cannot all
    # reach 1 or 0 on the training data; without smoothing they come much closer.
    X, y, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = clone(estimator).set_params(random_state=0).fit(X, y)
        smoothed = clone(estimator).set_params(random_state=0, label_smoothing=0.2).fit(X, y)
    top_plain = plain.predict_proba(X).max(axis=1)
    top_smoothed = smoothed.predict_proba(X).max(axis=1)
    assert np.median(top_smoothed) < np.median(top_plain)
    # The optimum of the smoothed objective puts 1 - e + e / 10 = 0.82 on the true class.
    assert np.median(top_smoothed) < 0.85
    assert smoothed.score(X, y) > 0.85
