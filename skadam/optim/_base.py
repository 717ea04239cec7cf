"""The optimizer protocol: hyperparameters on the optimizer, moving parts in a state."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, Interval

from ._chunks import chunk_layout
from ._stacked import StackedStates, stacked_step


class OptimizerState:
    """The moving parts of one optimization run: step count and per-parameter buffers.

    An optimizer never stores anything on itself; :meth:`Optimizer.init_state` returns a
    state and :meth:`Optimizer.step` advances it in place. The estimator that owns a run
    owns its state, so one optimizer object can serve any number of runs.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        The flat parameter buffer the state is for; buffers take its shape and dtype.
    buffer_names : tuple of str, default=()
        Names of the per-parameter buffers to create, each zero-initialised and
        available as an attribute of the same name.
    n_decayed : int, default=None
        How many leading entries of ``params`` are subject to decoupled weight decay
        (the weights; intercepts come after them). ``None`` means all of them.
    scratch : bool, default=True
        Whether to allocate :attr:`scratch`; optimizers whose step is one fused loop
        need none.
    schedule_state : dict of str to float or int, default=None
        The learning-rate schedule's own state (``LearningRateSchedule.state_defaults``),
        each entry an attribute of the state.

    Attributes
    ----------
    t : int
        Number of steps taken so far.
    epoch : float
        Training progress, in passes over the data, that the coming step completes:
        what a schedule counted in epochs reads (see ``LearningRateSchedule``).
    schedule_names : tuple of str
        Names of the schedule's own state, such as a :class:`ReduceOnPlateauSchedule`'s
        ``plateau_reductions``.
    n_params : int
        Length of the parameter buffer.
    n_decayed : int
        Leading entries subject to weight decay.
    buffer_names : tuple of str
        Names of the per-parameter buffers.
    dtype : numpy.dtype
        The dtype of the parameters and buffers.
    scratch : ndarray of shape (n_threads, chunk_length)
        One row per thread for the intermediate values of a chunk of the buffer (see
        ``skadam.optim._chunks``), so that steps allocate nothing; ``(n_threads, 0)``
        when not asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import Adam
    >>> state = Adam().init_state(np.zeros(3))
    >>> state
    OptimizerState(t=0, n_params=3, buffers=('m', 'v'), dtype=float64)
    >>> state.m
    array([0., 0., 0.])
    """

    def __init__(self, params, buffer_names=(), *, n_decayed=None, scratch=True,
                 schedule_state=None):
        n_params = params.shape[0]
        # The step count lives in an array, so that a stack of runs can count the
        # steps of all of them in one array of which this is a view.
        self._steps = np.zeros(1, dtype=np.int64)
        # Training progress in epochs at the end of the coming update, for schedules
        # counted in epochs; the estimators set it before every update.
        self.epoch = 0.0
        schedule_state = schedule_state or {}
        self.schedule_names = tuple(schedule_state)
        for name, value in schedule_state.items():
            setattr(self, name, value)
        self.n_params = n_params
        self.dtype = params.dtype
        self.n_decayed = n_params if n_decayed is None else int(n_decayed)
        self.buffer_names = tuple(buffer_names)
        for name in self.buffer_names:
            setattr(self, name, np.zeros_like(params))
        chunk_length, n_threads = chunk_layout(n_params)
        self.scratch = np.empty((n_threads, chunk_length if scratch else 0), dtype=params.dtype)

    @property
    def t(self):
        """Number of steps taken so far."""
        return int(self._steps[0])

    @t.setter
    def t(self, value):
        self._steps[0] = value

    def detach(self):
        """Give the state arrays of its own, should its buffers be views of a stack's.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam
        >>> stack = np.zeros((2, 3))
        >>> state = Adam().init_state(np.zeros(3))
        >>> state.m = stack[0]
        >>> state.detach()
        >>> np.shares_memory(state.m, stack)
        False
        """
        for name in self.buffer_names:
            setattr(self, name, getattr(self, name).copy())
        self._steps = self._steps.copy()

    def __repr__(self):
        return (
            f"OptimizerState(t={self.t}, n_params={self.n_params}, "
            f"buffers={self.buffer_names}, dtype={self.dtype})"
        )


def _check_params(params, caller):
    if not isinstance(params, np.ndarray) or params.ndim != 1:
        raise ValueError(
            f"{caller} works on one flat 1-D parameter buffer; got "
            f"{type(params).__name__} with shape {np.shape(params)}. Pass params.ravel() "
            "of a contiguous array, or a numpy array of the parameters."
        )
    if params.dtype.kind != "f":
        raise ValueError(
            f"{caller} needs a floating-point parameter buffer (float32 or float64); got "
            f"dtype {params.dtype}. Convert it with params.astype(np.float64)."
        )


class Optimizer(BaseEstimator):
    """Base class of the optimizers: hyperparameters here, moving parts in a state.

    An optimizer follows scikit-learn's estimator rules: ``__init__`` stores its
    arguments untouched, ``get_params``/``set_params`` expose them (so a grid search
    tunes ``solver__learning_rate``), and nothing is ever written to ``self`` afterwards.
    Everything that changes during training lives in the :class:`OptimizerState`
    returned by :meth:`init_state`, advanced in place by :meth:`step`.

    To write your own optimizer, subclass this, store the hyperparameters in
    ``__init__``, name the zero-initialised per-parameter buffers it needs in
    :meth:`buffer_names`, and implement :meth:`update`, which changes ``params`` and the
    state's buffers in place. The base class validates hyperparameters (declare their
    ranges in ``_parameter_constraints``), checks each gradient, counts steps and
    resolves learning-rate schedules. An estimator accepts the result as ``solver=``.

    Parameters
    ----------
    learning_rate : float or schedule
        Step size, or an object with a ``value(step)`` method (see
        :class:`ConstantSchedule` and its siblings) giving the step size of the update
        that follows ``step`` earlier updates.

    Examples
    --------
    A sign-SGD optimizer in a few lines:

    >>> import numpy as np
    >>> from skadam.optim import Optimizer
    >>> class SignSGD(Optimizer):
    ...     '''Steps every coordinate by the learning rate against its gradient's sign.'''
    ...     def __init__(self, learning_rate=0.1):
    ...         self.learning_rate = learning_rate
    ...
    ...     def update(self, params, grad, state, learning_rate):
    ...         params -= learning_rate * np.sign(grad)
    >>> opt = SignSGD()
    >>> params = np.array([1.0, -2.0])
    >>> state = opt.init_state(params)
    >>> opt.step(params, np.array([0.5, -3.0]), state)
    >>> params
    array([ 0.9, -1.9])
    >>> state.t
    1
    """

    _parameter_constraints = {
        # A schedule: what LearningRateSchedule's protocol asks for.
        "learning_rate": [Interval(Real, 0, None, closed="neither"),
                          HasMethods(["value", "rate", "state_defaults", "end_epoch"])],
    }
    # Whether update() uses state.scratch; a fused compiled step does not.
    _needs_scratch = True

    def __init__(self, learning_rate=0.001):
        self.learning_rate = learning_rate

    def buffer_names(self):
        """Names of the zero-initialised per-parameter buffers this optimizer keeps.

        Returns
        -------
        names : tuple of str
            Each becomes an attribute of the state, shaped and typed like ``params``.

        Examples
        --------
        >>> from skadam.optim import Adam
        >>> Adam(amsgrad=True).buffer_names()
        ('m', 'v', 'v_max')
        """
        return ()

    def init_state(self, params, *, n_decayed=None):
        """Validate the hyperparameters and create the state of a new run.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter buffer to optimize (float32 or float64).
        n_decayed : int, default=None
            How many leading entries of ``params`` decoupled weight decay acts on (the
            weights, stored before the intercepts). ``None`` means all.

        Returns
        -------
        state : OptimizerState
            Step count zero and zeroed buffers, to pass to every :meth:`step`.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import SGD
        >>> SGD(momentum=0.9).init_state(np.zeros(2, dtype=np.float32)).velocity
        array([0., 0.], dtype=float32)
        """
        caller = type(self).__name__
        self._validate_hyperparameters()
        _check_params(params, caller)
        if n_decayed is not None and not 0 <= n_decayed <= params.shape[0]:
            raise ValueError(
                f"n_decayed must lie in [0, {params.shape[0]}] (the length of params); "
                f"got {n_decayed}."
            )
        schedule = self.learning_rate
        return OptimizerState(
            params, self.buffer_names(), n_decayed=n_decayed, scratch=self._needs_scratch,
            schedule_state=None if isinstance(schedule, Real) else schedule.state_defaults(),
        )

    def step(self, params, grad, state):
        """Apply one update to ``params`` and ``state`` in place.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter buffer, changed in place.
        grad : ndarray of shape (n_params,)
            Gradient of the objective at ``params``; must be finite.
        state : OptimizerState
            The state returned by :meth:`init_state` for this buffer.

        Raises
        ------
        ValueError
            If ``grad`` has another shape than ``params``, holds NaN or infinity, or the
            state belongs to a buffer of another length. Nothing is changed then.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import SGD
        >>> params = np.array([1.0, 2.0])
        >>> opt = SGD(learning_rate=0.5)
        >>> state = opt.init_state(params)
        >>> opt.step(params, np.array([1.0, -1.0]), state)
        >>> params
        array([0.5, 2.5])
        """
        self._check_shapes(params, grad, state)
        if np.may_share_memory(grad, params):  # a step reads and writes disjoint arrays
            grad = grad.copy()
        # A run alone is a stack of one: the same step as in any stack.
        bad_rows = stacked_step([self], params[np.newaxis], grad[np.newaxis],
                                StackedStates([state]))
        if bad_rows.size:
            raise ValueError(
                f"{type(self).__name__}.step got a gradient with NaN or infinite entries; "
                "parameters and state are left unchanged. The objective has diverged or "
                "the data hold non-finite values: lower the learning rate or check the "
                "inputs."
            )

    def update(self, params, grad, state, learning_rate):
        """Change ``params`` and the state's buffers in place; ``state.t`` is already advanced.

        Subclasses implement this. It is called by :meth:`step` after the gradient has
        been checked, with ``state.t`` counting the current step from 1 and the learning
        rate already resolved from a schedule.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter buffer.
        grad : ndarray of shape (n_params,)
            Its gradient, finite and of the same shape.
        state : OptimizerState
            This run's state.
        learning_rate : float
            The step size of this step.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import SGD
        >>> params = np.array([1.0])
        >>> opt = SGD()
        >>> opt.update(params, np.array([2.0]), opt.init_state(params), 0.25)
        >>> params
        array([0.5])
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement update(params, grad, state, learning_rate)."
        )

    @classmethod
    def _update_rows(cls, optimizers, params, grad, stacked, learning_rates):
        """Update K runs stacked as rows (see ``skadam.optim._stacked``), all of this class.

        This default updates row by row through :meth:`update`, so that an optimizer
        written against the one-buffer protocol trains in any stack; an optimizer with a
        stacked form of its step overrides it.
        """
        for row, optimizer in enumerate(optimizers):
            optimizer.update(params[row], grad[row], stacked.states[row],
                             float(learning_rates[row]))

    def _check_hyperparameters(self):
        """Checks that involve several hyperparameters; ranges go in _parameter_constraints."""

    def _validate_hyperparameters(self):
        """Every check of the hyperparameters a run makes when it starts (``init_state``).

        A batched search makes them too, before it groups runs: an invalid optimizer must
        fail alone, not in a stack with valid ones.
        """
        self._validate_params()
        self._check_hyperparameters()
        schedule = self.learning_rate
        if isinstance(schedule, BaseEstimator) and hasattr(schedule, "_validate_params"):
            schedule._validate_params()

    def _learning_rate_at(self, state):
        learning_rate = self.learning_rate
        # The exact type check first: it spares the abstract-class check in every step.
        if type(learning_rate) is float or isinstance(learning_rate, Real):
            return float(learning_rate)
        return float(learning_rate.rate(state))

    def end_epoch(self, state, monitored, tol):
        """Tell the learning-rate schedule what early stopping monitored after an epoch.

        Parameters
        ----------
        state : OptimizerState
            The state of the run whose epoch ended.
        monitored : float
            The epoch's validation score, or its negative training objective.
        tol : float
            The estimator's least improvement that counts as progress.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam, ReduceOnPlateauSchedule
        >>> optimizer = Adam(learning_rate=ReduceOnPlateauSchedule(patience=1))
        >>> state = optimizer.init_state(np.zeros(2))
        >>> for score in (0.5, 0.5):
        ...     optimizer.end_epoch(state, score, tol=0.0)
        >>> state.plateau_reductions
        1
        """
        if not isinstance(self.learning_rate, Real):
            self.learning_rate.end_epoch(state, monitored, tol)

    def _check_shapes(self, params, grad, state):
        caller = type(self).__name__
        _check_params(params, caller)
        if not isinstance(grad, np.ndarray) or grad.shape != params.shape:
            raise ValueError(
                f"{caller}.step needs a gradient of the parameters' shape {params.shape}; "
                f"got shape {np.shape(grad)}. Compute the gradient for every entry of the "
                "flat parameter buffer."
            )
        if params.shape[0] != state.n_params:
            raise ValueError(
                f"{caller}.step got a state made for {state.n_params} parameters and a "
                f"buffer of {params.shape[0]}. Call init_state(params) for this buffer."
            )
