"""The schedule protocol: what a learning-rate schedule reads of a run and keeps in it."""

from numbers import Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

POSITIVE = Interval(Real, 0, None, closed="neither")
UNIT = [StrOptions({"step", "epoch"})]


class CountsInUnit:
    """For schedules whose ``unit`` parameter says whether they count updates or epochs."""

    @property
    def per_epoch(self):
        """Whether ``value`` reads epochs (``unit="epoch"``) rather than updates."""
        return self.unit == "epoch"


class LearningRateSchedule(BaseEstimator):
    """Base class of learning-rate schedules.

    A schedule is passed as an optimizer's ``learning_rate``. It reads one record of
    a run's training progress, the run's optimizer state: its step count ``t``, the
    progress ``epoch`` in passes over the data that the coming update completes
    (``1 / n_batches`` for the first update of a fit, 1 for the last of its first epoch;
    with ``partial_fit`` each call counts as an epoch), and the schedule's own state.
    The protocol has three methods, of which a subclass implements :meth:`value` and,
    when it needs them, the others:

    - :meth:`rate`, the rate of the coming update, is ``value(step)``, ``step`` counting
      the updates made before (0 for the first), or ``value(epoch)`` for a schedule
      whose class sets ``per_epoch = True``;
    - :meth:`state_defaults` declares the schedule's own state, as an optimizer declares
      its buffers: each name becomes an attribute of every optimizer state, starting at
      its value, carried on by ``warm_start``, ``partial_fit`` and pickling (none by
      default);
    - :meth:`end_epoch` is told, after every epoch, what early stopping monitors (see
      :class:`ReduceOnPlateauSchedule`); it does nothing by default.

    Being an estimator, a schedule's parameters are tunable by a grid search as
    ``solver__learning_rate__<name>``.

    Examples
    --------
    >>> from skadam.optim import LearningRateSchedule
    >>> class Halving(LearningRateSchedule):
    ...     def __init__(self, initial_value=0.1):
    ...         self.initial_value = initial_value
    ...     def value(self, step):
    ...         return self.initial_value / 2 ** step
    >>> Halving().value(3)
    0.0125
    """

    _parameter_constraints = {}
    # Whether value() reads epochs (the training progress an update completes, in
    # passes over the data) rather than the number of earlier updates.
    per_epoch = False

    def rate(self, state):
        """The learning rate of the coming update of the run whose state is ``state``.

        Parameters
        ----------
        state : OptimizerState
            The run's optimizer state, its step count ``t`` already counting the coming
            update.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam, ExponentialDecaySchedule
        >>> schedule = ExponentialDecaySchedule(1.0, decay_rate=0.5, decay_steps=1)
        >>> state = Adam(learning_rate=schedule).init_state(np.zeros(1))
        >>> state.t = 3  # the third update: two were made before
        >>> schedule.rate(state)
        0.25
        """
        return self.value(state.epoch if self.per_epoch else state.t - 1)

    def state_defaults(self):
        """The schedule's own state: each name's value at the start of a run.

        Returns
        -------
        defaults : dict of str to float or int
            Empty for a schedule that reads the progress alone.

        Examples
        --------
        >>> from skadam.optim import ConstantSchedule, ReduceOnPlateauSchedule
        >>> ConstantSchedule().state_defaults()
        {}
        >>> sorted(ReduceOnPlateauSchedule().state_defaults())
        ['plateau_best', 'plateau_reductions', 'plateau_wait']
        """
        return {}

    def end_epoch(self, state, monitored, tol):
        """Take note of an epoch whose monitored quantity was ``monitored``.

        Parameters
        ----------
        state : OptimizerState
            The state of the run, whose schedule state this may update.
        monitored : float
            What early stopping monitors, higher is better: the epoch's validation
            score, or its negative training objective.
        tol : float
            The estimator's least improvement that counts as progress.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam, ConstantSchedule
        >>> schedule = ConstantSchedule(0.1)
        >>> state = Adam(learning_rate=schedule).init_state(np.zeros(1))
        >>> schedule.end_epoch(state, monitored=-1.0, tol=0.0)  # nothing to keep
        """

    def value(self, step):
        """Learning rate of the update that follows ``step`` earlier updates.

        Parameters
        ----------
        step : int
            Number of updates made before this one, from 0.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import ConstantSchedule
        >>> ConstantSchedule(0.01).value(10)
        0.01
        """
        raise NotImplementedError(f"{type(self).__name__} must implement value(step).")
