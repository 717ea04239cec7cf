"""Small data sets shared by the estimator tests."""

import warnings

import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam import _threads


@pytest.fixture(scope="session")
def digits():
    """Standardised digits, 10 classes, a stratified split of 1,200 / 597."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=1200, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


@pytest.fixture(scope="session")
def binary():
    """A 300 x 8 binary problem."""
    return make_classification(n_samples=300, n_features=8, n_informative=5, random_state=0)


@pytest.fixture(scope="session")
def regression():
    """A 300 x 6 regression problem with two targets on a large scale."""
    X, Y = make_regression(n_samples=300, n_features=6, n_targets=2, noise=5.0,
                           random_state=0)
    return X, 1000.0 + 50.0 * Y


@pytest.fixture(params=["parts as the rule cuts them", "one part per core"])
def stack_layout(request, monkeypatch):
    """Train every stack as the loop's rule cuts it, and again cut into one part per core.

    The small networks of the tests are all below the rule's threshold, so they would
    train on one thread only: the second layout runs the same test through the parts'
    copies, hand-backs and drops, on machines with more than one core.
    """
    if request.param == "one part per core":
        monkeypatch.setattr(_threads, "MIN_WORK_PER_PART", 1)
    return request.param


@pytest.fixture
def quiet():
    """No ConvergenceWarning from the fits of a test whose budget is short on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
