"""Ctrl-C during training: stop between two minibatches, where the model is consistent.

A KeyboardInterrupt can strike anywhere, for instance after an optimizer has counted a
step and before it has applied it. While a fit trains, a first Ctrl-C only raises a flag;
the training loop looks at it before each minibatch and stops there with
:class:`TrainingInterrupted`, when the weights, the optimizer state and the history agree.
The fit keeps what it has trained (an hour of training is not thrown away by Ctrl-C) and
the interrupt propagates. A second Ctrl-C does not wait.
"""

import signal
import threading


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a fit between two minibatches; the model keeps its last step."""


class InterruptGuard:
    """Context manager that defers a Ctrl-C to the next :meth:`check`.

    It takes over SIGINT only in the main thread and only from Python's default handler,
    so code that installed its own handler, and fits in worker threads, are left alone.

    Examples
    --------
    >>> import signal
    >>> from skadam._interrupt import InterruptGuard, TrainingInterrupted
    >>> with InterruptGuard() as guard:
    ...     signal.raise_signal(signal.SIGINT)  # nothing happens yet
    ...     try:
    ...         guard.check()
    ...     except TrainingInterrupted:
    ...         print("stopped at a safe point")
    stopped at a safe point
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt  # asked twice: stop now, wherever that is
        self.requested = True

    def check(self):
        """Raise :class:`TrainingInterrupted` if Ctrl-C was pressed since entering."""
        if self.requested:
            raise TrainingInterrupted(
                "Training interrupted: the model keeps the weights and optimizer state of "
                "its last completed minibatch step."
            )


class NoGuard:
    """The guard of a loop that nothing interrupts: :meth:`check` never raises."""

    requested = False

    def check(self):
        """Do nothing."""
