"""Runs of one optimizer class stepped together, one run per row of 2-D buffers.

Every training loop in skadam advances a stack of K runs: K = 1 for a fit, more for a
batched search or an ensemble. Their parameters, gradients and state buffers are the
rows of (K, n_params) arrays, and :func:`stacked_step` advances all of them in one call:
for Adam and AdamW one compiled loop over the rows, each with its own β1, β2, η, ε and
decay, and row by row through :meth:`Optimizer.update` for any other optimizer. A run's
step is computed the same way whatever the other rows, so a run in a stack follows the
trajectory it follows alone, bit for bit. :meth:`Optimizer.step` on one flat buffer is
the stack of one.
"""

from numbers import Real

import numpy as np

from .._kernels import all_finite


class StackedStates:
    """The states of K runs with their buffers and step counts as rows of stacked arrays.

    Each state's buffers (and its step count) become views of its row, so every state
    stays valid on its own: a model fitted in a batched search keeps a usable
    ``optimizer_state_``. A stack of one takes views of the state's own arrays, with
    no copy.

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
    steps : ndarray of shape (K,), dtype int64
        The step count of each run (``states[k].t``).
    cache : dict
        Values derived once per stack, such as an optimizer class's hyperparameters as
        arrays of one value per row.

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
        self.cache = {}
        if len(self.states) == 1:
            (state,) = self.states
            self.buffers = {name: getattr(state, name)[np.newaxis] for name in names}
            self.steps = state._steps
            return
        self.buffers = {}
        for name in names:
            stacked = np.stack([getattr(state, name) for state in self.states])
            for row, state in enumerate(self.states):
                setattr(state, name, stacked[row])
            self.buffers[name] = stacked
        self.steps = np.concatenate([state._steps for state in self.states])
        for row, state in enumerate(self.states):
            state._steps = self.steps[row:row + 1]

    def select(self, rows):
        """Keep only ``rows`` (in that order): the others' states get arrays of their own.

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
                state.detach()
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
        changed: such a run stops, so the caller drops those rows and steps the others.

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
    bad_rows = nonfinite_rows(grad)
    if not bad_rows.size:
        step_rows(optimizers, params, grad, stacked)
    return bad_rows


def nonfinite_rows(values):
    """The rows of a (K, n) array that hold NaN or infinity, as an int array.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim._stacked import nonfinite_rows
    >>> nonfinite_rows(np.array([[0.0, 1.0], [np.inf, 0.0]]))
    array([1])
    """
    if all_finite(values):
        return _NONE
    return np.array([row for row in range(values.shape[0]) if not all_finite(values[row])],
                    dtype=np.int64)


_NONE = np.array([], dtype=np.int64)
_NONE.flags.writeable = False


def step_rows(optimizers, params, grad, stacked):
    """One step of K runs whose gradients are known to be finite; see :func:`stacked_step`.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import SGD
    >>> from skadam.optim._stacked import StackedStates, step_rows
    >>> params = np.ones((1, 2))
    >>> optimizer = SGD(learning_rate=0.5)
    >>> step_rows([optimizer], params, np.ones((1, 2)),
    ...           StackedStates([optimizer.init_state(params[0])]))
    >>> params
    array([[0.5, 0.5]])
    """
    stacked.steps += 1
    learning_rates = stacked.cache.get("learning_rates")
    if learning_rates is None:
        learning_rates = np.array([
            optimizer._learning_rate_at(state)
            for optimizer, state in zip(optimizers, stacked.states, strict=True)])
        if all(isinstance(optimizer.learning_rate, Real) for optimizer in optimizers):
            stacked.cache["learning_rates"] = learning_rates  # no schedule: fixed
    type(optimizers[0])._update_rows(optimizers, params, grad, stacked, learning_rates)
