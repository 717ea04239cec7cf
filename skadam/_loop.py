"""The training loop: epochs of minibatch steps over a stack of K runs, then bookkeeping.

Every fit trains a stack: ``fit`` and ``partial_fit`` one run, a batched search one run
per grid point. The runs read the same minibatches; each has its own parameters (a row
of the stack), optimizer and state, L2 penalty and :class:`~skadam._history.History`.
An epoch shuffles by one permutation, walks contiguous batches (forward, loss gradient,
backward, L2 penalty, optimizer step, each for the whole stack in one call), and ends
with each run's bookkeeping: its objective, validation score, best weights and
patience. A run that stops, diverges or runs out of patience leaves the stack; the
others go on. What a fit guarantees (Ctrl-C between minibatches, callbacks, divergence
going back to sound weights, early stopping) holds for every run of any stack because
it is this one loop.
"""

import copy
import time
from contextlib import contextmanager, nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from ._data import shuffled_blocks
from ._interrupt import NoGuard, TrainingInterrupted
from ._kernels import add_scaled, all_finite
from ._model import Dropout
from ._threads import N_THREADS, cores_taken, thread_pool
from ._warnings import warn
from .optim._stacked import StackedStates, step_rows

NO_GUARD = NoGuard()


class Run:
    """One run of a stack: the model it trains and everything that is its own.

    Parameters
    ----------
    estimator : BaseAdamEstimator
        The estimator whose fitted attributes the run's buffers and history are.
    params : ndarray of shape (n_params,)
        Its parameters, trained in place (a stack of one trains this very buffer).
    optimizer : Optimizer
        Its resolved solver.
    state : OptimizerState
        Its optimizer state.
    history : History
        Its history, continued by this call.
    alpha : float
        Its L2 penalty.
    callbacks : EpochCallbacks or None
        scikit-learn's callback hooks of its fit.
    dropout_rng : numpy.random.Generator or None
        Its own stream of dropout masks, when the network drops units.
    """

    def __init__(self, estimator, params, optimizer, state, history, alpha, callbacks=None,
                 dropout_rng=None):
        self.estimator = estimator
        self.dropout_rng = dropout_rng
        self.params = params
        self.optimizer, self.state = optimizer, state
        self.history = history
        self.alpha = float(alpha)
        self.callbacks = callbacks
        self.steps_before = state.t

    def bind(self, params):
        """Make ``params`` (a row of a stack) this run's and its estimator's buffer."""
        self.params = params
        self.estimator._params = params


class Fit:
    """What the runs of a stack share: the network, loss, data and how to batch them.

    Parameters
    ----------
    network : Network
        The shape and activation every run has.
    loss : Loss
        The loss every run minimises.
    data : TrainingData
        The training data of the call.
    validation : Validation or None
        The monitored held-out data.
    batch_size : int
        Rows per minibatch (at most the number of samples).
    rng : RandomState or None
        The shuffling stream, None for no shuffling.
    dropout : float, default=0.0
        The probability of dropping a hidden unit in training.
    """

    def __init__(self, network, loss, data, validation, batch_size, rng, dropout=0.0):
        self.network, self.loss = network, loss
        self.data, self.validation = data, validation
        self.batch_size = min(batch_size, data.n_samples)
        self.rng = rng
        self.dropout = dropout


