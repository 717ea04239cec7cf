"""Several runs of one optimizer class stepped together, one run per row of a 2-D buffer.

A grid search over an optimizer's hyperparameters trains K runs that differ in nothing
else. Their parameters, gradients and state buffers are stacked as rows of (K, n_params)
arrays, and :func:`stacked_step` advances all of them in one call: for Adam and AdamW one
compiled loop over the rows, each with its own β1, β2, η, ε (outside and inside the
square root) and decay. Every row follows exactly the trajectory its run would follow
alone, bit for bit.
"""

from numbers import Real

import numpy as np


class StackedStates:
    """The states of K runs with their buffers moved into rows of (K, n_params) arrays.

    Each state's buffers become views of its row, so every state stays valid on its own
    (a model fitted in a batched search keeps a usable ``optimizer_state_``).

    Parameters
    ----------
    states : list of OptimizerState
        States made by optimizers of one class with the same ``buffer_names()``, for
        buffers of one length and dtype.

    Attributes
    ----------
    states : list of OptimizerState
        The states, in row order.
    buffers : dict of str to ndarray of shape (K, n_params)
        The stacked buffers by name.
    cache : dict
        Values an optimizer class derives once per stack in its ``_update_rows``, such
        as its hyperparameters as arrays of one value per row.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import Adam
    >>> from skadam.optim._stacked import StackedStates
    >>> states = [Adam().init_state(np.zeros(3)) for _ in range(2)]
    >>> stacked = StackedStates(states)
    >>> stacked.buffers["m"].shape
    (2, 3)
    >>> np.shares_memory(states[1].m, stacked.buffers["m"])
    True
    """

    def __init__(self, states):
        self.states = list(states)
        names = self.states[0].buffer_names
        if any(state.buffer_names != names for state in self.states):
            raise ValueError("Only states with the same buffers can be stacked.")
        self.buffers = {}
        self.cache = {}
        for name in names:
            stacked = np.stack([getattr(state, name) for state in self.states])
            for row, state in enumerate(self.states):
                setattr(state, name, stacked[row])
            self.buffers[name] = stacked

    def select(self, rows):
        """Keep only ``rows`` (in that order): the others' states get buffers of their own.

        Parameters
        ----------
        rows : sequence of int
            The rows to keep.

        Returns
        -------
        stacked : StackedStates
            The states of ``rows``, stacked afresh.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam
        >>> from skadam.optim._stacked import StackedStates
        >>> states = [Adam().init_state(np.zeros(3)) for _ in range(3)]
        >>> StackedStates(states).select([2, 0]).states == [states[2], states[0]]
        True
        """
        kept = set(rows)
        for row, state in enumerate(self.states):
            if row not in kept:
                for name in state.buffer_names:
                    setattr(state, name, getattr(state, name).copy())
        return StackedStates([self.states[row] for row in rows])


def stacked_step(optimizers, params, grad, stacked):
    """One step of K runs, row ``k`` with ``optimizers[k]``; or none if a gradient is bad.

    Parameters
    ----------
    optimizers : list of Optimizer
        One optimizer per row, all of one class.
    params : ndarray of shape (K, n_params)
        The runs' parameters, changed in place.
    grad : ndarray of shape (K, n_params)
        Their gradients.
    stacked : StackedStates
        The runs' states.

    Returns
    -------
    bad_rows : ndarray of int
        The rows whose gradient holds NaN or infinity. When there are any, nothing is
        changed: a run alone would stop there, so the caller drops those rows and steps
        the others.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import Adam
    >>> from skadam.optim._stacked import StackedStates, stacked_step
    >>> optimizers = [Adam(learning_rate=0.1), Adam(learning_rate=0.01)]
    >>> params = np.zeros((2, 2))
    >>> stacked = StackedStates([opt.init_state(row) for opt, row in zip(optimizers, params)])
    >>> stacked_step(optimizers, params, np.ones((2, 2)), stacked)
    array([], dtype=int64)
    >>> params
    array([[-0.1 , -0.1 ],
           [-0.01, -0.01]])
    """
    with np.errstate(over="ignore", invalid="ignore"):
        totals = grad.sum(axis=1)
    if not np.isfinite(totals).all():
        # A sum is non-finite whenever an entry is, or when it overflows: check the rows.
        bad_rows = np.array([row for row in np.flatnonzero(~np.isfinite(totals))
                             if not np.isfinite(grad[row]).all()], dtype=np.int64)
        if bad_rows.size:
            return bad_rows
    for state in stacked.states:
        state.t += 1
    learning_rates = stacked.cache.get("learning_rates")
    if learning_rates is None:
        learning_rates = np.array([optimizer._learning_rate_at(state.t) for optimizer, state
                                   in zip(optimizers, stacked.states, strict=True)])
        if all(isinstance(optimizer.learning_rate, Real) for optimizer in optimizers):
            stacked.cache["learning_rates"] = learning_rates  # no schedule: fixed
    type(optimizers[0])._update_rows(optimizers, params, grad, stacked, learning_rates)
    return np.array([], dtype=np.int64)
