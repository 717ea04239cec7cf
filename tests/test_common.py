"""scikit-learn's full estimator conformance suite on every estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV
from skadam.optim import SGD, Adam

ESTIMATORS = [
    LinearRegression(),
    LogisticRegression(),
    MLPRegressor(),
    MLPClassifier(),
    LinearRegression(solver=SGD(momentum=0.9)),
    LogisticRegression(solver=SGD(momentum=0.9)),
    MLPRegressor(solver=SGD(momentum=0.9)),
    MLPClassifier(solver=SGD(momentum=0.9)),
    BatchedGridSearchCV(LogisticRegression(solver=Adam(learning_rate=0.01), max_iter=30),
                        {"solver__beta_1": [0.5, 0.9], "alpha": [0.0, 1e-3]}, cv=2),
    BatchedGridSearchCV(LinearRegression(solver=Adam(learning_rate=0.01), max_iter=200),
                        {"solver__beta_1": [0.5, 0.9]}, cv=2),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
