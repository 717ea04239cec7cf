"""The main job: skadam against scikit-learn, streaming with early stopping, a grid search
over Adam, the optimizers."""

import time
import warnings

import numpy as np
import sklearn.linear_model as sk_linear
import sklearn.neural_network as sk_neural
from sklearn.base import is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .linear_model import LinearRegression, LogisticRegression
from .neural_network import MLPClassifier, MLPRegressor
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop

MLP_PAIRS = [
    (MLPClassifier, sk_neural.MLPClassifier, load_breast_cancer),
    (MLPClassifier, sk_neural.MLPClassifier, load_digits),
    (MLPRegressor, sk_neural.MLPRegressor, load_diabetes),
]
LINEAR_PAIRS = [
    (LinearRegression, sk_linear.LinearRegression, load_diabetes),
    (LogisticRegression, sk_linear.LogisticRegression, load_breast_cancer),
    (LogisticRegression, sk_linear.LogisticRegression, load_digits),
]


def compare_with_sklearn(pairs=MLP_PAIRS, n_splits=5):
    """Cross-validate each skadam estimator and its scikit-learn namesake, both with defaults.

    Parameters
    ----------
    pairs : list of (skadam class, scikit-learn class, loader), default=MLP_PAIRS
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


def stream_with_early_stopping(chunk_size=200, n_passes=100, n_iter_no_change=20):
    """Train on digits as a stream of chunks with ``partial_fit``, stopping early.

    skadam's :class:`MLPClassifier` scores held-out data after every chunk and stops
    once ``n_iter_no_change`` chunks in a row bring no progress, with the best weights
    restored; scikit-learn's ``partial_fit`` has no early stopping, so its model takes
    every chunk of the ``n_passes`` passes. Both at their defaults otherwise.

    Parameters
    ----------
    chunk_size : int, default=200
        Rows per ``partial_fit`` call.
    n_passes : int, default=100
        Passes over the stream at most.
    n_iter_no_change : int, default=20
        skadam's patience, in chunks: longer than a fit's in epochs, since the score
        after one chunk (200 of the 1,078 training rows) is noisier than after an epoch.

    Returns
    -------
    report : dict
        ``n_chunks`` (in all passes), skadam's ``calls`` (until its patience ran out),
        its ``patience``,
        each library's held-out ``accuracy`` and ``seconds``, as dicts keyed by
        ``"skadam"`` and ``"sklearn"``.

    Examples
    --------
    >>> from skadam._demo import stream_with_early_stopping
    >>> report = stream_with_early_stopping(chunk_size=200, n_passes=2)
    >>> report["calls"] <= report["n_chunks"], sorted(report["accuracy"])
    (True, ['skadam', 'sklearn'])
    """
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.2,
                                                      random_state=0, stratify=y_train)
    starts = range(0, len(y_train), chunk_size)
    chunks = [(X_train[i:i + chunk_size], y_train[i:i + chunk_size])
              for _ in range(n_passes) for i in starts]
    classes = np.unique(y)
    ours = MLPClassifier(early_stopping=True, n_iter_no_change=n_iter_no_change,
                         random_state=0)
    theirs = sk_neural.MLPClassifier(random_state=0)
    seconds, calls = {}, 0
    start = time.perf_counter()
    for X_chunk, y_chunk in chunks:
        ours.partial_fit(X_chunk, y_chunk, classes=classes, X_val=X_val, y_val=y_val)
        calls += 1
        if ours.patience_exhausted_:
            break
    seconds["skadam"] = time.perf_counter() - start
    start = time.perf_counter()
    for X_chunk, y_chunk in chunks:
        theirs.partial_fit(X_chunk, y_chunk, classes=classes)
    seconds["sklearn"] = time.perf_counter() - start
    return {
        "n_chunks": len(chunks), "calls": calls, "patience": n_iter_no_change,
        "accuracy": {"skadam": ours.score(X_test, y_test),
                     "sklearn": theirs.score(X_test, y_test)},
        "seconds": seconds,
    }


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
        ``(optimizer, train log-loss, seconds, curve)`` per optimizer, ``curve`` the
        training log-loss before the first epoch and after each.

    Examples
    --------
    >>> from skadam._demo import compare_optimizers
    >>> rows = compare_optimizers(n_epochs=2)
    >>> [name for name, *_ in rows][:2]
    ['Adam()', 'Adam(amsgrad=True)']
    >>> all(loss < 0.6 and len(curve) == 3 for _, loss, _, curve in rows)  # from log(2)
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
        curve = [_logistic_loss_and_grad(params, X, y)[0]]
        seconds = 0.0
        for order in orders:
            start = time.perf_counter()
            for batch in np.array_split(order, max(1, len(order) // batch_size)):
                optimizer.step(params, _logistic_loss_and_grad(params, X[batch], y[batch])[1],
                               state)
            seconds += time.perf_counter() - start
            curve.append(_logistic_loss_and_grad(params, X, y)[0])
        rows.append((repr(optimizer), curve[-1], seconds, curve))
    return rows


GRID = {
    "logisticregression__solver__beta_1": [0.5, 0.9, 0.99],
    "logisticregression__solver__beta_2": [0.9, 0.99, 0.999],
    "logisticregression__solver__learning_rate": [0.1, 0.01, 0.001],
}


def grid_search(grid=GRID, max_iter=50, cv=3):
    """Tune Adam's β1, β2 and η for logistic regression on digits, batched and not.

    Runs :class:`~skadam.model_selection.BatchedGridSearchCV` and scikit-learn's
    ``GridSearchCV`` on the same standardising pipeline and folds.

    Parameters
    ----------
    grid : dict, default=GRID
        The grid, 27 points by default, as parameters of the pipeline.
    max_iter : int, default=50
        Epochs at most per fit.
    cv : int, default=3
        Folds.

    Returns
    -------
    report : dict
        ``best_params``, ``best_score``, ``test_score`` (of the refitted best model on a
        held-out quarter), ``n_points``, ``batched_seconds``, ``grid_seconds``, and
        ``max_score_difference`` between the two searches' mean test scores.

    Examples
    --------
    >>> from skadam._demo import grid_search
    >>> report = grid_search({"logisticregression__solver__learning_rate": [0.1, 0.01]},
    ...                      max_iter=5)
    >>> report["n_points"], report["max_score_difference"] < 1e-6
    (2, True)
    """
    from .model_selection import BatchedGridSearchCV

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(solver=Adam(), max_iter=max_iter,
                                                               random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        batched = BatchedGridSearchCV(model, grid, cv=cv).fit(X_train, y_train)
        batched_seconds = time.perf_counter() - start
        start = time.perf_counter()
        reference = GridSearchCV(model, grid, cv=cv).fit(X_train, y_train)
        grid_seconds = time.perf_counter() - start
    difference = np.abs(batched.cv_results_["mean_test_score"]
                        - reference.cv_results_["mean_test_score"]).max()
    return {
        "best_params": {key.split("__")[-1]: value
                        for key, value in batched.best_params_.items()},
        "best_score": batched.best_score_,
        "test_score": batched.score(X_test, y_test),
        "n_points": len(batched.cv_results_["params"]),
        "batched_seconds": batched_seconds,
        "grid_seconds": grid_seconds,
        "max_score_difference": float(difference),
    }


def plot_loss_curves(rows, path):
    """Draw the optimizers' training loss per epoch side by side into ``path``.

    Parameters
    ----------
    rows : list of tuple
        What :func:`compare_optimizers` returns.
    path : str
        The image file to write (its extension picks the format, e.g. ``.png``).

    Examples
    --------
    >>> import os, tempfile
    >>> from skadam._demo import compare_optimizers, plot_loss_curves
    >>> path = os.path.join(tempfile.mkdtemp(), "curves.png")
    >>> plot_loss_curves(compare_optimizers(n_epochs=2), path)
    >>> os.path.getsize(path) > 0
    True
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "--plot needs matplotlib: pip install matplotlib (or the docs extra, "
            'pip install -e ".[docs]").'
        ) from error
    n_columns = min(4, len(rows))
    n_rows = -(-len(rows) // n_columns)
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(2.6 * n_columns, 2.4 * n_rows),
                                sharex=True, sharey=True, layout="constrained", squeeze=False)
    for ax, (name, _, _, curve) in zip(axes.flat, rows, strict=False):
        ax.plot(range(len(curve)), curve, marker="o", markersize=3)
        ax.set_title(name.replace(", ", ",\n"), fontsize=8)
        ax.set_yscale("log")
        ax.tick_params(which="both", labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("epoch", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("training log-loss", fontsize=8)
    figure.suptitle("Logistic regression on breast cancer, same batches: one panel per "
                    "optimizer", fontsize=9)
    figure.savefig(path, dpi=150)
    plt.close(figure)
