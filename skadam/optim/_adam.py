"""Adam (Kingma & Ba, 2015), its AMSGrad variant (Reddi et al., 2018) and AdamW."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .. import _kernels as kernels
from ._base import Optimizer
from ._chunks import for_each_column_range
from ._stacked import StackedStates


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015, Algorithm 1).

    With ``g`` the gradient at step ``t = 1, 2, ...``::

        m = beta_1 * m + (1 - beta_1) * g              # first moment (momentum)
        v = beta_2 * v + (1 - beta_2) * g**2           # second moment (RMSprop)
        m_hat = m / (1 - beta_1**t)                    # undo the bias towards zero
        v_hat = v / (1 - beta_2**t)
        params -= learning_rate * m_hat / (sqrt(v_hat + epsilon_root) + epsilon)

    ``epsilon`` is added after the bias correction, as in the paper and in
    ``torch.optim.Adam``; both start from zero moments. ``epsilon_root``, zero by
    default, goes inside the square root, as optax's ``eps_root``: ``epsilon=0`` with
    ``epsilon_root > 0`` gives the form ``learning_rate * m_hat / sqrt(v_hat +
    epsilon_root)``, whose step is a smooth function of ``v`` even at ``v = 0``.

    Parameters
    ----------
    learning_rate : float or schedule, default=0.001
        Step size η, or a schedule object with a ``value(step)`` method.
    beta_1 : float, default=0.9
        Decay rate of the first-moment average, in [0, 1).
    beta_2 : float, default=0.999
        Decay rate of the second-moment average, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, >= 0.
    epsilon_root : float, default=0.0
        Added to ``v_hat`` inside the square root, >= 0 (optax's ``eps_root``). The
        denominator is then at least ``sqrt(epsilon_root)`` and the step differentiable
        in ``v`` at zero; a value acts about as an ``epsilon`` of its square root would
        (1e-8 inside is about 1e-4 outside).
    amsgrad : bool, default=False
        Divide by the running maximum of ``v`` instead of ``v`` (AMSGrad, Reddi et al.,
        2018), so the effective step size never grows; the maximum is taken over the
        raw ``v`` and bias-corrected like it, as in torch, before ``epsilon_root`` is
        added.
    bias_correction : bool, default=True
        Apply the ``1 - beta**t`` corrections. ``False`` gives the textbook form
        ``learning_rate * m / (sqrt(v + epsilon_root) + epsilon)``, whose first steps are
        small.

    See Also
    --------
    AdamW : Adam with decoupled weight decay.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam.optim import Adam
    >>> params = np.array([1.0, -1.0])
    >>> opt = Adam(learning_rate=0.1)
    >>> state = opt.init_state(params)
    >>> for _ in range(100):  # minimise ||params||^2, whose gradient is 2 * params
    ...     opt.step(params, 2 * params, state)
    >>> bool(np.abs(params).max() < 0.05)
    True

    The first bias-corrected step moves every coordinate by the learning rate:

    >>> params = np.zeros(3)
    >>> Adam(learning_rate=0.01).step(params, np.array([5.0, -0.2, 1e3]),
    ...                               Adam().init_state(params))
    >>> params
    array([-0.01,  0.01, -0.01])

    With ``epsilon_root`` a gradient of the order of its square root moves less:

    >>> params = np.zeros(2)
    >>> opt = Adam(learning_rate=0.01, epsilon=0.0, epsilon_root=1e-8)
    >>> opt.step(params, np.array([1.0, 1e-4]), opt.init_state(params))
    >>> params.round(6)  # 0.01 * g / sqrt(g**2 + 1e-8)
    array([-0.01    , -0.007071])
    """

    _parameter_constraints = {
        **Optimizer._parameter_constraints,
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "epsilon_root": [Interval(Real, 0, None, closed="left")],
        "amsgrad": ["boolean"],
        "bias_correction": ["boolean"],
    }
    _needs_scratch = False

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        epsilon_root=0.0,
        amsgrad=False,
        bias_correction=True,
    ):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.epsilon_root = epsilon_root
        self.amsgrad = amsgrad
        self.bias_correction = bias_correction

    def buffer_names(self):
        """Names of the state's buffers: the moments ``m``, ``v`` and, for AMSGrad, ``v_max``.

        Returns
        -------
        names : tuple of str
            The per-parameter buffers of the state.

        Examples
        --------
        >>> from skadam.optim import Adam
        >>> Adam().buffer_names()
        ('m', 'v')
        """
        return ("m", "v", "v_max") if self.amsgrad else ("m", "v")

    def _decoupled_weight_decay(self):
        return 0.0

    def update(self, params, grad, state, learning_rate):
        """Apply one Adam step in place; see the class docstring for the equations.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter buffer.
        grad : ndarray of shape (n_params,)
            Its gradient.
        state : OptimizerState
            This run's state, with ``state.t`` already counting this step.
        learning_rate : float
            The step size of this step.

        Examples
        --------
        >>> import numpy as np
        >>> from skadam.optim import Adam
        >>> params, opt = np.zeros(1), Adam()
        >>> state = opt.init_state(params)
        >>> state.t = 1
        >>> opt.update(params, np.array([3.0]), state, 0.5)
        >>> params
        array([-0.5])
        """
        if np.may_share_memory(grad, params):  # the kernel reads and writes disjoint arrays
            grad = grad.copy()
        type(self)._update_rows([self], params[np.newaxis], grad[np.newaxis],
                                StackedStates([state]), np.array([float(learning_rate)]))

    @classmethod
    def _update_rows(cls, optimizers, params, grad, stacked, learning_rates):
        hyperparameters = stacked.cache.get("adam")
        if hyperparameters is None:
            # Fixed for the life of the stack: read from the optimizers once, not per step.
            kinds = {(type(opt), opt.amsgrad, opt.bias_correction) for opt in optimizers}
            hyperparameters = stacked.cache["adam"] = (
                False if len(kinds) > 1 else optimizers[0]._hyperparameters()
                if len(optimizers) == 1 else tuple(
                    np.array(column) for column in zip(
                        *(opt._hyperparameters() for opt in optimizers), strict=True)))
        if hyperparameters is False:  # different buffers or formulas: row by row
            return super()._update_rows(optimizers, params, grad, stacked, learning_rates)
        beta_1, beta_2, epsilon, epsilon_root, decay = hyperparameters
        buffers = stacked.buffers
        arguments = (params, grad, buffers["m"], buffers["v"], buffers.get("v_max"), beta_1,
                     beta_2, learning_rates, epsilon, epsilon_root, decay, stacked.steps,
                     optimizers[0].bias_correction, stacked.states[0].n_decayed)
        # One compiled call steps every run, each with its own hyperparameters; the
        # kernel derives each run's bias-corrected coefficients the same way.
        for_each_column_range(kernels.adam, params.shape[1], arguments)

    def _hyperparameters(self):
        """``(beta_1, beta_2, epsilon, epsilon_root, decay)`` as floats."""
        return (float(self.beta_1), float(self.beta_2), float(self.epsilon),
                float(self.epsilon_root), self._decoupled_weight_decay())


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Each step first shrinks the weights, ``params *= 1 - learning_rate * weight_decay``,
    then applies the :class:`Adam` update to the gradient of the loss alone, as
    ``torch.optim.AdamW`` does. Unlike an L2 term in the loss (the estimators' ``alpha``),
    the decay is not rescaled by Adam's per-coordinate step sizes. Only the leading
    ``n_decayed`` entries given to :meth:`init_state` decay (the estimators pass their
    weights and spare the intercepts).

    Parameters
    ----------
    learning_rate : float or schedule, default=0.001
        Step size η, or a schedule object with a ``value(step)`` method.
    beta_1 : float, default=0.9
        Decay rate of the first-moment average, in [0, 1).
    beta_2 : float, default=0.999
        Decay rate of the second-moment average, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, >= 0.
    epsilon_root : float, default=0.0
        Added to ``v_hat`` inside the square root, >= 0 (see :class:`Adam`).
    weight_decay : float, default=0.01
        Decoupled decay rate λ, >= 0; the shrink factor per step is ``1 - η·λ``.
    amsgrad : bool, default=False
        Use the running maximum of the second moment (AMSGrad).
    bias_correction : bool, default=True
        Apply the ``1 - beta**t`` corrections.

    Examples
    --------
    With a zero gradient only the decay acts:

    >>> import numpy as np
    >>> from skadam.optim import AdamW
    >>> params = np.array([2.0, 2.0])
    >>> opt = AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> state = opt.init_state(params, n_decayed=1)  # decay the first entry only
    >>> opt.step(params, np.zeros(2), state)
    >>> params
    array([1.9, 2. ])
    """

    _parameter_constraints = {
        **Adam._parameter_constraints,
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        epsilon_root=0.0,
        weight_decay=0.01,
        amsgrad=False,
        bias_correction=True,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            epsilon_root=epsilon_root,
            amsgrad=amsgrad,
            bias_correction=bias_correction,
        )
        self.weight_decay = weight_decay

    def _decoupled_weight_decay(self):
        return float(self.weight_decay)
