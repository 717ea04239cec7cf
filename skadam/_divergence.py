"""Divergence: a member whose loss, gradient or optimizer state stops being finite.

The loop checks every step by the next minibatch's loss and the last step of a call by
:func:`check_final_weights`; a member that diverged goes back to the last weights known
to give a finite loss (:func:`restore`) and leaves its stack, its optimizer starting
afresh, and the user's call reports it (:class:`Divergence`). A call whose first
minibatch is already not finite trained nothing and raises
(:func:`untrainable_data_error`).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._warnings import warn


def check_final_weights(run, parts, fit):
    """Go back to sound weights where the last step of a call left ones that overflow.

    Every step is checked by the next minibatch's loss, except the last one of a call:
    the weights of the members still training are checked here on the first minibatch
    of the data, one forward pass.
    """
    n_rows = fit.batch_size
    X, Y = fit.data.X[:n_rows], fit.data.Y[:n_rows]
    with np.errstate(over="ignore", invalid="ignore"):
        raw = fit.network.forward(fit.network.workspace(run.params, None, n_rows), X)
        losses = fit.loss.per_sample(raw, Y)
    for part in parts:
        for member, row in part.rows_of(run).items():
            if not (np.isfinite(raw[member]).all() and np.isfinite(losses[member]).all()):
                restore(part, row, fit, epoch=run.history.n_iter).report()
                close_epoch(run)


def restore(part, row, fit, *, epoch=None, state_overflow=False):
    """Stop the member of ``row``, whose loss, gradient or optimizer state became non-finite.

    Its restore point holds the last weights known to give a finite loss (and their
    average, where the run averages its weights, from the same step). The moments
    are spoilt by the exploding gradients, so the optimizer starts afresh from those
    weights. Returns the :class:`Divergence` to report. A member that has not taken a
    single step in this call has no such weights: the call raises instead.
    """
    run, member = part.seats[row]
    state = run.states[member]
    if state.t == run.steps_before[member]:
        raise untrainable_data_error(run.hooks.name, fit.data.X)
    np.copyto(part.params[row], part.restore_points[row])
    if part.averages is not None:
        np.copyto(part.averages[row], part.restored_averages[row])
    part.store([row])
    state.t = 0
    for name in state.buffer_names:
        getattr(state, name).fill(0)
    epoch = run.history.n_iter + 1 if epoch is None else epoch
    return Divergence(run, member, epoch, state.buffer_names if state_overflow else None)


class Divergence:
    """A member stopped by divergence, to report in the thread of the user's call (a part
    of a stack may train on another thread)."""

    def __init__(self, run, member, epoch, overflowed_buffers):
        self.run, self.member, self.epoch = run, member, epoch
        self.overflowed_buffers = overflowed_buffers

    def report(self):
        """The caller's side of a divergence: the member no longer counts among its run's
        training ones, and a ConvergenceWarning says what went wrong and what to change."""
        run = self.run
        run.n_training -= 1
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
        if run.n_members == 1:
            outcome = ("training stopped, the last weights that gave a finite loss were kept "
                       "and the optimizer's state reset")
        else:
            what = f"member {self.member} of the ensemble of {run.n_members}: {what}"
            outcome = ("that member stopped training (the others go on), with the last "
                       "weights that gave a finite loss and its optimizer's state reset")
        warn(f"{run.hooks.name}: {what}; {outcome}. {advice}",
             ConvergenceWarning)


def close_epoch(run):
    """Close the epoch's callback subtask of a run that divergence ends mid-epoch."""
    callbacks = run.hooks.callbacks
    if callbacks is not None and callbacks.epoch is not None:
        callbacks.epoch_ends(run)


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


def untrainable_data_error(name, X):
    """The error of a call whose first minibatch already gives a non-finite loss or gradient.

    Nothing was trained, so no weights are known to be sound: the call raises and leaves
    the model as it was. The loss at weights not yet stepped does not depend on the
    learning rate, so the data are the cause.
    """
    values = X.data if sp.issparse(X) else X
    with np.errstate(over="ignore", invalid="ignore"):
        largest = float(np.max(np.abs(values))) if values.size else 0.0
    return ValueError(
        f"{name}: the training loss or its gradient is not finite at "
        "the weights this call started from, on its first minibatch, so no step could be "
        "taken and nothing was trained; the model is left as it was. The learning rate "
        f"plays no part in this: the data are too large for {X.dtype} arithmetic (the "
        f"largest |X| is {largest:.3g}). Scale the features, for instance with "
        "StandardScaler, and check the targets for huge values."
    )
