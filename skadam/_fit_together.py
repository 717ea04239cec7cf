"""Several estimators of one configuration fitted in one training loop, as a batched
search fits its grid points."""

from sklearn.callback import with_callbacks

from ._callbacks import EpochCallbacks
from ._interrupt import InterruptGuard
from ._loop import train


def fit_together(estimators, X, y, sample_weight=None):
    """Fit ``estimators`` on ``(X, y)`` as each one's ``fit`` would, in one training loop.

    The estimators differ at most in ``alpha`` and the solver's hyperparameters (not
    its class or buffers), so the first one's preparation (validation, encoding, split,
    initial weights, shuffling) is every one's, and their runs train as one stack: each
    minibatch is read once for all of them, each optimizer steps its own row, and each
    run stops where it would stop alone, with the same parameters bit for bit.

    Parameters
    ----------
    estimators : list of BaseAdamEstimator
        Estimators of one class whose parameters differ at most in ``alpha`` and the
        solver's hyperparameters, with an integer or RandomState ``random_state``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    estimators : list of BaseAdamEstimator
        The same estimators, fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from skadam import LogisticRegression
    >>> from skadam.optim import Adam
    >>> from skadam._fit_together import fit_together
    >>> X, y = load_iris(return_X_y=True)
    >>> models = [LogisticRegression(solver=Adam(learning_rate=rate), max_iter=20,
    ...                              random_state=0) for rate in (0.1, 0.01)]
    >>> alone = LogisticRegression(solver=Adam(learning_rate=0.01), max_iter=20,
    ...                            random_state=0).fit(X, y)
    >>> fitted = fit_together(models, X, y)
    >>> bool(np.array_equal(fitted[1].coef_, alone.coef_))
    True
    """
    _with_callbacks_of(estimators[0], list(estimators[1:]),
                       lambda: _fit_together(estimators, X, y, sample_weight))
    return estimators


def _fit_together(estimators, X, y, sample_weight):
    leader, *followers = estimators
    run, fit = leader._prepare_fit(X, y, sample_weight, None, None, None, incremental=False,
                                   classes=None)
    runs = [run]
    for estimator in followers:
        estimator._validate_params()
        # The leader's description of the data is every estimator's; its initial run
        # is every run's start.
        for name in leader._DATA_ATTRIBUTES:
            if name in leader.__dict__:
                setattr(estimator, name, getattr(leader, name))
        runs.append(run.fork(estimator._resolve_solver(),
                             averaging=bool(estimator._averaging_epochs())))
    # Each run reports its epochs to its own estimator's callbacks, as a fit alone does.
    callbacks = [EpochCallbacks(estimator, estimator.max_iter, X, y, sample_weight)
                 for estimator in estimators]
    for estimator, run, hooks in zip(estimators, runs, callbacks, strict=True):
        estimator._run = estimator._for_call(run, hooks, X, incremental=False)
    try:
        with InterruptGuard() as interrupt:
            train(runs, fit, leader.max_iter, incremental=False, interrupt=interrupt)
    finally:
        for run in runs:
            run.end_call()
    for hooks in callbacks:
        hooks.fit_ends()


@with_callbacks
def _with_callbacks_of(estimator, others, body):
    """Run ``body`` with the callbacks of every estimator of ``[estimator, *others]`` set
    up and, whatever happens, torn down, as each one's own ``fit`` would."""
    if others:
        return _with_callbacks_of(others[0], others[1:], body)
    return body()
