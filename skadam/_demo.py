"""The main job's two comparisons: skadam against scikit-learn, and the optimizers."""

import time
import warnings

import numpy as np
import sklearn.linear_model as sk_linear
import sklearn.neural_network as sk_neural
from sklearn.base import is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .linear_model import LinearRegression, LogisticRegression
from .neural_network import MLPClassifier, MLPRegressor
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop

PAIRS = [
    (LinearRegression, sk_linear.LinearRegression, load_diabetes),
    (MLPRegressor, sk_neural.MLPRegressor, load_diabetes),
    (LogisticRegression, sk_linear.LogisticRegression, load_breast_cancer),
    (LogisticRegression, sk_linear.LogisticRegression, load_digits),
    (MLPClassifier, sk_neural.MLPClassifier, load_breast_cancer),
    (MLPClassifier, sk_neural.MLPClassifier, load_digits),
]


def compare_with_sklearn(pairs=PAIRS, n_splits=5):
    """Cross-validate each skadam estimator and its scikit-learn namesake, both with defaults.

    Parameters
    ----------
    pairs : list of (skadam class, scikit-learn class, loader), default=PAIRS
        The estimators and the bundled data set to compare them on.
    n_splits : int, default=5
        Folds of the cross-validation (shuffled, stratified for classifiers).

    Returns
    -------
    rows : list of tuple
        ``(estimator, data set, metric, skadam score, sklearn score, skadam seconds,
        sklearn seconds)``, scores averaged over the folds.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression as Reference
    >>> from skadam import LogisticRegression
    >>> from skadam._demo import compare_with_sklearn
    >>> [row] = compare_with_sklearn([(LogisticRegression, Reference, load_breast_cancer)])
    >>> row[:3], bool(row[3] > 0.95)
    (('LogisticRegression', 'breast_cancer', 'accuracy'), True)
    """
    rows = []
    for ours, theirs, load in pairs:
        X, y = load(return_X_y=True)
        classifier = is_classifier(ours())
        cv = (StratifiedKFold if classifier else KFold)(n_splits, shuffle=True, random_state=0)
        results = []
        for estimator in (ours(random_state=0), theirs()):
            if "random_state" in estimator.get_params():
                estimator.set_params(random_state=0)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                score = cross_val_score(make_pipeline(StandardScaler(), estimator), X, y, cv=cv)
            results.append((score.mean(), time.perf_counter() - start))
        (ours_score, ours_time), (their_score, their_time) = results
        rows.append((ours.__name__, load.__name__.removeprefix("load_"),
                     "accuracy" if classifier else "r2", ours_score, their_score, ours_time,
                     their_time))
    return rows


def _logistic_loss_and_grad(params, X, y):
    """Mean log-loss of a linear model with intercept, and its gradient."""
    raw = X @ params[:-1] + params[-1]
    signed = np.where(y == 1, raw, -raw)
    loss = np.mean(np.logaddexp(0.0, -signed))
    residual = (1.0 / (1.0 + np.exp(-raw)) - y) / X.shape[0]
    grad = np.empty_like(params)
    grad[:-1] = X.T @ residual
    grad[-1] = residual.sum()
    return loss, grad


def compare_optimizers(n_epochs=10, batch_size=32, random_state=0):
    """Train a logistic model with every optimizer on the same batches.

    Uses the optimizers directly (``init_state`` and ``step``) on the standardised
    breast-cancer data, with the same initial weights and batch order for all.

    Parameters
    ----------
    n_epochs : int, default=10
        Passes over the training set.
    batch_size : int, default=32
        Samples per update.
    random_state : int, default=0
        Seed of the initial weights and the batch order.

    Returns
    -------
    rows : list of tuple
        ``(optimizer, train log-loss, seconds)`` per optimizer.

    Examples
    --------
    >>> from skadam._demo import compare_optimizers
    >>> rows = compare_optimizers(n_epochs=2)
    >>> [name for name, *_ in rows][:2]
    ['Adam()', 'Adam(amsgrad=True)']
    >>> all(loss < 0.6 for _, loss, _ in rows)  # from log(2) = 0.69
    True
    """
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(random_state)
    initial = rng.normal(scale=0.01, size=X.shape[1] + 1)
    orders = [rng.permutation(len(y)) for _ in range(n_epochs)]
    optimizers = [
        Adam(), Adam(amsgrad=True), Adam(learning_rate=0.01), AdamW(learning_rate=0.01),
        SGD(learning_rate=0.05, momentum=0.9),
        SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        RMSprop(learning_rate=0.01), Adagrad(learning_rate=0.1),
    ]
    rows = []
    for optimizer in optimizers:
        params = initial.copy()
        state = optimizer.init_state(params, n_decayed=X.shape[1])
        start = time.perf_counter()
        for order in orders:
            for batch in np.array_split(order, max(1, len(order) // batch_size)):
                optimizer.step(params, _logistic_loss_and_grad(params, X[batch], y[batch])[1],
                               state)
        seconds = time.perf_counter() - start
        rows.append((repr(optimizer), _logistic_loss_and_grad(params, X, y)[0], seconds))
    return rows
