"""Cosine schedules: with a warm-up over updates, over epochs with a flat stretch, and
RealMLP's cycles of doubling length."""

import math
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ._protocol import POSITIVE, LearningRateSchedule


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
        "peak_value": [POSITIVE],
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
        "peak_value": [POSITIVE],
        "n_epochs": [POSITIVE],
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
        "peak_value": [POSITIVE],
        "n_epochs": [POSITIVE],
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
