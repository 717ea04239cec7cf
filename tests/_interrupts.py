"""A scikit-learn callback that presses Ctrl-C during a fit, for the interrupt tests."""

import signal


class AtEpoch:
    """A callback that acts (``act``) at the end of epoch ``n`` of a fit."""

    def __init__(self, n):
        self.n = n

    def setup(self, estimator, context):
        self.epochs = 0

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **hook_arguments):
        pass

    def on_fit_task_end(self, estimator, context, **hook_arguments):
        if context.task_name == "epoch":
            self.epochs += 1
            if self.epochs == self.n:
                self.act()


class SigintAfter(AtEpoch):
    """A callback that sends this process Ctrl-C at the end of epoch ``n`` (``times`` times)."""

    def __init__(self, n, times=1):
        super().__init__(n)
        self.times = times

    def act(self):
        for _ in range(self.times):
            signal.raise_signal(signal.SIGINT)
