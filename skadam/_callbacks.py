"""How a run's training reaches its estimator: scikit-learn's callback hooks around a
fit and its epochs, the estimator's scorer, its name and verbosity."""


class RunHooks:
    """The way back from a run to the estimator it trains for, during one call.

    The loop reads no estimator: it names the model in its messages, prints its epochs,
    scores it on held-out data and calls scikit-learn's callbacks through these.

    Parameters
    ----------
    estimator : BaseAdamEstimator
        The estimator whose run trains; during the call it holds that run, so that a
        scorer predicts with the run's weights.
    callbacks : EpochCallbacks or None
        scikit-learn's callback hooks of the call.

    Examples
    --------
    >>> from skadam import LinearRegression
    >>> from skadam._callbacks import RunHooks
    >>> RunHooks(LinearRegression(verbose=1), None).name
    'LinearRegression'
    """

    def __init__(self, estimator, callbacks):
        self._estimator = estimator
        self.callbacks = callbacks
        self.name = type(estimator).__name__
        self.verbose = bool(estimator.verbose)

    def score(self, scorer, X, y, **weights):
        """The scorer's value of the estimator, which predicts with the run's weights."""
        return float(scorer(self._estimator, X, y, **weights))


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

    def epoch_ends(self, run):
        """Close the epoch's subtask; return True if a callback asks to stop training."""
        stop = self.epoch.call_on_fit_task_end(
            estimator=self.estimator, **self.data,
            # A model that predicts with the weights of this epoch's end.
            reconstruction_attributes=lambda: {"_run": run.copy()},
        )
        self.epoch = None
        return stop

    def fit_ends(self):
        """Close the fit's task."""
        self.context.call_on_fit_task_end(estimator=self.estimator, **self.data,
                                          reconstruction_attributes={})