class _Stack:
    """The runs still training, with their parameters, gradients and states as rows."""

    def __init__(self, runs, fit):
        self.runs = runs
        if len(runs) == 1:
            self.params = runs[0].params[np.newaxis]  # the run's own buffer: no copy
        else:
            self.params = np.stack([run.params for run in runs])
            for row, run in enumerate(runs):
                run.bind(self.params[row])
        self.grad = np.zeros_like(self.params)
        # Each row's last weights known to give a finite loss (see _train_batch).
        self.restore_points = self.params.copy()
        self.states = StackedStates([run.state for run in runs])
        self.optimizers = [run.optimizer for run in runs]
        self.alphas = np.array([run.alpha for run in runs])
        self.penalised = bool(self.alphas.any())
        self.per_epoch = _counts_epochs(run.optimizer for run in runs)
        self.totals = np.zeros(len(runs))  # each run's weighted loss sum this epoch
        self._buffers(fit)

    def _buffers(self, fit):
        n_weights = fit.network.layout.n_weights
        # Weights come first in every row: the L2 penalty acts on one leading slice.
        self.weights, self.grad_weights = self.params[:, :n_weights], self.grad[:, :n_weights]
        self.work = fit.network.workspace(self.params, self.grad, fit.batch_size)
        self.dropout = None if not fit.dropout else Dropout(
            fit.dropout, [run.dropout_rng for run in self.runs],
            fit.network.layout.layer_sizes[1:-1], fit.batch_size, self.params.dtype)

    def drop(self, rows, fit):
        """Take the runs of ``rows`` out of the stack; they get buffers of their own."""
        leaving = set(rows)
        kept = [row for row in range(len(self.runs)) if row not in leaving]
        for row in leaving:
            self.runs[row].bind(self.params[row].copy())
        if not kept:
            for row in leaving:
                self.states.states[row].detach()
            self.runs = []
            return
        self.states = self.states.select(kept)
        self.runs = [self.runs[row] for row in kept]
        self.params = self.params[kept]
        for row, run in enumerate(self.runs):
            run.bind(self.params[row])
        self.grad = np.zeros_like(self.params)
        self.restore_points = self.restore_points[kept]
        self.optimizers = [run.optimizer for run in self.runs]
        self.per_epoch = _counts_epochs(self.optimizers)
        self.alphas = self.alphas[kept]
        self.penalised = bool(self.alphas.any())
        self.totals = self.totals[kept]
        self._buffers(fit)


def _counts_epochs(optimizers):
    """Whether some optimizer's learning rate is a schedule counted in epochs."""
    return any(getattr(optimizer.learning_rate, "per_epoch", False)
               for optimizer in optimizers)


def train(runs, fit, n_epochs, *, incremental, interrupt=NO_GUARD):
    """Run up to ``n_epochs`` epochs of every run of ``runs`` on the minibatches of ``fit``.

    Each run's history records its epochs. A run stops after exactly
    ``n_iter_no_change`` epochs in a row without an improvement greater than ``tol`` of
    its monitored quantity (its validation score when ``fit`` has validation data, else
    its training objective) unless ``incremental``, where the caller decides; with
    early stopping it then goes back to its best weights. A run whose loss, gradient or
    optimizer state becomes non-finite goes back to the last weights known to give a
    finite loss and stops, with a warning; a run that could not take a single step
    raises. ``interrupt`` (an :class:`~skadam._interrupt.InterruptGuard`) is checked
    before every minibatch; Ctrl-C leaves every run at its last completed step.

    Threads: a stack of one run leaves BLAS its own threading, as any fit. A stack of
    several is cut into one part per core, whose runs train on their own thread with
    single-threaded BLAS: each run makes the products it makes alone (small ones, for
    which BLAS would use one thread anyway), and the cores work on different runs
    instead of contending for each product.
    """
    for run in runs:
        run.history.begin_call(validating=fit.validation is not None, incremental=incremental)
    parts = [_Stack(group, fit) for group in _split(list(runs))]
    with _on_every_core() if len(parts) > 1 else nullcontext():
        for _ in range(n_epochs):
            started = time.perf_counter()
            for run in _runs_of(parts):
                if run.callbacks is not None:
                    run.callbacks.epoch_begins()
            try:
                # Overflow is detected below and reported with advice; numpy's own
                # warnings about it would only repeat that less helpfully.
                with np.errstate(over="ignore", invalid="ignore"):
                    parts = _run_epoch(parts, fit, interrupt)
            except TrainingInterrupted:
                for part in parts:
                    for run in part.runs:
                        if run.callbacks is not None:
                            run.callbacks.epoch_ends(run.params)
                    _finish(part, range(len(part.runs)), fit, check=False)
                raise
            seconds = time.perf_counter() - started
            for part in parts:
                _end_epoch(part, fit, seconds)
            parts = [part for part in parts if part.runs]
            if not parts:
                break
        else:
            if not incremental:
                for run in _runs_of(parts):
                    warn_max_iter(run.estimator, n_epochs)
    for part in parts:
        _finish(part, range(len(part.runs)), fit, check=True)
    for run in runs:
        if not incremental and fit.validation is not None and run.estimator.early_stopping:
            if run.history.best_params is not None:
                np.copyto(run.params, run.history.best_params)


