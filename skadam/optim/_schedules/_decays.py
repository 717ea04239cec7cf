"""Schedules that decay with the updates or epochs made: constant, inverse scaling,
exponential."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._protocol import POSITIVE, UNIT, CountsInUnit, LearningRateSchedule


class ConstantSchedule(LearningRateSchedule):
    """The same learning rate at every step.

    Parameters
    ----------
    learning_rate : float, default=0.001
        The step size, > 0.

    Examples
    --------
    >>> from skadam.optim import Adam, ConstantSchedule
    >>> Adam(learning_rate=ConstantSchedule(0.01)).learning_rate.value(500)
    0.01
    """

    _parameter_constraints = {"learning_rate": [POSITIVE]}

    def __init__(self, learning_rate=0.001):
        self.learning_rate = learning_rate

    def value(self, step):
        """Return ``learning_rate`` whatever the step.

        Parameters
        ----------
        step : int
            Number of updates made before this one.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import ConstantSchedule
        >>> ConstantSchedule(0.5).value(0)
        0.5
        """
        return float(self.learning_rate)


class InverseScalingSchedule(CountsInUnit, LearningRateSchedule):
    """Decay as a power of the step count: ``initial_value / (step + 1) ** power_t``.

    The form of scikit-learn's ``learning_rate="invscaling"``, counted in updates, or in
    epochs with ``unit="epoch"`` (``step`` is then the training progress the update
    completes, in passes over the data, so the rate falls by epochs whatever the size of
    the data).

    Parameters
    ----------
    initial_value : float, default=0.01
        Step size of the first update, > 0.
    power_t : float, default=0.5
        Exponent of the decay, >= 0.
    unit : {"step", "epoch"}, default="step"
        What ``step`` counts: earlier updates, or epochs.

    Examples
    --------
    >>> from skadam.optim import InverseScalingSchedule
    >>> schedule = InverseScalingSchedule(initial_value=0.1, power_t=0.5)
    >>> [round(schedule.value(step), 4) for step in (0, 3, 99)]
    [0.1, 0.05, 0.01]
    """

    _parameter_constraints = {
        "initial_value": [POSITIVE],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "unit": UNIT,
    }

    def __init__(self, initial_value=0.01, power_t=0.5, unit="step"):
        self.initial_value = initial_value
        self.power_t = power_t
        self.unit = unit

    def value(self, step):
        """Return ``initial_value / (step + 1) ** power_t``.

        Parameters
        ----------
        step : int or float
            Number of updates made before this one, or with ``unit="epoch"`` the
            training progress at its end.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import InverseScalingSchedule
        >>> InverseScalingSchedule(1.0, power_t=1.0).value(4)
        0.2
        """
        return self.initial_value / (step + 1) ** self.power_t


class ExponentialDecaySchedule(CountsInUnit, LearningRateSchedule):
    """Exponential decay: ``initial_value * decay_rate ** (step / decay_steps)``.

    Counted in updates, or in epochs with ``unit="epoch"``: ``decay_steps=10,
    unit="epoch"`` multiplies the rate by ``decay_rate`` every 10 passes over the data,
    whatever their size (``step`` is then the training progress the update completes, so
    with ``staircase`` the last update of an epoch already takes the next stair).

    Parameters
    ----------
    initial_value : float, default=0.01
        Step size of the first update, > 0.
    decay_rate : float, default=0.96
        Factor applied every ``decay_steps`` updates (or epochs), in (0, 1].
    decay_steps : float, default=1000
        Number of updates (or epochs) over which the rate is multiplied by
        ``decay_rate``, > 0.
    staircase : bool, default=False
        Decay in whole steps of ``decay_steps`` instead of continuously.
    unit : {"step", "epoch"}, default="step"
        What ``step`` and ``decay_steps`` count: updates, or epochs.

    Examples
    --------
    >>> from skadam.optim import ExponentialDecaySchedule
    >>> schedule = ExponentialDecaySchedule(0.1, decay_rate=0.5, decay_steps=10)
    >>> [round(schedule.value(step), 4) for step in (0, 5, 10, 20)]
    [0.1, 0.0707, 0.05, 0.025]
    >>> schedule.set_params(staircase=True).value(15)
    0.05
    """

    _parameter_constraints = {
        "initial_value": [POSITIVE],
        "decay_rate": [Interval(Real, 0, 1, closed="right")],
        "decay_steps": [POSITIVE],
        "staircase": ["boolean"],
        "unit": UNIT,
    }

    def __init__(self, initial_value=0.01, decay_rate=0.96, decay_steps=1000, staircase=False,
                 unit="step"):
        self.initial_value = initial_value
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.staircase = staircase
        self.unit = unit

    def value(self, step):
        """Return ``initial_value * decay_rate ** (step / decay_steps)``.

        Parameters
        ----------
        step : int or float
            Number of updates made before this one, or with ``unit="epoch"`` the
            training progress at its end.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import ExponentialDecaySchedule
        >>> ExponentialDecaySchedule(1.0, decay_rate=0.5, decay_steps=1).value(3)
        0.125
        """
        exponent = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.initial_value * self.decay_rate**exponent
