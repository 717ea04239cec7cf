"""Hidden-layer activations, applied in place, and their derivatives for backpropagation.

All work on a stack of K runs: ``Z`` of shape (K, n_rows, width), the intercepts ``b``
of shape (K, width), one row per run. An activation ``activate(Z, b)`` adds the
layer's intercepts ``b`` to the product ``Z = A_prev @ W`` and applies the
nonlinearity, both in place. Each derivative is
expressed through the activation's output ``A`` (not its input), so the forward pass
keeps only one array per layer. ``backprop(A, delta, grad_b)`` multiplies ``delta`` in
place, writes its column sums (the gradient of the intercepts) into ``grad_b``, and may
overwrite ``A``, which backpropagation no longer needs once the layer's weight gradient
is computed: no scratch array, no allocation. ReLU, the default, is one fused compiled loop
each way: as separate NumPy passes, bias, max and mask cost as much as a small layer's
matrix product; the leaky ReLU is the same loop with a slope below zero.

Mish's output does not tell its input (it has a minimum below zero), so its derivative
cannot be read from ``A``: in training its forward pass ``activate(Z, b, slopes)``
writes the derivative at each input into a buffer of the workspace, and its backprop
takes those slopes where the others take ``A`` (the activations of ``KEEPS_SLOPES``).
"""

import numpy as np
from scipy.special import expit

from ._kernels import bias_mish, bias_relu, relu_backprop, slope_backprop


def _identity(Z, b):
    Z += b[:, np.newaxis, :]


def _identity_backprop(A, delta, grad_b):
    np.sum(delta, axis=1, out=grad_b)


def _logistic(Z, b):
    Z += b[:, np.newaxis, :]
    expit(Z, out=Z)


def _logistic_backprop(A, delta, grad_b):
    # d sigmoid = A * (1 - A)
    delta *= A
    np.subtract(1.0, A, out=A)
    delta *= A
    np.sum(delta, axis=1, out=grad_b)


def _tanh(Z, b):
    Z += b[:, np.newaxis, :]
    np.tanh(Z, out=Z)


def _tanh_backprop(A, delta, grad_b):
    # d tanh = 1 - A**2
    np.square(A, out=A)
    np.subtract(1.0, A, out=A)
    delta *= A
    np.sum(delta, axis=1, out=grad_b)


# Leaky ReLU's slope below zero, as torch's and Keras's default.
LEAKY_SLOPE = 0.01


def _leaky_relu(Z, b):
    bias_relu(Z, b, LEAKY_SLOPE)


def _leaky_relu_backprop(A, delta, grad_b):
    relu_backprop(A, delta, grad_b, LEAKY_SLOPE)


# SELU's constants (Klambauer et al., 2017): with them, activations of standardised
# inputs keep mean 0 and variance 1 from layer to layer.
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _selu(Z, b):
    Z += b[:, np.newaxis, :]
    negative = np.minimum(Z, 0.0)
    np.expm1(negative, out=negative)
    negative *= SELU_SCALE * SELU_ALPHA
    np.maximum(Z, 0.0, out=Z)
    Z *= SELU_SCALE
    Z += negative


def _selu_backprop(A, delta, grad_b):
    # Below zero the output is s a (e^z - 1), so the slope s a e^z is the output plus s a.
    slope = np.where(A > 0, SELU_SCALE, A + SELU_SCALE * SELU_ALPHA)
    delta *= slope
    np.sum(delta, axis=1, out=grad_b)


ACTIVATIONS = {
    "identity": (_identity, _identity_backprop),
    "logistic": (_logistic, _logistic_backprop),
    "tanh": (_tanh, _tanh_backprop),
    "relu": (bias_relu, relu_backprop),
    "leaky_relu": (_leaky_relu, _leaky_relu_backprop),
    "selu": (_selu, _selu_backprop),
    # Misra (2019): x tanh(softplus(x)), smooth, with a small dip below zero; RealMLP's
    # choice for regression.
    "mish": (bias_mish, slope_backprop),
}
# Activations whose forward pass keeps its slopes in training for the backward pass.
KEEPS_SLOPES = frozenset({"mish"})
