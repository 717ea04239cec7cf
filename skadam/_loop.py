"""The training loop: epochs of minibatch steps over a stack of networks, then bookkeeping.

Every fit trains a stack. Its rows are networks: one for ``fit`` and ``partial_fit``,
one per member of an ensemble, one per grid point of a batched search (times its
ensemble's members). A *run* (:class:`~skadam._run.Run`) is one model: the rows of one
estimator, which share its :class:`~skadam._history.History`, its optimizer, its L2
penalty and its stopping rule, while each row has its own parameters and optimizer
state. The loop reads runs only; a run reaches its estimator through its hooks.

Every row reads the same minibatches. An epoch shuffles by one permutation, walks
contiguous batches (forward, loss gradient, backward, L2 penalty, optimizer step, each
for all the rows in one call), and ends with each run's bookkeeping: its objective
(the mean of its members'), its validation score (of the members' averaged
prediction), best weights and patience. A run that averages its weights trains one set
of weights and keeps a moving average of them, which is what it validates, keeps as
its best and predicts with. A run that stops or runs out of patience leaves the stack
with all its rows; a row whose training diverges goes back to sound weights and leaves
alone, the other members of its run going on. What a fit guarantees (Ctrl-C between
minibatches, callbacks, divergence going back to sound weights, early stopping) holds
for every run of any stack because it is this one loop.
"""

import copy
import math
import time

import numpy as np

from ._data import shuffled_blocks
from ._divergence import check_final_weights, close_epoch, restore, state_is_finite
from ._interrupt import NoGuard, TrainingInterrupted
from ._kernels import add_scaled, all_finite, move_towards
from ._model import Dropout
from ._reporting import Progress, print_epoch, warn_max_iter
from ._threads import split_rows, thread_pool, training_threads
from .optim._stacked import StackedStates, step_rows

NO_GUARD = NoGuard()


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


