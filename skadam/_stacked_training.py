"""Fitting K configurations of one estimator together: the epochs of a batched search.

The configurations differ only in the optimizer's hyperparameters and ``alpha``, so
they share everything a fit prepares: the validated and encoded data, the validation
split, the initial weights and the shuffling. :func:`fit_stacked` prepares the first
configuration as its own ``fit`` would, gives every other one the same start, and trains
all of them in one pass over each minibatch (see :mod:`skadam._stacked_network`).

Each configuration keeps its own bookkeeping through :func:`~skadam._training.record_epoch`,
the function the single-model loop uses, so it stops at the epoch where it would stop
alone, with its own best weights; a run whose loss or gradient turns non-finite leaves
the stack at that batch, as it would stop alone. What remains of the stack goes on.
"""

import copy
import time

import numpy as np

from ._kernels import add_scaled
from ._stacked_network import StackedNetwork
from ._training import (
    _shuffled_blocks,
    check_final_weights,
    epoch_objective,
    keep_best_weights,
    record_divergence,
    record_epoch,
    state_is_finite,
    untrainable_data_error,
    warn_max_iter,
)
from .optim._stacked import StackedStates, stacked_step


class Member:
    """One configuration in a stacked fit: what :func:`record_epoch` reads of a run.

    Parameters
    ----------
    estimator : BaseAdamEstimator
        The configuration's estimator, fitted in place.
    optimizer : Optimizer
        Its resolved solver.
    run : TrainingRun
        The run prepared for the first configuration, whose data, network, loss and
        validation every member shares.
    """

    def __init__(self, estimator, optimizer, run):
        self.estimator = estimator
        self.optimizer = optimizer
        self.alpha = float(estimator.alpha)
        self.network, self.loss = run.network, run.loss
        self.data, self.validation = run.data, run.validation
        self.params = None  # this member's row of the stack while it trains
        self.state = None


