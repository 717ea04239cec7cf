"""A run: everything a model has trained, as one object a fit starts, resumes, forks or copies.

An estimator's fitted state is its description of the data (``n_features_in_``,
``classes_``, the regressors' target scaling) and one :class:`Run`: the layout of the
parameters and the embedding, the parameters (and their moving average), the optimizer
and one state per member, the history, the shuffling and dropout streams. ``fit``
starts a run (:meth:`Run.start`); ``warm_start`` and ``partial_fit`` go on from a copy
of the last one (:meth:`Run.resumed`), so a call that raises leaves the model's run as
it was; a batched search forks the run one grid point prepared into the others'
(:meth:`Run.fork`). The loop (``skadam._loop``) trains runs and never reads an
estimator: what one call asks of a run (its penalty, its stopping rule, the horizon of
its average, the way back to its estimator) is set by :meth:`Run.for_call`.
"""

import copy

import numpy as np

from ._history import History


class Stopping:
    """When a call's epochs stop, and what early stopping keeps.

    Parameters
    ----------
    tol : float
        The least improvement of the monitored quantity that counts as progress.
    n_iter_no_change : int
        Epochs in a row without progress that end ``fit``.
    restore_best : bool
        Whether ``fit`` ends with the weights of the best validation score, when it
        validates.
    """

    def __init__(self, tol, n_iter_no_change, restore_best):
        # As given: the messages quote them as the user wrote them.
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.restore_best = bool(restore_best)


