"""Linear models on columns far from standardised: the warning, and why it is needed
(against the least-squares solution and a StandardScaler in front)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression as Exact
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import LinearRegression, LogisticRegression
from skadam._feature_scale import MAX_ABS_MEAN, MAX_STD, badly_scaled_columns


def _house_prices(n=2000, seed=0):
    """A price around 2.7e5 from columns in the thousands and a year: the exact solution
    reaches R² about 0.85."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 3))
    X = np.column_stack([1500 + 400 * Z[:, 0], 2000 + 15 * Z[:, 1], Z[:, 2]])
    y = 2.7e5 + 4e4 * (Z @ np.array([1.0, 0.5, -0.3])) + 2e4 * rng.normal(size=n)
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_linear_model_on_columns_far_from_standardised_says_so():
    """On unscaled columns Adam stops short of the least-squares fit (here far short),
    where a StandardScaler reaches it: the user is told which columns and what to do,
    at their own call; scaled data, or 0/1 columns, get no warning."""
    X, y = _house_prices()
    exact = r2_score(y, Exact().fit(X, y).predict(X))
    with pytest.warns(UserWarning, match=r"2 column\(s\) of X are far from standardised: "
                                         r"column 0 \(mean 1\.\d+e\+03.*column 1 \(mean 2e\+03"
                                         r".*make_pipeline\(StandardScaler\(\), "
                                         r"LinearRegression\(\)\)") as caught:
        raw = LinearRegression(random_state=0).fit(X, y)
    assert caught[0].filename == __file__
    assert r2_score(y, raw.predict(X)) < exact - 0.05  # what the warning is about
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaled = make_pipeline(StandardScaler(), LinearRegression(random_state=0)).fit(X, y)
        assert r2_score(y, scaled.predict(X)) > exact - 0.005
        onehot = (np.random.default_rng(1).random((200, 4)) < 0.02).astype(float)
        LogisticRegression(max_iter=3).fit(onehot, np.arange(200) % 2)
    assert not [w for w in caught if "standardised" in str(w.message)]
    frame = pd.DataFrame(X, columns=["sqft", "year", "rooms"])
    with pytest.warns(UserWarning, match=r"'sqft' \(mean .*'year' \(mean"):
        LogisticRegression(max_iter=3).fit(frame, y > y.mean())


def test_the_columns_found_are_those_beyond_the_bounds_dense_or_sparse():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    X[:, 1] += 2 * MAX_ABS_MEAN
    X[:, 3] *= 2 * MAX_STD
    X[:, 4] = rng.random(500) < 0.01  # a rare one-hot column: fine
    for data in (X, sp.csr_matrix(X)):
        columns, means, stds = badly_scaled_columns(data)
        assert columns.tolist() == [1, 3]
        np.testing.assert_allclose(means, X[:, [1, 3]].mean(axis=0))
        np.testing.assert_allclose(stds, X[:, [1, 3]].std(axis=0))