class _Part:
    """The rows of the stack that one thread trains, with their parameters, gradients
    and states as rows of arrays of their own.

    ``seats`` lists the ``(run, member)`` of each row. The rows of one whole run (a fit,
    or an ensemble on one core) train in the run's own buffers, without a copy;
    otherwise the part trains copies, which :meth:`store` writes back to the runs.
    ``params`` are the weights the optimizer steps; where some run averages its
    weights, ``averages`` holds each row's moving average of them (for a row that does
    not average, a copy of its weights), the weights its run validates and keeps.
    """

    def __init__(self, seats, fit):
        self.seats = list(seats)
        run = self.seats[0][0]
        whole = self.seats == [(run, m) for m in range(run.n_members)]
        averaging = any(run.trained_params is not None for run, _ in self.seats)
        if whole:
            self.params = run.stepped_params
            self.averages = run.params if averaging else None
        else:
            self.params = np.stack([run.stepped_params[member] for run, member in self.seats])
            self.averages = np.stack([run.params[member] for run, member in self.seats]
                                     ) if averaging else None
        self.is_copy = not whole
        self.restore_points = self.params.copy()
        self.restored_averages = None if self.averages is None else self.averages.copy()
        self.states = StackedStates([run.states[member] for run, member in self.seats])
        self.totals = np.zeros(len(self.seats))  # each row's weighted loss sum this epoch
        self._rows_changed(fit)

    def _rows_changed(self, fit):
        runs = [run for run, _ in self.seats]
        self.grad = np.zeros_like(self.params)
        self.optimizers = [run.optimizer for run in runs]
        self.alphas = np.array([run.alpha for run in runs])
        self.penalised = bool(self.alphas.any())
        n_weights = fit.network.layout.n_weights
        # Weights come first in every row: the L2 penalty acts on one leading slice.
        self.weights, self.grad_weights = self.params[:, :n_weights], self.grad[:, :n_weights]
        self.work = fit.network.workspace(self.params, self.grad, fit.batch_size)
        self.dropout = None if not fit.dropout else Dropout(
            fit.dropout, [run.dropout_rngs[member] for run, member in self.seats],
            fit.network.layout.layer_sizes[1:-1],
            fit.batch_size * fit.network.rows_per_sample, self.params.dtype)
        if self.averages is not None:
            # Each row's average has the decay that makes its horizon the run's number
            # of epochs; 0 for a row that does not average, whose average is its weights.
            steps_per_epoch = fit.data.n_samples / fit.batch_size
            self.decays = [max(0.0, 1.0 - 1.0 / (run.averaging_epochs * steps_per_epoch))
                           if run.averaging_epochs else 0.0 for run, _ in self.seats]
            self._average_weights = np.empty(len(self.seats))

    def average(self):
        """Move each row's average towards its weights after a step.

        The average is Adam's bias-corrected moving average applied to the weights: with
        decay β, after t steps it is the mean of the t weights so far weighted by
        β^(t - i), which one update of weight (1 - β) / (1 - β^t) keeps.
        """
        weights = self._average_weights
        # Python floats and ints: a step's arithmetic on NumPy scalars cost more than
        # the move itself.
        for row, (decay, t) in enumerate(zip(self.decays, self.states.steps.tolist(),
                                             strict=True)):
            weights[row] = (1.0 - decay) / (1.0 - decay ** t)
        move_towards(self.averages, self.params, weights)

    def store(self, rows=None):
        """Write the rows' parameters (all of them by default) back to their runs."""
        if not self.is_copy:
            return
        for row in range(len(self.seats)) if rows is None else rows:
            run, member = self.seats[row]
            np.copyto(run.stepped_params[member], self.params[row])
            if self.averages is not None and run.trained_params is not None:
                np.copyto(run.params[member], self.averages[row])

    def rows_of(self, run):
        """``{member: row}`` of the run's members that this part trains."""
        return {member: row for row, (owner, member) in enumerate(self.seats) if owner is run}

    def drop(self, rows, fit):
        """Take the rows out of the part; their runs' buffers must hold their weights."""
        leaving = set(rows)
        if not leaving:
            return
        kept = [row for row in range(len(self.seats)) if row not in leaving]
        if not kept:
            for state in self.states.states:
                if any(getattr(state, name).base is not None for name in state.buffer_names):
                    state.detach()  # views of a stack: the state gets arrays of its own
            self.seats = []
            return
        self.states = self.states.select(kept)
        self.seats = [self.seats[row] for row in kept]
        self.params = self.params[kept]
        if self.averages is not None:
            self.averages = self.averages[kept]
            self.restored_averages = self.restored_averages[kept]
        self.is_copy = True
        self.restore_points = self.restore_points[kept]
        self.totals = self.totals[kept]
        self._rows_changed(fit)


def train(runs, fit, n_epochs, *, incremental, interrupt=NO_GUARD):
    """Run up to ``n_epochs`` epochs of every run of ``runs`` on the minibatches of ``fit``.

    Each run's history records its epochs. A run stops after exactly
    ``n_iter_no_change`` epochs in a row without an improvement greater than ``tol`` of
    its monitored quantity (its validation score when ``fit`` has validation data, else
    its training objective) unless ``incremental``, where the caller decides; with
    early stopping it then goes back to its best weights. A member whose loss, gradient
    or optimizer state becomes non-finite goes back to the last weights known to give a
    finite loss and stops, with a warning; the run stops when none of its members
    trains any more, and a member that could not take a single step makes the call
    raise. ``interrupt`` (an :class:`~skadam._interrupt.InterruptGuard`) is checked
    before every minibatch; Ctrl-C leaves every row at its last completed step.

    Threads (``skadam._threads``): where one network's products are large enough for
    BLAS's threads to pay, the rows train one after another on the calling thread, each
    product on BLAS's threads; otherwise every product runs single-threaded BLAS, and
    the stack is cut into one part per core, each trained on its own thread, where its
    steps have the work to pay for the threads (``MIN_WORK_PER_PART``), so that the
    cores work on different rows instead of waiting on each other inside each product.
    A network makes the same calls whatever stack it is in.
    """
    for run in runs:
        run.history.begin_call(validating=fit.validation is not None, incremental=incremental)
    seats = [(run, member) for run in runs for member in range(run.n_members)]
    blas_work = fit.batch_size * fit.network.blas_work_per_row
    parts = [_Part(group, fit) for group in
             split_rows(seats, fit.batch_size * fit.network.work_per_row, blas_work)]
    live = list(runs)
    call_started = time.perf_counter()
    with training_threads(len(parts), blas_work):
        for epoch in range(1, n_epochs + 1):
            started = time.perf_counter()
            for run in live:
                if run.hooks.callbacks is not None:
                    run.hooks.callbacks.epoch_begins()
            try:
                # Overflow is detected below and reported with advice; numpy's own
                # warnings about it would only repeat that less helpfully.
                with np.errstate(over="ignore", invalid="ignore"):
                    parts, live = _run_epoch(parts, live, fit, interrupt)
            except TrainingInterrupted:
                for part in parts:
                    part.store()
                for run in live:
                    if run.hooks.callbacks is not None:
                        run.hooks.callbacks.epoch_ends(run)
                _end_runs(parts, live, fit, check=False)
                raise
            now = time.perf_counter()
            progress = Progress(epoch, n_epochs, now - started, now - call_started,
                                 incremental)
            live = _end_epoch(parts, live, fit, progress)
            parts = [part for part in parts if part.seats]
            if not live:
                break
        else:
            if not incremental:
                for run in live:
                    warn_max_iter(run, n_epochs, validating=fit.validation is not None)
        _end_runs(parts, live, fit, check=True)
    for run in runs:
        if not incremental and fit.validation is not None and run.stopping.restore_best:
            if run.history.best_params is not None:
                np.copyto(run.params, run.history.best_params)


