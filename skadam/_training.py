"""The training loop shared by every estimator: epochs of minibatch steps, then bookkeeping.

``fit`` runs up to ``max_iter`` epochs and ``partial_fit`` runs one, both through
:func:`train`. An epoch shuffles by one permuted copy of the data, walks contiguous
batches (forward, loss gradient, backward, L2 penalty, optimizer step), and is followed
by the bookkeeping of the history attributes and of early stopping.
"""

import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._interrupt import NoGuard, TrainingInterrupted
from ._kernels import add_scaled
from ._threads import thread_pool

NO_GUARD = NoGuard()


class TrainingSet:
    """Encoded training data of one call: ``X``, 2-D float targets ``Y`` and weights.

    ``sample_weight`` is rescaled to mean one (or is None for unit weights), so that the
    gradient of a batch of ``m`` rows, ``sum(weight * grad_loss) / m``, is an unbiased
    estimate of the gradient of the weighted mean loss whatever the batch size.
    """

    def __init__(self, X, Y, sample_weight):
        self.X, self.Y = X, Y
        if sample_weight is not None:
            sample_weight = sample_weight / np.mean(sample_weight)
        self.sample_weight = sample_weight
        self.n_samples = X.shape[0]


class Validation:
    """What early stopping monitors: a held-out set and how to score the model on it.

    ``score(estimator)`` is higher-is-better: the negative weighted mean validation loss
    for ``scoring="loss"``, otherwise the scorer's value on the original targets.
    """

    def __init__(self, X, y, Y, sample_weight, scorer):
        self.X, self.y, self.Y = X, y, Y
        self.sample_weight = sample_weight
        self.scorer = scorer

    def score(self, estimator, network, loss, params):
        if self.scorer is None:
            work = network.workspace(params, None, self.X.shape[0], params.dtype)
            raw = network.forward(work, self.X)
            return -float(np.average(loss.per_sample(raw, self.Y), weights=self.sample_weight))
        if self.sample_weight is None:
            return float(self.scorer(estimator, self.X, self.y))
        return float(self.scorer(estimator, self.X, self.y, sample_weight=self.sample_weight))


def run_epoch(network, work, loss, optimizer, state, params, grad, data, batch_size, alpha, rng,
              restore_point, interrupt=NO_GUARD):
    """One pass over ``data`` in minibatches; return the weighted mean batch loss.

    Returns NaN as soon as a batch loss or gradient is not finite; the caller then goes
    back to ``restore_point``, which this pass sets to the weights its last minibatch
    found a finite loss at, before the last step: weights known to be sound, unlike the
    ones that step leaves, which the next epoch's first minibatch may find diverged.
    ``rng`` is None for no shuffling. ``interrupt`` (an
    :class:`~skadam._interrupt.InterruptGuard`) is checked before every minibatch.
    """
    n_weights = network.layout.n_weights
    weights, grad_weights = params[:n_weights], grad[:n_weights]
    total = 0.0
    rows_done = 0
    for X, Y, weight in _shuffled_blocks(data, batch_size, rng):
        rows_done += X.shape[0]
        for start in range(0, X.shape[0], batch_size):
            interrupt.check()
            stop = min(start + batch_size, X.shape[0])
            X_batch, Y_batch = X[start:stop], Y[start:stop]
            raw = network.forward(work, X_batch)
            delta = work.deltas[-1][: stop - start]
            losses = loss.loss_and_gradient(raw, Y_batch, delta)
            if weight is None:
                batch_total = float(losses.sum())
                delta *= 1.0 / (stop - start)
            else:
                w = weight[start:stop]
                batch_total = float(np.dot(losses, w))
                delta *= (w / (stop - start))[:, np.newaxis]
            if not np.isfinite(batch_total):
                return np.nan
            total += batch_total
            network.backward(work, X_batch, delta)
            if alpha > 0:
                # A fused loop, with no temporary. Not scipy's BLAS axpy: its thread pool,
                # distinct from numpy's, would spin on the cores numpy's next product needs.
                add_scaled(grad_weights, weights, alpha)
            if rows_done == data.n_samples and stop == X.shape[0]:
                np.copyto(restore_point, params)
            try:
                optimizer.step(params, grad, state)
            except ValueError:
                return np.nan
    return total / data.n_samples