def fit_stacked(estimators, X, y, sample_weight=None):
    """Fit ``estimators`` on ``(X, y)`` as each one's ``fit`` would, in one training loop.

    Parameters
    ----------
    estimators : list of BaseAdamEstimator
        Unfitted estimators of one class whose parameters differ at most in ``alpha``
        and the solver's hyperparameters (not its class or buffers), with an integer or
        RandomState ``random_state``.
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
    >>> from sklearn.datasets import load_iris
    >>> from skadam import LogisticRegression
    >>> from skadam.optim import Adam
    >>> from skadam._stacked_training import fit_stacked
    >>> X, y = load_iris(return_X_y=True)
    >>> models = [LogisticRegression(solver=Adam(learning_rate=rate), max_iter=20,
    ...                              random_state=0) for rate in (0.1, 0.01)]
    >>> alone = LogisticRegression(solver=Adam(learning_rate=0.01), max_iter=20,
    ...                            random_state=0).fit(X, y)
    >>> fitted = fit_stacked(models, X, y)
    >>> bool((fitted[1].predict_proba(X) - alone.predict_proba(X)).max() < 1e-9)
    True
    """
    leader = estimators[0]
    run = leader._prepare_fit(X, y, sample_weight, None, None, None, incremental=False,
                              classes=None)
    prepared = {key: value for key, value in leader.__dict__.items()
                if key not in leader.get_params(deep=False)}
    members = []
    for estimator in estimators:
        if estimator is not leader:
            # Lists (the history) are per model; arrays such as classes_ are shared.
            estimator.__dict__.update({
                key: list(value) if isinstance(value, list) else value
                for key, value in prepared.items()
            })
            estimator._random_state = copy.deepcopy(leader._random_state)
            estimator.optimizer_ = estimator._resolve_solver()
        member = Member(estimator, estimator.optimizer_, run)
        member.state = member.optimizer.init_state(run.params,
                                                   n_decayed=run.network.layout.n_weights)
        members.append(member)
    rng = copy.deepcopy(run.rng) if run.rng is not None else None
    stack = _Stack(members, np.tile(run.params, (len(members), 1)), None, run.batch_size)
    for _ in range(leader.max_iter):
        started = time.perf_counter()
        stack.totals.fill(0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            stack = _run_stacked_epoch(stack, run, rng)
        seconds = time.perf_counter() - started
        objectives = [epoch_objective(member, stack.totals[row] / run.data.n_samples)
                      for row, member in enumerate(stack.members)]
        overflowed = [np.isfinite(objective) and not state_is_finite(member.state)
                      for objective, member in zip(objectives, stack.members, strict=True)]
        diverged = [row for row, objective in enumerate(objectives)
                    if overflowed[row] or not np.isfinite(objective)]
        for row in diverged:
            member = stack.members[row]
            record_divergence(member.estimator, stack.params[row],
                              stack.restore_points[row], member.state, stacklevel=2,
                              state_overflow=overflowed[row])
        stopped = [
            row for row, member in enumerate(stack.members)
            if row in diverged or record_epoch(member.estimator, member, objectives[row],
                                               seconds)
        ]
        stack = _finish(stack, stopped, rng, run, diverged=diverged)
        if not stack.members:
            break
    for member in stack.members:
        warn_max_iter(member.estimator, leader.max_iter, stacklevel=2)
    _finish(stack, range(len(stack.members)), rng, run)
    return estimators


class _Stack:
    """The members still training, their parameters, gradients and states as rows."""

    def __init__(self, members, params, stacked_states, n_rows):
        self.members = members
        self.params = params
        self.grad = np.zeros_like(params)
        # Each row's last weights known to give a finite loss (see run_epoch).
        self.restore_points = params.copy()
        self.totals = np.zeros(len(members))  # each row's weighted loss sum this epoch
        self.alphas = np.array([member.alpha for member in members])
        self.n_rows = n_rows
        if not members:
            return
        self.states = stacked_states or StackedStates([member.state for member in members])
        self.network = StackedNetwork(members[0].network, params, self.grad, n_rows)
        for row, member in enumerate(members):
            member.params = params[row]
            member.estimator._params = member.params
            member.estimator.optimizer_state_ = member.state = self.states.states[row]

    def keep(self, rows):
        """A stack of ``rows`` only, in new buffers."""
        rows = list(rows)
        states = self.states.select(rows) if rows else None
        kept = _Stack([self.members[row] for row in rows], self.params[rows], states,
                      self.n_rows)
        kept.restore_points = self.restore_points[rows]
        kept.totals = self.totals[rows]
        return kept


def _finish(stack, rows, rng, run, diverged=()):
    """End the runs of ``rows``: own buffers, sound and best weights, the rng a fit leaves.

    As after a fit alone, the final weights of a run that did not diverge are checked
    (:func:`~skadam._training.check_final_weights`) before the best ones are restored.
    """
    rows = set(rows)
    if not rows:
        return stack
    for row in rows:
        member = stack.members[row]
        estimator = member.estimator
        estimator._params = stack.params[row].copy()
        member.params = estimator._params
        if row not in diverged:
            member.batch_size = run.batch_size
            member.work = member.network.workspace(member.params, None, run.batch_size,
                                                   member.params.dtype)
            check_final_weights(estimator, member, stack.restore_points[row], stacklevel=2)
        keep_best_weights(estimator, member)
        if rng is not None:
            estimator._random_state = copy.deepcopy(rng)
    return stack.keep([row for row in range(len(stack.members)) if row not in rows])


def _run_stacked_epoch(stack, run, rng):
    """One pass over the data for every run of ``stack``; return the stack that remains."""
    batch_size = run.batch_size
    rows_done = 0
    for X, Y, weight in _shuffled_blocks(run.data, batch_size, rng):
        rows_done += X.shape[0]
        for start in range(0, X.shape[0], batch_size):
            stop = min(start + batch_size, X.shape[0])
            batch = (X[start:stop], Y[start:stop], None if weight is None else weight[start:stop])
            last = rows_done == run.data.n_samples and stop == X.shape[0]
            while stack.members:
                bad_rows = _train_batch(stack, run.loss, *batch, last=last)
                if not bad_rows.size:
                    break
                # A batch is all or nothing: the runs it spoilt stop as they would alone,
                # and the others take it again without them.
                for row in bad_rows:
                    member = stack.members[row]
                    if member.state.t == 0:  # a fit alone raises here: nothing trained
                        raise untrainable_data_error(member.estimator, run.data.X)
                    record_divergence(member.estimator, stack.params[row],
                                      stack.restore_points[row], member.state, stacklevel=2)
                stack = _finish(stack, bad_rows, rng, run, diverged=set(bad_rows.tolist()))
            if not stack.members:
                return stack
    return stack


def _train_batch(stack, loss, X, Y, weight, last):
    """One minibatch step of every run; or, if some runs' loss or gradient is not finite,
    nothing at all and those rows. Before the epoch's ``last`` step, the weights become
    the restore points, as in run_epoch."""
    n_rows = X.shape[0]
    network = stack.network
    raw = network.forward(X)
    delta = network.output_delta(n_rows)
    losses = network.per_run(loss.loss_and_gradient(raw, network.targets(Y), delta))
    if weight is None:
        batch_totals = losses.sum(axis=1)  # row by row: a run alone's summation
        delta *= 1.0 / n_rows
    else:
        batch_totals = losses @ weight
        network.scale_delta(delta, weight / n_rows)
    bad_rows = np.flatnonzero(~np.isfinite(batch_totals))
    if bad_rows.size:
        return bad_rows
    network.backward(X, delta)
    n_weights = network.network.layout.n_weights
    if stack.alphas.all():
        # alpha * W, then the sum: the same two roundings as add_scaled for a run alone.
        stack.grad[:, :n_weights] += stack.alphas[:, np.newaxis] * stack.params[:, :n_weights]
    else:
        for row in np.flatnonzero(stack.alphas):
            add_scaled(stack.grad[row, :n_weights], stack.params[row, :n_weights],
                       stack.alphas[row])
    if last:
        np.copyto(stack.restore_points, stack.params)
    optimizers = [member.optimizer for member in stack.members]
    bad_rows = stacked_step(optimizers, stack.params, stack.grad, stack.states)
    if not bad_rows.size:
        stack.totals += batch_totals
    return bad_rows

