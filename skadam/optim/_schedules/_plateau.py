"""The schedule that lowers the rate when what early stopping monitors stops improving."""

import math
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ._protocol import POSITIVE, LearningRateSchedule


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
        "initial_value": [POSITIVE],
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_value": [Interval(Real, 0, None, closed="left")],
    }
    # The best monitored value, the epochs since, the plateaus so far.
    _STATE_DEFAULTS = {"plateau_best": -math.inf, "plateau_wait": 0, "plateau_reductions": 0}

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

    def rate(self, state):
        """The rate after the plateaus counted in ``state`` (see :meth:`value`).

        Parameters
        ----------
        state : OptimizerState
            The run's optimizer state.

        Returns
        -------
        learning_rate : float

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam, ReduceOnPlateauSchedule
        >>> schedule = ReduceOnPlateauSchedule(1.0, factor=0.5)
        >>> state = Adam(learning_rate=schedule).init_state(np.zeros(1))
        >>> state.plateau_reductions = 2
        >>> schedule.rate(state)
        0.25
        """
        return self.value(state.plateau_reductions)

    def state_defaults(self):
        """The plateau bookkeeping's names and starting values.

        Returns
        -------
        defaults : dict of str to float or int

        Examples
        --------
        >>> from skadam.optim import ReduceOnPlateauSchedule
        >>> ReduceOnPlateauSchedule().state_defaults()["plateau_reductions"]
        0
        """
        return dict(self._STATE_DEFAULTS)

    def end_epoch(self, state, monitored, tol):
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
        ...     schedule.end_epoch(state, score, tol=0.0)
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
