"""Reference optimizers written straight from the papers' equations.

Every function takes the initial parameters ``params0`` (shape ``(n,)``), a
gradient sequence ``grads`` (shape ``(n_steps, n)``) and hyperparameters under
skadam's names, and returns the parameters after every step
(shape ``(n_steps, n)``).  The gradient at step ``t`` is taken as given, i.e.
it does not depend on the parameters, which lets the same sequence drive any
implementation.

The code favours legibility over speed: fresh arrays at every step, one line
per equation, no in-place updates.  Conventions (where epsilon goes, how the
momentum buffer starts, ...) follow ``torch.optim`` so that the reference can
itself be validated against torch.
"""

import numpy as np


def _as_inputs(params0, grads):
    p = np.array(params0, dtype=np.float64)
    g = np.array(grads, dtype=np.float64)
    if p.ndim != 1 or g.ndim != 2 or g.shape[1] != p.shape[0]:
        raise ValueError(
            f"expected params0 of shape (n,) and grads of shape (n_steps, n), "
            f"got {p.shape} and {g.shape}"
        )
    return p, g


def adam(
    params0,
    grads,
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    amsgrad=False,
    bias_correction=True,
    epsilon_root=0.0,
):
    """Adam, Kingma & Ba (2015), Algorithm 1.

    m_t = b1 m_{t-1} + (1 - b1) g_t
    v_t = b2 v_{t-1} + (1 - b2) g_t^2
    m_hat = m_t / (1 - b1^t),  v_hat = v_t / (1 - b2^t)
    p_t = p_{t-1} - lr m_hat / (sqrt(v_hat + eps_root) + eps)

    Epsilon is added after the square root of the *bias-corrected* second
    moment, as in the paper and torch.  eps_root (optax's name; 0 in the
    paper and torch) is added to the bias-corrected second moment inside the
    square root, as in optax's scale_by_adam.

    amsgrad (Reddi, Kale & Kumar, 2018, Algorithm 2, in torch's variant): the
    running maximum is taken over the raw v_t and bias-corrected afterwards,
    v_hat = max(v_1..v_t) / (1 - b2^t); eps_root is added to that v_hat.

    bias_correction=False drops both corrections:
    p_t = p_{t-1} - lr m_t / (sqrt(v_t + eps_root) + eps)  (v_max in place of
    v_t with amsgrad).
    """
    p, grads = _as_inputs(params0, grads)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    v_max = np.zeros_like(p)
    trajectory = []
    for t, g in enumerate(grads, start=1):
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g * g
        if amsgrad:
            v_max = np.maximum(v_max, v)
            second = v_max
        else:
            second = v
        if bias_correction:
            m_hat = m / (1.0 - beta_1**t)
            v_hat = second / (1.0 - beta_2**t)
        else:
            m_hat = m
            v_hat = second
        p = p - learning_rate * m_hat / (np.sqrt(v_hat + epsilon_root) + epsilon)
        trajectory.append(p)
    return np.array(trajectory)


def adamw(
    params0,
    grads,
    learning_rate=0.001,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    weight_decay=0.01,
    amsgrad=False,
    bias_correction=True,
    n_decayed=None,
    epsilon_root=0.0,
):
    """AdamW, Loshchilov & Hutter (2019), Algorithm 2, as in torch.optim.AdamW.

    Decoupled weight decay is applied to the parameters *before* the Adam
    step, scaled by the learning rate (torch folds the schedule multiplier
    eta_t into lr):

    p <- p (1 - lr wd)
    p <- p - lr m_hat / (sqrt(v_hat + eps_root) + eps)    (Adam update, see ``adam``)

    Only the first ``n_decayed`` entries are decayed (all when None), which is
    how an estimator keeps intercepts out of the decay while storing all its
    parameters in one flat buffer.
    """
    p, grads = _as_inputs(params0, grads)
    n = p.shape[0] if n_decayed is None else int(n_decayed)
    decay = np.ones_like(p)
    decay[:n] = 1.0 - learning_rate * weight_decay
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    v_max = np.zeros_like(p)
    trajectory = []
    for t, g in enumerate(grads, start=1):
        p = p * decay
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g * g
        if amsgrad:
            v_max = np.maximum(v_max, v)
            second = v_max
        else:
            second = v
        if bias_correction:
            m_hat = m / (1.0 - beta_1**t)
            v_hat = second / (1.0 - beta_2**t)
        else:
            m_hat = m
            v_hat = second
        p = p - learning_rate * m_hat / (np.sqrt(v_hat + epsilon_root) + epsilon)
        trajectory.append(p)
    return np.array(trajectory)


