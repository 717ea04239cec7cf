"""alpha="auto": the L2 penalty that grows with the inputs and shrinks with the rows."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skadam import MLPClassifier, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV


def _expected(n_features, n_samples):
    # The documented rule, written out: 0.1 * d / n, within [1e-4, 1e-2].
    return min(1e-2, max(1e-4, 0.1 * n_features / n_samples))


def _small(model):
    return model.set_params(hidden_layer_sizes=(8,), numeric_embedding=None, max_iter=4,
                            random_state=0)


@pytest.fixture(autouse=True)
def _few_epochs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("n_samples, n_features", [(300, 6), (40, 30), (5000, 2)],
                         ids=["within", "clipped above", "clipped below"])
def test_auto_trains_as_the_explicit_penalty_it_stands_for(n_samples, n_features):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, n_features))
    y = X @ rng.normal(size=n_features) + rng.normal(size=n_samples)
    auto = _small(MLPRegressor(ensemble_size=1)).fit(X, y)
    assert auto.alpha_ == pytest.approx(_expected(n_features, n_samples), rel=1e-12)
    explicit = _small(MLPRegressor(ensemble_size=1, alpha=auto.alpha_)).fit(X, y)
    assert explicit.alpha_ == auto.alpha_
    np.testing.assert_array_equal(auto.predict(X), explicit.predict(X))
    assert auto.loss_curve_ == explicit.loss_curve_


def test_the_regressor_defaults_to_auto_and_the_classifier_to_1e_3(regression, binary):
    assert MLPRegressor().alpha == "auto"
    assert MLPClassifier().alpha == 1e-3
    X, Y = regression
    assert _small(MLPRegressor()).fit(X, Y[:, 0]).alpha_ == _expected(X.shape[1], len(X))
    X, y = binary
    assert _small(MLPClassifier()).fit(X, y).alpha_ == 1e-3
    assert _small(MLPClassifier(alpha="auto")).fit(X, y).alpha_ == _expected(X.shape[1],
                                                                              len(X))


def test_partial_fit_keeps_the_fitted_penalty_and_starts_a_stream_at_1e_3(regression):
    X, Y = regression
    y = Y[:, 0]
    fitted = _small(MLPRegressor()).fit(X, y)
    # Later chunks of other sizes do not change the objective the model was fitted for.
    fitted.partial_fit(X[:50], y[:50])
    assert fitted.alpha_ == _expected(X.shape[1], len(X))
    stream = _small(MLPRegressor()).partial_fit(X[:50], y[:50])
    reference = _small(MLPRegressor(alpha=1e-3)).partial_fit(X[:50], y[:50])
    assert stream.alpha_ == 1e-3
    np.testing.assert_array_equal(stream.predict(X), reference.predict(X))
    # A pickled model goes on with its penalty too.
    assert pickle.loads(pickle.dumps(fitted)).alpha_ == fitted.alpha_


def test_a_fit_that_raises_leaves_the_penalty_as_it_was(regression):
    X, Y = regression
    model = _small(MLPRegressor(warm_start=True)).fit(X, Y[:, 0])
    before = model.alpha_
    with pytest.raises(ValueError):
        model.fit(X[:20, :3], Y[:20, 0])  # other columns: warm_start cannot go on
    assert model.alpha_ == before


def test_a_batched_search_resolves_auto_as_each_fit_alone(regression):
    X, Y = regression
    model = _small(MLPRegressor(ensemble_size=1))
    grid = {"alpha": ["auto", 1e-3]}
    batched = BatchedGridSearchCV(clone(model), grid, cv=2).fit(X, Y[:, 0])
    reference = GridSearchCV(clone(model), grid, cv=2).fit(X, Y[:, 0])
    np.testing.assert_array_equal(batched.cv_results_["mean_test_score"],
                                  reference.cv_results_["mean_test_score"])
    assert batched.n_groups_ == 1
