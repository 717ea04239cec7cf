"""What the loop tells the user: ``verbose``'s line per epoch and the warning of a fit
that used all its epochs while still improving."""

from sklearn.exceptions import ConvergenceWarning

from ._warnings import warn


class Progress:
    """Where a call is after an epoch, for ``verbose``: the epoch of the call, its
    epochs at most, and the seconds of the epoch and of the call so far."""

    def __init__(self, epoch, n_epochs, seconds, elapsed, incremental):
        self.epoch, self.n_epochs = epoch, n_epochs
        self.seconds, self.elapsed = seconds, elapsed
        self.incremental = incremental

    def describe(self, n_iter):
        """The line's opening: which pass this is, of how many."""
        if self.incremental:
            return f"partial_fit call {n_iter} (one pass over its data)"
        text = f"Epoch {self.epoch}/{self.n_epochs}"
        if n_iter != self.epoch:  # a warm start goes on from the epochs before
            text += f" (epoch {n_iter} of the model)"
        return text

    def timing(self):
        """The epoch's seconds, and in ``fit`` the call's and an estimate of the most left."""
        text = f"{self.seconds:.3f} s"
        if self.incremental:
            return text
        left = (self.n_epochs - self.epoch) * self.elapsed / self.epoch
        return f"{text}, {self.elapsed:.2f} s in all, at most about {left:.1f} s to go"


def print_epoch(run, objective, score, progress, stopped):
    """Print ``verbose``'s line for a run's epoch, and why it stops when patience ran out."""
    message = f"{progress.describe(run.history.n_iter)}: loss {objective:.6g}"
    if score is not None:
        message += f", validation score {score:.6g}"
    print(f"{message}; {progress.timing()}")
    if stopped and run.history.patience_exhausted:
        print(f"No improvement greater than tol={run.stopping.tol} in "
              f"{run.stopping.n_iter_no_change} consecutive epochs.")


def warn_max_iter(run, n_epochs, *, validating):
    """Warn that ``fit`` used all its epochs while the run's monitored quantity still
    improved, with the advice for what it monitored."""
    name, stopping = run.hooks.name, run.stopping
    if validating:
        what = "the validation score"
        advice = ("Raise max_iter to train until it stops improving, or raise the "
                  "learning rate (solver__learning_rate) to get there in fewer epochs.")
    else:
        what = "the training loss"
        advice = ("Raise max_iter or the learning rate (solver__learning_rate), raise tol "
                  "to accept smaller gains as convergence, or set early_stopping=True to "
                  "stop when held-out data stop improving.")
    warn(f"{name}: max_iter={n_epochs} epochs reached while {what} still improved by more "
         f"than tol={stopping.tol} within the last n_iter_no_change="
         f"{stopping.n_iter_no_change} epochs. {advice}", ConvergenceWarning)