class Run:
    """One model's trained state: parameters, optimizer states, history and streams.

    Parameters
    ----------
    layout : ParameterLayout
        Where each layer's weights and biases sit in a row of ``params``.
    embedding : PeriodicEmbedding or None
        The embedding of numeric columns in front of the first layer.
    params : ndarray of shape (n_members, n_params)
        The parameters of each member, one network per row; where the run averages its
        weights, their moving average, which it validates, keeps and predicts with.
    optimizer : Optimizer
        The resolved solver, the same for every member.
    states : list of OptimizerState
        One optimizer state per member.
    history : History
        The epochs so far, with the best validated weights.
    rng : RandomState
        The stream that shuffles the data (and drew the first member's initial weights).
    seed : int
        The seed drawn from ``random_state`` at the start: it splits off the validation
        data and seeds the other members' and dropout's streams.
    dropout_rngs : list of numpy.random.Generator, default=None
        Each member's stream of dropout masks, for a network that drops units.
    trained_params : ndarray of shape (n_members, n_params), default=None
        For a run that averages its weights, the weights the optimizer steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> model = LinearRegression(max_iter=5, random_state=0).fit(X, X @ [1.0, 2.0, 3.0])
    >>> run = model._run
    >>> run.history.n_iter, run.params.shape
    (5, (1, 4))
    >>> resumed = run.resumed(run.optimizer, dropout=False, averaging=False)
    >>> resumed.params is run.params, bool(np.array_equal(resumed.params, run.params))
    (False, True)
    """

    def __init__(self, layout, embedding, params, optimizer, states, history, rng, seed, *,
                 dropout_rngs=None, trained_params=None):
        self.layout, self.embedding = layout, embedding
        self.params, self.trained_params = params, trained_params
        self.optimizer, self.states = optimizer, list(states)
        self.history = history
        self.rng, self.seed = rng, seed
        self.dropout_rngs = dropout_rngs
        self.for_call(alpha=0.0, stopping=None)

    @classmethod
    def start(cls, layout, embedding, params, optimizer, rng, seed, *, dropout, averaging):
        """A new run from initial parameters, with fresh optimizer states and history.

        Parameters
        ----------
        layout, embedding, params, optimizer, rng, seed
            As for :class:`Run`.
        dropout : bool
            Whether the network drops units: each member then gets its dropout stream.
        averaging : bool
            Whether the run averages its weights.

        Returns
        -------
        run : Run
            The run, at its first epoch.
        """
        return cls(layout, embedding, params, optimizer, _initial_states(optimizer, params,
                                                                         layout),
                   History(), rng, seed,
                   dropout_rngs=_dropout_streams(seed, len(params)) if dropout else None,
                   trained_params=params.copy() if averaging else None)

    def resumed(self, optimizer, *, dropout, averaging):
        """A copy of the run to go on training with ``optimizer`` (warm start, partial_fit).

        The optimizer's step counts and buffers carry over when its states are of the
        same kind as the run's (the same buffers, sizes and dtypes); otherwise it starts
        afresh from the run's weights. The weights the optimizer steps go on from where
        the run left them: from its average on a run that did not average.

        Parameters
        ----------
        optimizer : Optimizer
            The solver of the next call.
        dropout, averaging : bool
            As for :meth:`start`, for the next call.

        Returns
        -------
        run : Run
            A run that shares no buffer with this one.
        """
        params = self.params.copy()
        states = _initial_states(optimizer, params, self.layout)
        if all(_same_kind_of_state(*pair) for pair in zip(self.states, states, strict=True)):
            for old, new in zip(self.states, states, strict=True):
                _copy_state(old, into=new)
        dropout_rngs = copy.deepcopy(self.dropout_rngs)
        if dropout and dropout_rngs is None:
            dropout_rngs = _dropout_streams(self.seed, len(params))
        trained = self.params if self.trained_params is None else self.trained_params
        return Run(self.layout, self.embedding, params, optimizer, states,
                   copy.deepcopy(self.history), copy.deepcopy(self.rng), self.seed,
                   dropout_rngs=dropout_rngs,
                   trained_params=trained.copy() if averaging else None)

    def fork(self, optimizer, *, averaging):
        """The run another estimator of a batched search starts from, next to this one.

        This run must not have trained yet: the fork has its initial weights, streams
        and layout, and an optimizer, states and history of its own.

        Parameters
        ----------
        optimizer : Optimizer
            The other estimator's solver.
        averaging : bool
            Whether the other estimator averages its weights.

        Returns
        -------
        run : Run
            A run that shares no buffer with this one.
        """
        params = self.params.copy()
        return Run(self.layout, self.embedding, params, optimizer,
                   _initial_states(optimizer, params, self.layout), History(),
                   copy.deepcopy(self.rng), self.seed,
                   dropout_rngs=copy.deepcopy(self.dropout_rngs),
                   trained_params=params.copy() if averaging else None)

    def copy(self):
        """A copy of the run's state, sharing no buffer with it, without its call's hooks.

        Returns
        -------
        run : Run
            The copy.
        """
        hooks, self.hooks = self.hooks, None
        try:
            return copy.deepcopy(self)
        finally:
            self.hooks = hooks

    def for_call(self, *, alpha, stopping, averaging_epochs=0.0, hooks=None):
        """Set what one call asks of the run; return the run.

        Parameters
        ----------
        alpha : float
            The L2 penalty.
        stopping : Stopping or None
            When the call's epochs stop.
        averaging_epochs : float, default=0.0
            The horizon in epochs of the average of the weights (0 without averaging).
        hooks : RunHooks, default=None
            The way back to the estimator: its name in messages, its verbosity, its
            scorer and scikit-learn's callbacks.

        Returns
        -------
        run : Run
            This run.
        """
        self.alpha = float(alpha)
        self.stopping = stopping
        self.averaging_epochs = (float(averaging_epochs) if self.trained_params is not None
                                 else 0.0)
        self.hooks = hooks
        self.steps_before = [state.t for state in self.states]
        self.n_training = self.params.shape[0]  # members not stopped by divergence
        return self

    def end_call(self):
        """Let go of the call's hooks, and with them of the estimator and its callbacks."""
        self.hooks = None

    @property
    def n_members(self):
        """The number of networks of the model."""
        return self.params.shape[0]

    @property
    def stepped_params(self):
        """The buffer of the weights the optimizer steps."""
        return self.params if self.trained_params is None else self.trained_params


def _initial_states(optimizer, params, layout):
    return [optimizer.init_state(member, n_decayed=layout.n_weights) for member in params]


def _dropout_streams(seed, n_members):
    # Streams of their own, seeded from the fit's seed: dropout leaves the shuffling as
    # it is.
    return [np.random.default_rng([seed, 1] + ([member] if member else []))
            for member in range(n_members)]


def _same_kind_of_state(previous, state):
    return (
        previous is not None
        and previous.buffer_names == state.buffer_names
        and previous.n_params == state.n_params
        and all(getattr(previous, name).dtype == getattr(state, name).dtype
                for name in state.buffer_names)
    )


def _copy_state(state, into):
    """Copy an optimizer state's step count, buffers and schedule state into another."""
    into.t = state.t
    for name in into.schedule_names:
        # A state kept under another schedule lacks them: the defaults stay.
        if hasattr(state, name):
            setattr(into, name, getattr(state, name))
    for name in state.buffer_names:
        np.copyto(getattr(into, name), getattr(state, name))
    return into
