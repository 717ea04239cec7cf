"""Tabular data as users bring it: pandas frames, sparse CSR, float32, routed sample weights."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV
from skadam.optim import Adam

ESTIMATORS = [
    LogisticRegression(max_iter=5, random_state=0),
    MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
    LinearRegression(max_iter=5, random_state=0),
    MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _frame(estimator, binary):
    X, y = binary
    frame = pd.DataFrame(X, columns=[f"feature_{i}" for i in range(X.shape[1])])
    if isinstance(estimator, (LinearRegression, MLPRegressor)):
        y = X[:, 0] + 2 * X[:, 1]
    return frame, pd.Series(y, name="target")


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_data_frames_in(estimator, binary):
    frame, target = _frame(estimator, binary)
    model = clone(estimator).fit(frame, target)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    array_model = clone(estimator).fit(frame.to_numpy(), target.to_numpy())
    np.testing.assert_array_equal(model.predict(frame), array_model.predict(frame.to_numpy()))

    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame[frame.columns[::-1]])
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame.rename(columns={"feature_0": "renamed"}))
    with pytest.warns(UserWarning, match="was fitted with feature names"):
        model.predict(frame.to_numpy())


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sparse_and_float32_in(estimator, binary):
    frame, target = _frame(estimator, binary)
    X, y = frame.to_numpy(), target.to_numpy()
    dense = clone(estimator).fit(X, y)
    sparse = clone(estimator).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-9)
    single = clone(estimator).fit(X.astype(np.float32), y)
    assert single._params.dtype == np.float32
    if hasattr(single, "predict_proba"):
        assert single.predict_proba(X.astype(np.float32)).dtype == np.float32
    else:
        assert single.predict(X.astype(np.float32)).dtype == np.float32


def test_search_keeps_feature_names(binary):
    frame, target = _frame(ESTIMATORS[0], binary)
    search = BatchedGridSearchCV(LogisticRegression(solver=Adam(), max_iter=5, random_state=0),
                                 {"solver__learning_rate": [0.1, 0.01]}, cv=2)
    search.fit(frame, target)
    np.testing.assert_array_equal(search.feature_names_in_, frame.columns)


@pytest.mark.parametrize("search_class", [GridSearchCV, BatchedGridSearchCV])
def test_sample_weight_routed_through_pipeline_and_search(search_class, binary):
    X, y = binary
    weights = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    grid = {"logisticregression__solver__learning_rate": [0.1, 0.01]}
    with sklearn.config_context(enable_metadata_routing=True):
        model = LogisticRegression(solver=Adam(), max_iter=5, random_state=0)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                             model.set_fit_request(sample_weight=True))
        # Weighted in fit only, as the search by hand below.
        scorer = get_scorer("accuracy").set_score_request(sample_weight=False)
        routed = search_class(pipe, grid, cv=2, scoring=scorer).fit(X, y,
                                                                   sample_weight=weights)
        unweighted = search_class(pipe, grid, cv=2, scoring=scorer).fit(X, y)
    # The same weights given to the model by hand give the same search.
    by_hand = search_class(
        make_pipeline(StandardScaler(), LogisticRegression(solver=Adam(), max_iter=5,
                                                           random_state=0)), grid, cv=2,
        scoring="accuracy").fit(X, y, logisticregression__sample_weight=weights)
    np.testing.assert_allclose(routed.cv_results_["mean_test_score"],
                               by_hand.cv_results_["mean_test_score"], atol=1e-12)
    np.testing.assert_allclose(routed.best_estimator_.predict_proba(X),
                               by_hand.best_estimator_.predict_proba(X), rtol=1e-12)
    assert not np.allclose(routed.best_estimator_.predict_proba(X),
                           unweighted.best_estimator_.predict_proba(X))
