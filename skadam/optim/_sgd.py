"""Stochastic gradient descent with optional heavy-ball or Nesterov momentum."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import Optimizer
from ._chunks import for_each_chunk


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum as ``torch.optim.SGD`` defines it.

    Without momentum, ``params -= learning_rate * g``. With momentum ``mu``, a velocity
    accumulates the gradients and the step follows it (Polyak's heavy ball), or looks
    one velocity ahead (Nesterov, in the form of Sutskever et al., 2013)::

        velocity = mu * velocity + g                  # starts at zero
        direction = g + mu * velocity if nesterov else velocity
        params -= learning_rate * direction

    Parameters
    ----------
    learning_rate : float or schedule, default=0.01
        Step size, or a schedule object with a ``value(step)`` method.
    momentum : float, default=0.0
        Momentum factor ``mu`` in [0, 1).
    nesterov : bool, default=False
        Use Nesterov momentum; needs ``momentum > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import SGD
    >>> params = np.array([1.0, -1.0])
    >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    >>> state = opt.init_state(params)
    >>> for _ in range(100):  # minimise ||params||^2
    ...     opt.step(params, 2 * params, state)
    >>> bool(np.abs(params).max() < 1e-3)
    True
    """

    _parameter_constraints = {
        **Optimizer._parameter_constraints,
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
    }

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov

    def buffer_names(self):
        """Names of the state's buffers: ``velocity`` when momentum is used, else none.

        Returns
        -------
        names : tuple of str
            The per-parameter buffers of the state.

        Examples
        --------
        >>> from skadam.optim import SGD
        >>> SGD().buffer_names(), SGD(momentum=0.9).buffer_names()
        ((), ('velocity',))
        """
        return ("velocity",) if self.momentum > 0 else ()

    def _check_hyperparameters(self):
        if self.nesterov and self.momentum <= 0:
            raise ValueError(
                "SGD(nesterov=True) needs momentum > 0; got momentum="
                f"{self.momentum}. Set momentum (e.g. 0.9) or nesterov=False."
            )

    def update(self, params, grad, state, learning_rate):
        """Apply one SGD step in place; see the class docstring for the equations.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter buffer.
        grad : ndarray of shape (n_params,)
            Its gradient.
        state : OptimizerState
            This run's state.
        learning_rate : float
            The step size of this step.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import SGD
        >>> params, opt = np.zeros(1), SGD()
        >>> opt.update(params, np.array([3.0]), opt.init_state(params), 0.5)
        >>> params
        array([-1.5])
        """
        momentum, nesterov = float(self.momentum), self.nesterov

        def update_chunk(start, arrays, s):
            p, g, *velocity = arrays
            if not velocity:
                np.multiply(g, -learning_rate, out=s)
            else:
                velocity = velocity[0]
                velocity *= momentum
                velocity += g
                if nesterov:
                    np.multiply(velocity, momentum, out=s)
                    s += g
                    s *= -learning_rate
                else:
                    np.multiply(velocity, -learning_rate, out=s)
            p += s

        buffers = (state.velocity,) if momentum > 0 else ()
        for_each_chunk(update_chunk, (params, grad, *buffers), state.scratch)