def _run_epoch(parts, live, fit, interrupt):
    """One pass over the data for every row of ``parts``; return the parts and runs left.

    The parts train on the same blocks of shuffled rows, each on its own thread; what
    their rows' divergence asks of the caller (warnings, callbacks, the end of a run
    whose members all diverged) is done here, in the caller's thread.
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
        for divergence in (divergence for result in results for divergence in result):
            divergence.report()
        ended = [run for run in live if not run.n_training]
        if ended:
            for run in ended:
                close_epoch(run)
            _end_runs(parts, ended, fit, check=False)
            live = [run for run in live if run.n_training]
        parts = [part for part in parts if part.seats]
        if not parts:
            break
    return parts, live


def _train_block(part, fit, block, rows_before, last_block, interrupt):
    """Train ``part`` on the minibatches of one block; return its divergences.

    A minibatch is all or nothing: when some rows' loss or gradient is not finite, no
    row steps; those rows go back to their restore points and leave, and the others
    take the batch again without them.
    """
    X, Y, weight = block
    divergences = []
    for start in range(0, X.shape[0], fit.batch_size):
        interrupt.check()
        stop = min(start + fit.batch_size, X.shape[0])
        batch = (X[start:stop], Y[start:stop], None if weight is None else weight[start:stop])
        last = last_block and stop == X.shape[0]
        # The progress this update completes, which schedules counted in epochs read.
        fraction = (rows_before + stop) / fit.data.n_samples
        for (run, _), state in zip(part.seats, part.states.states, strict=True):
            state.epoch = run.history.n_iter + fraction
        while part.seats:
            bad_rows = _train_batch(part, fit, *batch, last=last)
            if not bad_rows.size:
                break
            divergences += [restore(part, row, fit) for row in bad_rows]
            part.drop(bad_rows, fit)
        if not part.seats:
            break
    return divergences


def _train_batch(part, fit, X, Y, weight, last):
    """One minibatch step of every row; or, if some rows' loss or gradient is not finite,
    nothing at all and those rows. Before the epoch's ``last`` step, the weights become
    the restore points: sound weights, unlike the ones that step leaves, which the next
    epoch's first minibatch may find diverged."""
    n_rows = X.shape[0]
    network, work = fit.network, part.work
    raw = network.forward(work, X, part.dropout)
    delta = work.deltas(n_rows)[-1]
    losses = fit.loss.loss_and_gradient(raw, Y, delta)
    if weight is None:
        batch_totals = losses.sum(axis=1)
        delta *= 1.0 / n_rows
    else:
        # One dot product per row, the same for every row of any stack.
        batch_totals = np.matmul(losses[:, np.newaxis, :], weight)[:, 0]
        delta *= (weight / n_rows)[:, np.newaxis]
    network.backward(work, X, delta, part.dropout)
    if part.penalised:
        # A fused loop, with no temporary. Not scipy's BLAS axpy: its thread pool,
        # distinct from numpy's, would spin on the cores numpy's next product needs.
        add_scaled(part.grad_weights, part.weights, part.alphas)
    if not (all_finite(batch_totals) and all_finite(part.grad)):
        return np.array([row for row in range(len(part.seats))
                         if not (np.isfinite(batch_totals[row]) and all_finite(part.grad[row]))])
    if last:
        np.copyto(part.restore_points, part.params)
        if part.averages is not None:
            np.copyto(part.restored_averages, part.averages)
    step_rows(part.optimizers, part.params, part.grad, part.states)
    if part.averages is not None:
        part.average()
    part.totals += batch_totals
    return _NO_ROWS


