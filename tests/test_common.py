"""scikit-learn's full estimator conformance suite on every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.optim import SGD

ESTIMATORS = [
    LinearRegression(),
    LogisticRegression(),
    MLPRegressor(),
    MLPClassifier(),
    LinearRegression(solver=SGD(momentum=0.9)),
    LogisticRegression(solver=SGD(momentum=0.9)),
    MLPRegressor(solver=SGD(momentum=0.9)),
    MLPClassifier(solver=SGD(momentum=0.9)),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