# Rows gathered at a time when shuffling: about 512 KiB, so the gathered block is still in
# cache when its batches are read, and the epoch needs no second copy of the data.
_BLOCK_BYTES = 2**19


def _shuffled_blocks(data, batch_size, rng):
    """Yield ``(X, Y, weight)`` blocks of whole batches, in a new random order per epoch.

    One permutation per epoch decides the order; rows are gathered block by block into
    two reused buffers, the next block by a worker thread while the current one is
    trained on. That costs one copy of the data per epoch, like a permuted copy would,
    without allocating one, and hides most of the gather's memory latency.
    """
    X, Y, weight = data.X, data.Y, data.sample_weight
    if rng is None:
        yield X, Y, weight
        return
    # The permutation rng.permutation(n) would give, in half the memory for n < 2**31.
    order = np.arange(data.n_samples, dtype=np.int32 if data.n_samples < 2**31 else np.intp)
    rng.shuffle(order)
    row_bytes = max(1, X.shape[1] * X.dtype.itemsize)
    block = min(data.n_samples, batch_size * max(1, _BLOCK_BYTES // (batch_size * row_bytes)))
    dense = not sp.issparse(X)
    buffers = [
        (np.empty((block, X.shape[1]), X.dtype) if dense else None,
         np.empty((block, *Y.shape[1:]), Y.dtype),
         None if weight is None else np.empty(block, weight.dtype))
        for _ in range(2)
    ]

    def gather(start, buffer):
        rows = order[start:start + block]
        n = rows.shape[0]
        X_buffer, Y_buffer, w_buffer = buffer
        # mode="clip" (the rows are a permutation, always in range): with the default
        # mode="raise", take fills a temporary copy of `out` and copies it over.
        X_part = np.take(X, rows, axis=0, out=X_buffer[:n], mode="clip") if dense else X[rows]
        np.take(Y, rows, axis=0, out=Y_buffer[:n], mode="clip")
        if w_buffer is not None:
            np.take(weight, rows, out=w_buffer[:n], mode="clip")
        return X_part, Y_buffer[:n], None if w_buffer is None else w_buffer[:n]

    pool = thread_pool()
    starts = range(0, data.n_samples, block)
    pending = gather(starts[0], buffers[0])
    for index in range(len(starts)):
        current = pending if index == 0 else pending.result()
        if index + 1 < len(starts):
            args = (starts[index + 1], buffers[(index + 1) % 2])
            # The other buffer is free: the block it held was trained on last time round.
            pending = pool.submit(gather, *args) if pool else _Done(gather(*args))
        yield current


class _Done:
    """A finished result with the interface of a future, for single-core machines."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class EpochCallbacks:
    """scikit-learn's callback hooks for one fit: the fit a task, each epoch a subtask.

    Parameters
    ----------
    estimator : BaseAdamEstimator
        The estimator being fitted; its callbacks (``set_callbacks``, or propagated by a
        meta-estimator) are set up here.
    n_epochs : int
        The most epochs this call may run.
    X, y, sample_weight : array-like
        The call's data, passed on to the hooks.
    """

    def __init__(self, estimator, n_epochs, X, y, sample_weight):
        self.estimator = estimator
        self.data = {"X": X, "y": y,
                     "metadata": None if sample_weight is None else
                     {"sample_weight": sample_weight}}
        self.context = estimator._init_callback_context(max_subtasks=n_epochs)
        self.context.call_on_fit_task_begin(estimator=estimator, **self.data)
        self.epoch = None

    def epoch_begins(self):
        """Open the next epoch's subtask."""
        self.epoch = self.context.subcontext(task_name="epoch")
        self.epoch.call_on_fit_task_begin(estimator=self.estimator, **self.data)

    def epoch_ends(self, params):
        """Close the epoch's subtask; return True if a callback asks to stop training."""
        estimator = self.estimator
        stop = self.epoch.call_on_fit_task_end(
            estimator=estimator, **self.data,
            # A model that predicts with the weights of this epoch's end.
            reconstruction_attributes=lambda: {"_params": params.copy()},
        )
        self.epoch = None
        return stop

    def fit_ends(self):
        """Close the fit's task."""
        self.context.call_on_fit_task_end(estimator=self.estimator, **self.data,
                                          reconstruction_attributes={})


def train(estimator, run, n_epochs, *, warn_unconverged, callbacks=None, interrupt=NO_GUARD):
    """Run up to ``n_epochs`` epochs of ``run`` and keep ``estimator``'s history.

    ``run`` is a :class:`TrainingRun` bundling the network, loss, optimizer, buffers and
    data. Updates ``n_iter_``, ``t_``, ``loss_curve_``, ``best_loss_``,
    ``validation_scores_``, ``best_validation_score_`` and ``patience_exhausted_``.
    Patience runs out after exactly ``n_iter_no_change`` epochs in a row without an
    improvement greater than ``tol`` of the monitored quantity (the validation score
    when there is validation data, else the training loss); ``fit`` stops then.
    """
    params = run.params
    restore_point = params.copy()
    steps_before = run.state.t
    for _ in range(n_epochs):
        started = time.perf_counter()
        if callbacks is not None:
            callbacks.epoch_begins()
        # Overflow is detected below and reported with advice; numpy's own warnings
        # about it would only repeat that less helpfully.
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                epoch_loss = run_epoch(
                    run.network, run.work, run.loss, run.optimizer, run.state, params,
                    run.grad, run.data, run.batch_size, run.alpha, run.rng, restore_point,
                    interrupt,
                )
        except TrainingInterrupted:
            if callbacks is not None:
                callbacks.epoch_ends(params)
            raise
        objective = epoch_objective(run, epoch_loss)
        overflowed = np.isfinite(objective) and not state_is_finite(run.state)
        if overflowed or not np.isfinite(objective):
            if run.state.t == steps_before:
                raise untrainable_data_error(estimator, run.data.X)
            record_divergence(estimator, params, restore_point, run.state,
                              state_overflow=overflowed)
            if callbacks is not None:
                callbacks.epoch_ends(params)
            return
        stop = record_epoch(estimator, run, objective, time.perf_counter() - started)
        if callbacks is not None:
            stop = callbacks.epoch_ends(params) or stop
        if stop:
            break
    else:
        if warn_unconverged:
            warn_max_iter(estimator, n_epochs)
    check_final_weights(estimator, run, restore_point)


def check_final_weights(estimator, run, restore_point, stacklevel=7):
    """Go back to sound weights if the last step of a call left ones that overflow.

    Every step is checked by the next minibatch's loss, except the last one of a call:
    its weights are checked here on the first minibatch of the data, one forward pass.
    """
    n_rows = min(run.batch_size, run.data.n_samples)
    with np.errstate(over="ignore", invalid="ignore"):
        raw = run.network.forward(run.work, run.data.X[:n_rows])
        losses = run.loss.per_sample(raw, run.data.Y[:n_rows])
        sound = np.isfinite(raw).all() and np.isfinite(losses).all()
    if not sound:
        record_divergence(estimator, run.params, restore_point, run.state,
                          stacklevel=stacklevel + 1, epoch=estimator.n_iter_)


def record_divergence(estimator, params, restore_point, state, stacklevel=7, epoch=None,
                      state_overflow=False):
    """Stop a run whose loss, gradient or optimizer state became non-finite.

    ``restore_point`` holds the last weights known to give a finite loss (see
    :func:`run_epoch`). The moments are spoilt by the exploding gradients, so the
    optimizer starts afresh from those weights; a ConvergenceWarning says what went
    wrong (``state_overflow``: the optimizer's buffers, not the loss) and what to change.
    """
    np.copyto(params, restore_point)
    _reset_state(state)
    epoch = estimator.n_iter_ + 1 if epoch is None else epoch
    name = type(estimator).__name__
    if state_overflow:
        # Adam's v holds squared gradients: a gradient entry beyond about 1e154 overflows
        # it, and the coordinate's step becomes m / inf = 0, a silent freeze.
        what = (f"the optimizer's state ({', '.join(state.buffer_names)}) overflowed in "
                f"epoch {epoch}")
        advice = ("Gradients this large come from features (or targets) of huge magnitude: "
                  "scale them, for instance with StandardScaler.")
    else:
        what = f"the training loss became non-finite in epoch {epoch}"
        advice = ("Lower the solver's learning rate (e.g. solver=Adam(learning_rate=1e-4)), "
                  "scale the features, or raise alpha.")
    warnings.warn(
        f"{name}: {what}; training stopped, the last weights that gave a finite loss were "
        f"kept and the optimizer's state reset. {advice}",
        ConvergenceWarning,
        stacklevel=stacklevel,  # the user's fit or partial_fit call
    )


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


def warn_max_iter(estimator, n_epochs, stacklevel=7):
    """Warn that ``fit`` used all its epochs while the monitored quantity still improved."""
    warnings.warn(
        f"{type(estimator).__name__}: max_iter={n_epochs} epochs reached before the "
        f"monitored quantity stopped improving (tol={estimator.tol}, n_iter_no_change="
        f"{estimator.n_iter_no_change}). Raise max_iter or the learning rate.",
        ConvergenceWarning,
        stacklevel=stacklevel,  # the user's fit or partial_fit call
    )


def keep_best_weights(estimator, run):
    """At the end of ``fit`` with early stopping: the weights of the best validation score."""
    best = getattr(estimator, "_best_params", None)
    if run.validation is not None and estimator.early_stopping and best is not None:
        np.copyto(run.params, best)


def epoch_objective(run, epoch_loss):
    """The training objective of an epoch: its mean batch loss plus the L2 penalty.

    With finite weights the penalty can still overflow: the caller treats a non-finite
    objective as divergence, like a non-finite loss.
    """
    if run.alpha > 0:
        weights = run.params[: run.network.layout.n_weights]
        with np.errstate(over="ignore"):
            epoch_loss += 0.5 * run.alpha * float(np.dot(weights, weights))
    return epoch_loss


def record_epoch(estimator, run, epoch_loss, seconds):
    """Book a finished epoch in ``estimator``'s history; return True when patience ran out.

    ``epoch_loss`` is the epoch's objective (:func:`epoch_objective`) and ``seconds`` its
    training time, for the ``verbose`` line. Scores
    the validation data if any, remembers the best weights, counts epochs without
    improvement and, when they reach ``n_iter_no_change``, sets ``patience_exhausted_``
    and (with early stopping on validation data) restores the best weights. Shared by
    every loop that trains a model, so all of them stop at the same epoch.
    """
    params, validation = run.params, run.validation
    estimator.n_iter_ += 1
    estimator.t_ += run.data.n_samples
    estimator.loss_curve_.append(epoch_loss)
    loss_improved = epoch_loss < estimator.best_loss_ - estimator.tol
    estimator.best_loss_ = min(estimator.best_loss_, epoch_loss)
    message = f"Epoch {estimator.n_iter_}: loss {epoch_loss:.6g}"
    if validation is None:
        improved = loss_improved
    else:
        score = validation.score(estimator, run.network, run.loss, params)
        estimator.validation_scores_.append(score)
        improved = score > estimator.best_validation_score_ + estimator.tol
        if score > estimator.best_validation_score_:
            estimator.best_validation_score_ = score
            estimator._best_params = params.copy()
        message += f", validation score {score:.6g}"
    estimator._no_improvement_count = 0 if improved else estimator._no_improvement_count + 1
    if estimator.verbose:
        print(f"{message}, {seconds:.3f} s")
    if estimator._no_improvement_count == estimator.n_iter_no_change:
        estimator.patience_exhausted_ = True
        if validation is not None and estimator.early_stopping:
            np.copyto(params, estimator._best_params)
        if estimator.verbose:
            print(f"No improvement greater than tol={estimator.tol} in "
                  f"{estimator.n_iter_no_change} consecutive epochs.")
        return True
    if improved:
        estimator.patience_exhausted_ = False
    return False


class TrainingRun:
    """Everything one call's epochs need, built once per ``fit``/``partial_fit`` call."""

    def __init__(self, network, loss, optimizer, state, params, data, batch_size, alpha,
                 rng, validation):
        self.network, self.loss = network, loss
        self.optimizer, self.state = optimizer, state
        self.params = params
        self.grad = np.zeros_like(params)
        self.data = data
        self.batch_size = min(batch_size, data.n_samples)
        self.work = network.workspace(params, self.grad, self.batch_size, params.dtype)
        self.alpha = float(alpha)
        self.rng = rng
        self.validation = validation


def _copy_state(state, into):
    """Copy an optimizer state's step count and buffers into another state."""
    into.t = state.t
    for name in state.buffer_names:
        np.copyto(getattr(into, name), getattr(state, name))
    return into


def _reset_state(state):
    """Return a state to step zero with zeroed buffers."""
    state.t = 0
    for name in state.buffer_names:
        getattr(state, name).fill(0)