_NO_ROWS = np.array([], dtype=np.int64)


def _end_epoch(parts, live, fit, progress):
    """Each run's bookkeeping after an epoch; return the runs that go on.

    A run's objective is the mean of its members' that trained the whole epoch; a
    member whose objective or optimizer state is not finite diverged, and leaves.
    """
    n_samples = fit.data.n_samples
    objectives = {id(run): [] for run in live}
    for part in parts:
        part.store()
        diverged = []
        for row, (run, member) in enumerate(part.seats):
            objective = epoch_objective(run, member, part.totals[row] / n_samples)
            overflowed = np.isfinite(objective) and not state_is_finite(run.states[member])
            if overflowed or not np.isfinite(objective):
                diverged.append(row)
                restore(part, row, fit, state_overflow=overflowed).report()
            else:
                objectives[id(run)].append(objective)
        part.drop(diverged, fit)
    ended = [run for run in live if not objectives[id(run)]]
    for run in ended:
        close_epoch(run)
    _end_runs(parts, ended, fit, check=False)
    live = [run for run in live if objectives[id(run)]]
    scores = [None] * len(live)
    if fit.validation is not None and live:
        scores = fit.validation.scores(live, fit.network, fit.loss)
    going_on, leaving = [], []
    for run, score in zip(live, scores, strict=True):
        stopping = run.stopping
        objective = math.fsum(objectives[id(run)]) / len(objectives[id(run)])
        stop = run.history.record(objective, n_samples, run.params, tol=stopping.tol,
                                  n_iter_no_change=stopping.n_iter_no_change, score=score)
        # What early stopping monitors, higher is better, for every member alike.
        monitored = -objective if score is None else score
        for state in run.states:
            run.optimizer.end_epoch(state, monitored, stopping.tol)
        if run.hooks.verbose:
            print_epoch(run, objective, score, progress, stop)
        if stop and score is not None and stopping.restore_best:
            np.copyto(run.params, run.history.best_params)
        if run.hooks.callbacks is not None:
            stop = run.hooks.callbacks.epoch_ends(run) or stop
        (leaving if stop else going_on).append(run)
    _end_runs(parts, leaving, fit, check=True)
    return going_on


def _end_runs(parts, runs, fit, *, check):
    """End ``runs``, whose buffers hold their weights: the final weights checked, the rng
    a run alone would leave; their rows leave the parts."""
    for run in runs:
        if check:
            check_final_weights(run, parts, fit)
        if fit.rng is not None:
            # The stream as the run alone would leave it; others of the stack may go on.
            run.rng = copy.deepcopy(fit.rng)
    ending = {id(run) for run in runs}
    for part in parts:
        part.drop([row for row, (run, _) in enumerate(part.seats) if id(run) in ending], fit)


def epoch_objective(run, member, epoch_loss):
    """A member's training objective of an epoch: its mean batch loss plus the L2 penalty.

    With finite weights the penalty can still overflow: the caller treats a non-finite
    objective as divergence, like a non-finite loss.
    """
    if run.alpha > 0:
        # The weights the losses were of: the trained ones, not their average.
        weights = run.stepped_params[member, : run.layout.n_weights]
        with np.errstate(over="ignore"):
            epoch_loss += 0.5 * run.alpha * float(np.dot(weights, weights))
    return float(epoch_loss)
