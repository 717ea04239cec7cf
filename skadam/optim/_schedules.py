"""Learning-rate schedules: estimators mapping a step count to a step size."""

import math
from numbers import Integral, Real

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

_POSITIVE = Interval(Real, 0, None, closed="neither")
_UNIT = [StrOptions({"step", "epoch"})]


class _CountsInUnit:
    """For schedules whose ``unit`` parameter says whether they count updates or epochs."""

    @property
    def per_epoch(self):
        """Whether ``value`` reads epochs (``unit="epoch"``) rather than updates."""
        return self.unit == "epoch"


class LearningRateSchedule(BaseEstimator):
    """Base class of learning-rate schedules.

    A schedule is passed as an optimizer's ``learning_rate``. The optimizer asks it for
    ``value(step)`` before every update, ``step`` counting the updates made before
    (0 for the first). A schedule whose class sets ``per_epoch = True`` is asked for
    ``value(epoch)`` instead, ``epoch`` the training progress the update completes, in
    passes over the data (``1 / n_batches`` for the first update of a fit, 1 for the
    last of its first epoch); the estimators keep it in the optimizer state's ``epoch``,
    and with ``partial_fit`` each call counts as an epoch. A schedule that sets
    ``on_plateau = True`` is asked for ``value(n_reductions)``, and the estimators call
    its ``observe(state, monitored, tol)`` after every epoch (see
    :class:`ReduceOnPlateauSchedule`). Being an estimator, a
    schedule's parameters are tunable by a grid search as
    ``solver__learning_rate__<name>``. Subclasses implement :meth:`value`.

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
    # Whether value() reads the plateaus counted by observe() after every epoch.
    on_plateau = False

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

    _parameter_constraints = {"learning_rate": [_POSITIVE]}

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


class InverseScalingSchedule(_CountsInUnit, LearningRateSchedule):
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
        "initial_value": [_POSITIVE],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "unit": _UNIT,
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


class ExponentialDecaySchedule(_CountsInUnit, LearningRateSchedule):
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
        "initial_value": [_POSITIVE],
        "decay_rate": [Interval(Real, 0, 1, closed="right")],
        "decay_steps": [_POSITIVE],
        "staircase": ["boolean"],
        "unit": _UNIT,
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


class WarmupCosineSchedule(LearningRateSchedule):
    """Linear warm-up to a peak, then cosine decay to a final value (Loshchilov & Hutter, 2017).

    For the update that follows ``step`` earlier ones::

        warm-up, step < warmup_steps:  peak_value * (step + 1) / warmup_steps
        then, with progress = min((step - warmup_steps) / decay_steps, 1):
            end_value + (peak_value - end_value) * (1 + cos(pi * progress)) / 2

    Warm-up lets Adam's second-moment estimate settle before full-size steps; the
    rate stays at ``end_value`` after ``warmup_steps + decay_steps`` updates.

    Parameters
    ----------
    peak_value : float, default=0.001
        Step size at the end of the warm-up, > 0.
    warmup_steps : int, default=0
        Number of warm-up updates, >= 0.
    decay_steps : int, default=1000
        Number of updates of the cosine decay after the warm-up, >= 1.
    end_value : float, default=0.0
        Step size once the decay is over, >= 0.

    Examples
    --------
    >>> from skadam.optim import WarmupCosineSchedule
    >>> schedule = WarmupCosineSchedule(peak_value=1.0, warmup_steps=4, decay_steps=10)
    >>> [round(schedule.value(step), 3) for step in (0, 3, 4, 9, 14, 50)]
    [0.25, 1.0, 1.0, 0.5, 0.0, 0.0]
    """

    _parameter_constraints = {
        "peak_value": [_POSITIVE],
        "warmup_steps": [Interval(Integral, 0, None, closed="left")],
        "decay_steps": [Interval(Integral, 1, None, closed="left")],
        "end_value": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, peak_value=0.001, warmup_steps=0, decay_steps=1000, end_value=0.0):
        self.peak_value = peak_value
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        self.end_value = end_value

    def value(self, step):
        """Return the warmed-up, cosine-decayed learning rate of this update.

        Parameters
        ----------
        step : int
            Number of updates made before this one.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import WarmupCosineSchedule
        >>> WarmupCosineSchedule(peak_value=2.0, decay_steps=4).value(2)
        1.0
        """
        if step < self.warmup_steps:
            return self.peak_value * (step + 1) / self.warmup_steps
        progress = min((step - self.warmup_steps) / self.decay_steps, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.end_value + (self.peak_value - self.end_value) * cosine


class CosineEpochSchedule(LearningRateSchedule):
    """Warm-up, a flat stretch, then cosine decay, all counted in epochs.

    For the update that completes training progress ``epoch`` (in passes over the data,
    fractions included)::

        warm-up, epoch < warmup_epochs:  peak_value * epoch / warmup_epochs
        flat, epoch < warmup_epochs + flat_epochs:  peak_value
        then, with progress = min((epoch - start) / (n_epochs - start), 1) and
        start = warmup_epochs + flat_epochs:
            end_value + (peak_value - end_value) * (1 + cos(pi * progress)) / 2

    The length of a fit in epochs does not depend on the data size, so neither does
    this schedule, unlike a schedule in updates. ``flat_epochs`` gives the flat-then-
    cosine schedule of tabular MLPs (RealMLP's for its weight decay and dropout).

    Parameters
    ----------
    peak_value : float, default=0.001
        Step size after the warm-up and during the flat stretch, > 0.
    n_epochs : float, default=100
        Epochs after which the rate stays at ``end_value``, > 0; set it to ``max_iter``.
    warmup_epochs : float, default=0.0
        Epochs of linear warm-up, >= 0.
    flat_epochs : float, default=0.0
        Epochs at ``peak_value`` after the warm-up, >= 0.
    end_value : float, default=0.0
        Step size at the end, >= 0.

    Examples
    --------
    >>> from skadam.optim import CosineEpochSchedule
    >>> schedule = CosineEpochSchedule(peak_value=1.0, n_epochs=10, flat_epochs=4)
    >>> [round(schedule.value(epoch), 3) for epoch in (0.5, 4, 7, 10, 12)]
    [1.0, 1.0, 0.5, 0.0, 0.0]
    """

    _parameter_constraints = {
        "peak_value": [_POSITIVE],
        "n_epochs": [_POSITIVE],
        "warmup_epochs": [Interval(Real, 0, None, closed="left")],
        "flat_epochs": [Interval(Real, 0, None, closed="left")],
        "end_value": [Interval(Real, 0, None, closed="left")],
    }
    per_epoch = True

    def __init__(self, peak_value=0.001, n_epochs=100, warmup_epochs=0.0, flat_epochs=0.0,
                 end_value=0.0):
        self.peak_value = peak_value
        self.n_epochs = n_epochs
        self.warmup_epochs = warmup_epochs
        self.flat_epochs = flat_epochs
        self.end_value = end_value

    def value(self, epoch):
        """Return the learning rate of the update that completes progress ``epoch``.

        Parameters
        ----------
        epoch : float
            Training progress, in passes over the data, at the end of this update.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import CosineEpochSchedule
        >>> CosineEpochSchedule(peak_value=2.0, n_epochs=4, warmup_epochs=2).value(1)
        1.0
        """
        if epoch < self.warmup_epochs:
            return self.peak_value * epoch / self.warmup_epochs
        start = self.warmup_epochs + self.flat_epochs
        if epoch < start:
            return self.peak_value
        if self.n_epochs <= start:
            return self.end_value
        progress = min((epoch - start) / (self.n_epochs - start), 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.end_value + (self.peak_value - self.end_value) * cosine


class CosineLogSchedule(LearningRateSchedule):
    """Cosine cycles of doubling length, counted in epochs: RealMLP's "coslog" schedule.

    For the update that completes training progress ``epoch``, with
    ``t = min(epoch / n_epochs, 1)``::

        peak_value * (1 - cos(2 pi log2(1 + (2**n_cycles - 1) t))) / 2

    The rate rises from zero to ``peak_value`` and falls back to zero ``n_cycles``
    times, each cycle twice as long as the one before, the last one ending at
    ``n_epochs``: warm restarts whose ends, where the rate is near zero, are the epochs
    that early stopping with a patience as long as the fit (``n_iter_no_change =
    max_iter``) keeps best. Holzmüller et al. (2024) train RealMLP with 4 cycles.

    Parameters
    ----------
    peak_value : float, default=0.001
        Step size at the top of each cycle, > 0.
    n_epochs : float, default=100
        Epochs of the whole schedule, > 0; set it to ``max_iter``. The rate stays zero
        after it.
    n_cycles : int, default=4
        Number of cycles, >= 1.

    Examples
    --------
    >>> from skadam.optim import CosineLogSchedule
    >>> schedule = CosineLogSchedule(peak_value=1.0, n_epochs=15, n_cycles=4)
    >>> [round(schedule.value(epoch), 3) for epoch in (0, 1, 3, 7, 15, 20)]
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> [round(schedule.value(2 ** (cycle + 0.5) - 1), 3) for cycle in range(4)]
    [1.0, 1.0, 1.0, 1.0]
    """

    _parameter_constraints = {
        "peak_value": [_POSITIVE],
        "n_epochs": [_POSITIVE],
        "n_cycles": [Interval(Integral, 1, None, closed="left")],
    }
    per_epoch = True

    def __init__(self, peak_value=0.001, n_epochs=100, n_cycles=4):
        self.peak_value = peak_value
        self.n_epochs = n_epochs
        self.n_cycles = n_cycles

    def value(self, epoch):
        """Return the learning rate of the update that completes progress ``epoch``.

        Parameters
        ----------
        epoch : float
            Training progress, in passes over the data, at the end of this update.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import CosineLogSchedule
        >>> round(CosineLogSchedule(peak_value=2.0, n_epochs=1, n_cycles=1).value(2 ** 0.5 - 1), 6)
        2.0
        """
        progress = min(epoch / self.n_epochs, 1.0)
        cycles = math.log2(1.0 + (2.0**self.n_cycles - 1.0) * progress)
        return self.peak_value * 0.5 * (1.0 - math.cos(2.0 * math.pi * cycles))


class ReduceOnPlateauSchedule(LearningRateSchedule):
    """Divide the rate by a factor whenever the monitored quantity stops improving.

    The rate starts at ``initial_value``; after every epoch (every ``partial_fit`` call)
    the estimator reports what its early stopping monitors, the validation score when it
    has validation data, else the negative training objective. When that has not
    improved by more than the estimator's ``tol`` on its best for ``patience`` epochs in a
    row, the rate is multiplied by ``factor`` (not below ``min_value``) and the count
    starts again. This is scikit-learn's ``learning_rate="adaptive"`` (a factor of 1/5) as
    a schedule for any optimizer, counted in epochs whatever the size of the data. With
    early stopping, keep ``n_iter_no_change`` a few times ``patience``, so that the rate
    can fall before training stops.

    The best value, the epochs without progress and the number of reductions live in
    the optimizer state (``plateau_best``, ``plateau_wait``, ``plateau_reductions``),
    so ``warm_start``, ``partial_fit`` and pickling carry them on.

    Parameters
    ----------
    initial_value : float, default=0.001
        Step size until the first plateau, > 0.
    factor : float, default=0.2
        What the rate is multiplied by at each plateau, in (0, 1).
    patience : int, default=5
        Epochs without progress that make a plateau, >= 1.
    min_value : float, default=0.0
        The rate never falls below this, >= 0.

    Examples
    --------
    >>> from skadam.optim import ReduceOnPlateauSchedule
    >>> schedule = ReduceOnPlateauSchedule(initial_value=0.1, factor=0.5, patience=2)
    >>> [schedule.value(reductions) for reductions in (0, 1, 3)]
    [0.1, 0.05, 0.0125]

    In a fit, the rate falls once the training loss stalls:

    >>> import numpy as np
    >>> from skadam import LinearRegression
    >>> from skadam.optim import Adam
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> model = LinearRegression(solver=Adam(learning_rate=schedule), max_iter=40,
    ...                          n_iter_no_change=40, tol=1e-3, random_state=0).fit(X, y)
    >>> model.optimizer_state_.plateau_reductions > 0
    True
    """

    _parameter_constraints = {
        "initial_value": [_POSITIVE],
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_value": [Interval(Real, 0, None, closed="left")],
    }
    # value() reads the number of reductions kept in the optimizer state.
    on_plateau = True

    def __init__(self, initial_value=0.001, factor=0.2, patience=5, min_value=0.0):
        self.initial_value = initial_value
        self.factor = factor
        self.patience = patience
        self.min_value = min_value

    def value(self, n_reductions):
        """Return the rate after ``n_reductions`` plateaus.

        Parameters
        ----------
        n_reductions : int
            Plateaus so far.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> from skadam.optim import ReduceOnPlateauSchedule
        >>> ReduceOnPlateauSchedule(1.0, factor=0.1, min_value=0.05).value(2)
        0.05
        """
        return max(self.initial_value * self.factor**n_reductions, self.min_value)

    def observe(self, state, monitored, tol):
        """Count an epoch whose monitored quantity was ``monitored`` (higher is better).

        Parameters
        ----------
        state : OptimizerState
            The state of the run, whose plateau bookkeeping this updates.
        monitored : float
            The epoch's validation score, or its negative training objective.
        tol : float
            The least improvement on the best that counts as progress.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam, ReduceOnPlateauSchedule
        >>> schedule = ReduceOnPlateauSchedule(patience=2)
        >>> state = Adam(learning_rate=schedule).init_state(np.zeros(1))
        >>> for score in (1.0, 1.0, 1.0):
        ...     schedule.observe(state, score, tol=0.0)
        >>> state.plateau_reductions, state.plateau_wait
        (1, 0)
        """
        if monitored > state.plateau_best + tol:
            state.plateau_best, state.plateau_wait = monitored, 0
            return
        state.plateau_wait += 1
        if state.plateau_wait >= self.patience:
            state.plateau_reductions += 1
            state.plateau_wait = 0