@contextmanager
def _on_every_core():
    with threadpool_limits(1, user_api="blas"), cores_taken():
        yield


def _split(runs):
    """Consecutive groups of runs, one per thread (a single group on one core)."""
    n_parts = min(N_THREADS, len(runs))
    bounds = np.linspace(0, len(runs), n_parts + 1).round().astype(int)
    return [runs[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def _runs_of(parts):
    return [run for part in parts for run in part.runs]


def _run_epoch(parts, fit, interrupt):
    """One pass over the data for every run of ``parts``; return the parts that remain.

    The parts train on the same blocks of shuffled rows, each on its own thread; what
    their runs' divergence asks of the caller (warnings, callbacks) is done here, in
    the caller's thread.
    """
    for part in parts:
        part.totals.fill(0.0)
    rows_done = 0
    pool = thread_pool() if len(parts) > 1 else None
    for block in shuffled_blocks(fit.data, fit.batch_size, fit.rng):
        rows_before = rows_done
        rows_done += block[0].shape[0]
        last_block = rows_done == fit.data.n_samples
        arguments = (fit, block, rows_before, last_block, interrupt)
        futures = [pool.submit(_train_block, part, *arguments) for part in parts[1:]]
        try:
            first = _train_block(parts[0], *arguments)
        finally:
            # Every part finishes its block before anything goes on, errors included.
            results = [future.result() for future in futures]
        results.insert(0, first)
        parts_before, parts = parts, []
        for part, divergences in zip(parts_before, results, strict=True):
            for divergence in divergences:
                divergence.report()
            if part.runs:
                parts.append(part)
        if not parts:
            break
    return parts


def _train_block(stack, fit, block, rows_before, last_block, interrupt):
    """Train ``stack`` on the minibatches of one block; return its divergences.

    A minibatch is all or nothing: when some runs' loss or gradient is not finite, no
    run steps; those runs go back to their restore points and leave, and the others
    take the batch again without them.
    """
    X, Y, weight = block
    divergences = []
    for start in range(0, X.shape[0], fit.batch_size):
        interrupt.check()
        stop = min(start + fit.batch_size, X.shape[0])
        batch = (X[start:stop], Y[start:stop], None if weight is None else weight[start:stop])
        last = last_block and stop == X.shape[0]
        if stack.per_epoch:
            # The progress this update completes, for schedules counted in epochs.
            fraction = (rows_before + stop) / fit.data.n_samples
            for run, state in zip(stack.runs, stack.states.states, strict=True):
                state.epoch = run.history.n_iter + fraction
        while stack.runs:
            bad_rows = _train_batch(stack, fit, *batch, last=last)
            if not bad_rows.size:
                break
            divergences += [_restore(stack, row, fit) for row in bad_rows]
            _finish(stack, bad_rows, fit, check=False)
        if not stack.runs:
            break
    return divergences


def _train_batch(stack, fit, X, Y, weight, last):
    """One minibatch step of every run; or, if some runs' loss or gradient is not finite,
    nothing at all and those rows. Before the epoch's ``last`` step, the weights become
    the restore points: sound weights, unlike the ones that step leaves, which the next
    epoch's first minibatch may find diverged."""
    n_rows = X.shape[0]
    network, work = fit.network, stack.work
    raw = network.forward(work, X, stack.dropout)
    delta = work.deltas(n_rows)[-1]
    losses = fit.loss.loss_and_gradient(raw, Y, delta)
    if weight is None:
        batch_totals = losses.sum(axis=1)
        delta *= 1.0 / n_rows
    else:
        # One dot product per run, the same for every run of any stack.
        batch_totals = np.matmul(losses[:, np.newaxis, :], weight)[:, 0]
        delta *= (weight / n_rows)[:, np.newaxis]
    network.backward(work, X, delta, stack.dropout)
    if stack.penalised:
        # A fused loop, with no temporary. Not scipy's BLAS axpy: its thread pool,
        # distinct from numpy's, would spin on the cores numpy's next product needs.
        add_scaled(stack.grad_weights, stack.weights, stack.alphas)
    if not (all_finite(batch_totals) and all_finite(stack.grad)):
        return np.array([row for row in range(len(stack.runs))
                         if not (np.isfinite(batch_totals[row]) and all_finite(stack.grad[row]))])
    if last:
        np.copyto(stack.restore_points, stack.params)
    step_rows(stack.optimizers, stack.params, stack.grad, stack.states)
    stack.totals += batch_totals
    return _NO_ROWS


_NO_ROWS = np.array([], dtype=np.int64)


def _end_epoch(stack, fit, seconds):
    """Each run's bookkeeping after an epoch; the runs that stop leave the stack."""
    n_samples = fit.data.n_samples
    objectives = [epoch_objective(run, total / n_samples)
                  for run, total in zip(stack.runs, stack.totals, strict=True)]
    diverged = []
    for row, (run, objective) in enumerate(zip(stack.runs, objectives, strict=True)):
        overflowed = np.isfinite(objective) and not state_is_finite(run.state)
        if overflowed or not np.isfinite(objective):
            diverged.append(row)
            _restore(stack, row, fit, state_overflow=overflowed).report()
    objectives = [objective for row, objective in enumerate(objectives) if row not in diverged]
    _finish(stack, diverged, fit, check=False)
    scores = [None] * len(stack.runs)
    if fit.validation is not None and stack.runs:
        scores = fit.validation.scores(stack.runs, fit.network, fit.loss, stack.params)
    leaving = []
    for row, (run, objective, score) in enumerate(zip(stack.runs, objectives, scores,
                                                      strict=True)):
        estimator = run.estimator
        stop = run.history.record(objective, n_samples, run.params, tol=estimator.tol,
                                  n_iter_no_change=estimator.n_iter_no_change, score=score)
        if estimator.verbose:
            _print_epoch(run, objective, score, seconds, stop)
        if stop and score is not None and estimator.early_stopping:
            np.copyto(run.params, run.history.best_params)
        if run.callbacks is not None:
            stop = run.callbacks.epoch_ends(run.params) or stop
        if stop:
            leaving.append(row)
    _finish(stack, leaving, fit, check=True)


def _print_epoch(run, objective, score, seconds, stopped):
    estimator = run.estimator
    message = f"Epoch {run.history.n_iter}: loss {objective:.6g}"
    if score is not None:
        message += f", validation score {score:.6g}"
    print(f"{message}, {seconds:.3f} s")
    if stopped and run.history.patience_exhausted:
        print(f"No improvement greater than tol={estimator.tol} in "
              f"{estimator.n_iter_no_change} consecutive epochs.")


def _finish(stack, rows, fit, *, check):
    """End the runs of ``rows``: the final weights checked, own buffers, the rng a run
    alone would leave; they leave the stack."""
    rows = list(rows)
    if not rows:
        return
    if check:
        _check_final_weights(stack, rows, fit)
    if fit.rng is not None:
        for row in rows:
            # The stream as the run alone would leave it; others of the stack may go on.
            stack.runs[row].estimator._random_state = copy.deepcopy(fit.rng)
    if len(stack.runs) == 1 and stack.runs[0].params.base is None:
        stack.runs = []  # a fit's own buffers: nothing to hand over
        return
    stack.drop(rows, fit)


def _check_final_weights(stack, rows, fit):
    """Go back to sound weights where the last step of a call left ones that overflow.

    Every step is checked by the next minibatch's loss, except the last one of a call:
    its weights are checked here on the first minibatch of the data, one forward pass.
    """
    n_rows = min(fit.batch_size, fit.data.n_samples)
    X, Y = fit.data.X[:n_rows], fit.data.Y[:n_rows]
    params = stack.params[rows]
    with np.errstate(over="ignore", invalid="ignore"):
        raw = fit.network.forward(fit.network.workspace(params, None, n_rows), X)
        losses = fit.loss.per_sample(raw, Y)
    for index, row in enumerate(rows):
        if not (np.isfinite(raw[index]).all() and np.isfinite(losses[index]).all()):
            _restore(stack, row, fit, epoch=stack.runs[row].history.n_iter).report()


def _restore(stack, row, fit, *, epoch=None, state_overflow=False):
    """Stop the run of ``row``, whose loss, gradient or optimizer state became non-finite.

    Its restore point holds the last weights known to give a finite loss. The moments
    are spoilt by the exploding gradients, so the optimizer starts afresh from those
    weights. Returns the :class:`_Divergence` to report. A run that has not taken a
    single step in this call has no such weights: the call raises instead.
    """
    run, state = stack.runs[row], stack.states.states[row]
    if state.t == run.steps_before:
        raise untrainable_data_error(run.estimator, fit.data.X)
    np.copyto(run.params, stack.restore_points[row])
    state.t = 0
    for name in state.buffer_names:
        getattr(state, name).fill(0)
    epoch = run.history.n_iter + 1 if epoch is None else epoch
    return _Divergence(run, epoch, state.buffer_names if state_overflow else None)


class _Divergence:
    """A run stopped by divergence, to report in the thread of the user's call."""

    def __init__(self, run, epoch, overflowed_buffers):
        self.run, self.epoch = run, epoch
        self.overflowed_buffers = overflowed_buffers

    def report(self):
        """A ConvergenceWarning that says what went wrong and what to change."""
        run = self.run
        if self.overflowed_buffers is not None:
            # Adam's v holds squared gradients: a gradient entry beyond about 1e154
            # overflows it, and the coordinate's step becomes m / inf = 0, a silent freeze.
            what = (f"the optimizer's state ({', '.join(self.overflowed_buffers)}) "
                    f"overflowed in epoch {self.epoch}")
            advice = ("Gradients this large come from features (or targets) of huge "
                      "magnitude: scale them, for instance with StandardScaler.")
        else:
            what = f"the training loss became non-finite in epoch {self.epoch}"
            advice = ("Lower the solver's learning rate (e.g. "
                      "solver=Adam(learning_rate=1e-4)), scale the features, or raise alpha.")
        warn(f"{type(run.estimator).__name__}: {what}; training stopped, the last weights "
             f"that gave a finite loss were kept and the optimizer's state reset. {advice}",
             ConvergenceWarning)
        if run.callbacks is not None and run.callbacks.epoch is not None:
            run.callbacks.epoch_ends(run.params)


def state_is_finite(state):
    """Whether every buffer of an optimizer state holds finite values only."""
    for name in state.buffer_names:
        buffer = getattr(state, name)
        # One cheap sum is finite unless an entry is not, or the sum itself overflows.
        with np.errstate(over="ignore", invalid="ignore"):
            total = buffer.sum()
        if not np.isfinite(total) and not np.isfinite(buffer).all():
            return False
    return True


def untrainable_data_error(estimator, X):
    """The error of a call whose first minibatch already gives a non-finite loss or gradient.

    Nothing was trained, so no weights are known to be sound: the call raises and leaves
    the model as it was. The loss at weights not yet stepped does not depend on the
    learning rate, so the data are the cause.
    """
    values = X.data if sp.issparse(X) else X
    with np.errstate(over="ignore", invalid="ignore"):
        largest = float(np.max(np.abs(values))) if values.size else 0.0
    return ValueError(
        f"{type(estimator).__name__}: the training loss or its gradient is not finite at "
        "the weights this call started from, on its first minibatch, so no step could be "
        "taken and nothing was trained; the model is left as it was. The learning rate "
        f"plays no part in this: the data are too large for {X.dtype} arithmetic (the "
        f"largest |X| is {largest:.3g}). Scale the features, for instance with "
        "StandardScaler, and check the targets for huge values."
    )


def warn_max_iter(estimator, n_epochs):
    """Warn that ``fit`` used all its epochs while the monitored quantity still improved."""
    warn(f"{type(estimator).__name__}: max_iter={n_epochs} epochs reached before the "
         f"monitored quantity stopped improving (tol={estimator.tol}, n_iter_no_change="
         f"{estimator.n_iter_no_change}). Raise max_iter or the learning rate.",
         ConvergenceWarning)


def epoch_objective(run, epoch_loss):
    """The training objective of an epoch: its mean batch loss plus the L2 penalty.

    With finite weights the penalty can still overflow: the caller treats a non-finite
    objective as divergence, like a non-finite loss.
    """
    if run.alpha > 0:
        weights = run.params[: run.estimator._layout.n_weights]
        with np.errstate(over="ignore"):
            epoch_loss += 0.5 * run.alpha * float(np.dot(weights, weights))
    return float(epoch_loss)