def sgd(params0, grads, learning_rate=0.01, momentum=0.0, nesterov=False):
    """SGD with heavy-ball or Nesterov momentum, torch.optim.SGD convention.

    Sutskever et al. (2013), eqs. 1-2 (classical momentum) and 3-4 (Nesterov),
    rewritten as torch does with dampening 0 and the learning rate outside
    the buffer:

    b_t = mu b_{t-1} + g_t   (b_0 = 0, so b_1 = g_1)
    d_t = g_t + mu b_t  (Nesterov)  or  d_t = b_t
    p_t = p_{t-1} - lr d_t

    With mu = 0 this is plain gradient descent, p_t = p_{t-1} - lr g_t.
    """
    p, grads = _as_inputs(params0, grads)
    if nesterov and momentum <= 0:
        raise ValueError("nesterov momentum requires momentum > 0")
    buf = np.zeros_like(p)
    trajectory = []
    for g in grads:
        if momentum > 0:
            buf = momentum * buf + g
            d = g + momentum * buf if nesterov else buf
        else:
            d = g
        p = p - learning_rate * d
        trajectory.append(p)
    return np.array(trajectory)


def rmsprop(params0, grads, learning_rate=0.001, rho=0.9, epsilon=1e-8, momentum=0.0):
    """RMSprop, Tieleman & Hinton (2012), Coursera lecture 6.5, torch convention.

    s_t = rho s_{t-1} + (1 - rho) g_t^2
    a_t = sqrt(s_t) + eps                 (no bias correction; eps outside sqrt)
    with momentum mu > 0:  b_t = mu b_{t-1} + g_t / a_t,  p_t = p_{t-1} - lr b_t
    otherwise:             p_t = p_{t-1} - lr g_t / a_t

    ``rho`` is torch's ``alpha``; the non-centered variant only.
    """
    p, grads = _as_inputs(params0, grads)
    sq = np.zeros_like(p)
    buf = np.zeros_like(p)
    trajectory = []
    for g in grads:
        sq = rho * sq + (1.0 - rho) * g * g
        avg = np.sqrt(sq) + epsilon
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - learning_rate * buf
        else:
            p = p - learning_rate * g / avg
        trajectory.append(p)
    return np.array(trajectory)


def adagrad(params0, grads, learning_rate=0.01, epsilon=1e-10):
    """Adagrad, Duchi, Hazan & Singer (2011), diagonal variant, torch convention.

    s_t = s_{t-1} + g_t^2                 (s_0 = 0)
    p_t = p_{t-1} - lr g_t / (sqrt(s_t) + eps)

    No learning-rate decay; a coordinate whose gradients have all been zero
    so far does not move (0 / eps = 0).
    """
    p, grads = _as_inputs(params0, grads)
    s = np.zeros_like(p)
    trajectory = []
    for g in grads:
        s = s + g * g
        p = p - learning_rate * g / (np.sqrt(s) + epsilon)
        trajectory.append(p)
    return np.array(trajectory)


REFERENCES = {
    "Adam": adam,
    "AdamW": adamw,
    "SGD": sgd,
    "RMSprop": rmsprop,
    "Adagrad": adagrad,
}
