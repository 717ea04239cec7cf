"""scikit-learn's full estimator conformance suite on every estimator."""

from scipy.stats import loguniform
from sklearn.utils.estimator_checks import parametrize_with_checks

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV, BatchedRandomizedSearchCV
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
    MLPRegressor(ensemble_size=3),
    MLPRegressor(loss="huber"),
    MLPClassifier(ensemble_size=3),
    BatchedGridSearchCV(LogisticRegression(solver=Adam(learning_rate=0.01), max_iter=30),
                        {"solver__beta_1": [0.5, 0.9], "alpha": [0.0, 1e-3]}, cv=2),
    BatchedGridSearchCV(LinearRegression(solver=Adam(learning_rate=0.01), max_iter=200),
                        {"solver__beta_1": [0.5, 0.9]}, cv=2),
    BatchedRandomizedSearchCV(LogisticRegression(solver=Adam(), max_iter=30),
                              {"solver__learning_rate": loguniform(1e-3, 1e-1),
                               "alpha": [0.0, 1e-3]}, n_iter=3, cv=2, random_state=0),
    BatchedRandomizedSearchCV(LinearRegression(solver=Adam(), max_iter=200),
                              {"solver__learning_rate": loguniform(1e-3, 1e-1)}, n_iter=2,
                              cv=2, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
