"""Past one machine with dask.distributed: searches through joblib, streaming by dask-ml.

The cluster runs in this process, on 127.0.0.1, and stops with the module's tests.
"""

import warnings

import dask.array as da
import joblib
import numpy as np
import pytest
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skadam import LogisticRegression, MLPClassifier
from skadam.model_selection import BatchedGridSearchCV
from skadam.optim import Adam


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


@pytest.mark.parametrize("search_class", [GridSearchCV, BatchedGridSearchCV])
def test_search_on_a_cluster_equals_the_local_search(search_class, client, binary):
    X, y = binary
    estimator = LogisticRegression(solver=Adam(), max_iter=5, random_state=0)
    grid = {"solver__learning_rate": [0.1, 0.01], "alpha": [0.0, 1e-3],
            "batch_size": [50, 100]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = search_class(estimator, grid, cv=3).fit(X, y)
        with joblib.parallel_backend("dask"):
            remote = search_class(estimator, grid, cv=3, n_jobs=-1).fit(X, y)
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.best_estimator_._params, local.best_estimator_._params)
    # The work did run on the cluster's worker.
    assert client.run(lambda: True)


def test_incremental_streams_a_dask_array_through_partial_fit(client, binary):
    X, y = binary
    chunk = 60
    X_dask = da.from_array(X, chunks=(chunk, X.shape[1]))
    y_dask = da.from_array(y, chunks=chunk)
    model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    # In the order of the chunks, as the loop below.
    streamed = Incremental(model, scoring="accuracy", shuffle_blocks=False).fit(
        X_dask, y_dask, classes=[0, 1])

    alone = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, len(y), chunk):
        alone.partial_fit(X[start:start + chunk], y[start:start + chunk], classes=[0, 1])
    assert streamed.estimator_.n_iter_ == alone.n_iter_ == -(-len(y) // chunk)
    np.testing.assert_array_equal(streamed.estimator_._params, alone._params)
    assert streamed.score(X_dask, y_dask) == pytest.approx(alone.score(X, y))


def test_incremental_passes_validation_data_to_every_call(client, binary):
    X, y = binary
    X_dask = da.from_array(X[:240], chunks=(60, X.shape[1]))
    y_dask = da.from_array(y[:240], chunks=60)
    model = Incremental(MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True,
                                      random_state=0), shuffle_blocks=False)
    model.fit(X_dask, y_dask, classes=[0, 1], X_val=X[240:], y_val=y[240:])
    assert len(model.estimator_.validation_scores_) == 4
    assert model.estimator_.best_validation_score_ == max(model.estimator_.validation_scores_)
