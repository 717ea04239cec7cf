"""Per-coordinate adaptive step sizes: RMSprop (Tieleman & Hinton) and Adagrad (Duchi et al.)."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import Optimizer
from ._chunks import for_each_chunk


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of its recent values.

    As ``torch.optim.RMSprop`` (non-centred, ``rho`` is torch's ``alpha``)::

        square_avg = rho * square_avg + (1 - rho) * g**2    # starts at zero
        direction = g / (sqrt(square_avg) + epsilon)
        velocity = momentum * velocity + direction          # when momentum > 0
        params -= learning_rate * (velocity if momentum > 0 else direction)

    It is Adam's second moment without the first moment and without bias correction.

    Parameters
    ----------
    learning_rate : float or schedule, default=0.001
        Step size, or a schedule object with a ``value(step)`` method.
    rho : float, default=0.9
        Decay rate of the squared-gradient average, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, >= 0.
    momentum : float, default=0.0
        Momentum factor applied to the scaled gradient, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import RMSprop
    >>> params = np.array([1.0, -1.0])
    >>> opt = RMSprop(learning_rate=0.01)
    >>> state = opt.init_state(params)
    >>> for _ in range(200):  # minimise ||params||^2
    ...     opt.step(params, 2 * params, state)
    >>> bool(np.abs(params).max() < 0.05)
    True
    """

    _parameter_constraints = {
        **Optimizer._parameter_constraints,
        "rho": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-8, momentum=0.0):
        self.learning_rate = learning_rate
        self.rho = rho
        self.epsilon = epsilon
        self.momentum = momentum

    def buffer_names(self):
        """Names of the state's buffers: ``square_avg``, and ``velocity`` with momentum.

        Returns
        -------
        names : tuple of str
            The per-parameter buffers of the state.

        Examples
        --------
        >>> from skadam.optim import RMSprop
        >>> RMSprop(momentum=0.5).buffer_names()
        ('square_avg', 'velocity')
        """
        return ("square_avg", "velocity") if self.momentum > 0 else ("square_avg",)

    def update(self, params, grad, state, learning_rate):
        """Apply one RMSprop step in place; see the class docstring for the equations.

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
        >>> from skadam.optim import RMSprop
        >>> params, opt = np.zeros(1), RMSprop(rho=0.75)
        >>> opt.update(params, np.array([3.0]), opt.init_state(params), 0.5)
        >>> params.round(6)  # 0.5 * 3 / sqrt(0.25 * 9)
        array([-1.])
        """
        rho, epsilon, momentum = float(self.rho), float(self.epsilon), float(self.momentum)

        def update_chunk(start, arrays, s):
            p, g, square_avg, *velocity = arrays
            square_avg *= rho
            np.multiply(g, g, out=s)
            s *= 1.0 - rho
            square_avg += s
            np.sqrt(square_avg, out=s)
            s += epsilon
            np.divide(g, s, out=s)
            if velocity:
                velocity[0] *= momentum
                velocity[0] += s
                np.multiply(velocity[0], -learning_rate, out=s)
            else:
                s *= -learning_rate
            p += s

        buffers = (state.square_avg, state.velocity) if momentum > 0 else (state.square_avg,)
        for_each_chunk(update_chunk, (params, grad, *buffers), state.scratch)


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011): steps shrink with the gradients' history.

    As ``torch.optim.Adagrad`` (no learning-rate decay, accumulator starting at zero)::

        sum_squares += g**2
        params -= learning_rate * g / (sqrt(sum_squares) + epsilon)

    Suited to sparse features, whose rare non-zero gradients keep large steps; on dense
    problems its step sizes decay like 1/sqrt(t), which Adam's moving average avoids.

    Parameters
    ----------
    learning_rate : float or schedule, default=0.01
        Step size, or a schedule object with a ``value(step)`` method.
    epsilon : float, default=1e-10
        Added to the denominator for numerical stability, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import Adagrad
    >>> params = np.array([1.0, -1.0])
    >>> opt = Adagrad(learning_rate=0.5)
    >>> state = opt.init_state(params)
    >>> for _ in range(200):  # minimise ||params||^2
    ...     opt.step(params, 2 * params, state)
    >>> bool(np.abs(params).max() < 1e-3)
    True
    """

    _parameter_constraints = {
        **Optimizer._parameter_constraints,
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, learning_rate=0.01, epsilon=1e-10):
        self.learning_rate = learning_rate
        self.epsilon = epsilon

    def buffer_names(self):
        """Names of the state's buffers: the running ``sum_squares`` of the gradients.

        Returns
        -------
        names : tuple of str
            The per-parameter buffers of the state.

        Examples
        --------
        >>> from skadam.optim import Adagrad
        >>> Adagrad().buffer_names()
        ('sum_squares',)
        """
        return ("sum_squares",)

    def update(self, params, grad, state, learning_rate):
        """Apply one Adagrad step in place; see the class docstring for the equations.

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
        >>> from skadam.optim import Adagrad
        >>> params, opt = np.zeros(1), Adagrad()
        >>> opt.update(params, np.array([3.0]), opt.init_state(params), 0.5)
        >>> params
        array([-0.5])
        """
        epsilon = float(self.epsilon)

        def update_chunk(start, arrays, s):
            p, g, sum_squares = arrays
            np.multiply(g, g, out=s)
            sum_squares += s
            np.sqrt(sum_squares, out=s)
            s += epsilon
            np.divide(g, s, out=s)
            s *= -learning_rate
            p += s

        for_each_chunk(update_chunk, (params, grad, state.sum_squares), state.scratch)
