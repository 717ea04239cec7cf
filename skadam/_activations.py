"""Hidden-layer activations, applied in place, and their derivatives for backpropagation.

Each derivative is expressed through the activation's output ``A`` (not its input), so
the forward pass keeps only one array per layer. It multiplies ``delta`` in place and
overwrites ``A``, which backpropagation no longer needs once the layer's weight gradient
is computed: no scratch array, no allocation.
"""

import numpy as np
from scipy.special import expit


def _identity(Z):
    pass


def _identity_backprop(A, delta):
    pass


def _logistic(Z):
    expit(Z, out=Z)


def _logistic_backprop(A, delta):
    # d sigmoid = A * (1 - A)
    delta *= A
    np.subtract(1.0, A, out=A)
    delta *= A


def _tanh(Z):
    np.tanh(Z, out=Z)


def _tanh_backprop(A, delta):
    # d tanh = 1 - A**2
    np.square(A, out=A)
    np.subtract(1.0, A, out=A)
    delta *= A


def _relu(Z):
    np.maximum(Z, 0.0, out=Z)


def _relu_backprop(A, delta):
    # The 0/1 derivative written as floats: faster than np.sign, and than multiplying by
    # a boolean mask, which numpy casts element by element.
    np.greater(A, 0.0, out=A, casting="unsafe")
    delta *= A


ACTIVATIONS = {
    "identity": (_identity, _identity_backprop),
    "logistic": (_logistic, _logistic_backprop),
    "tanh": (_tanh, _tanh_backprop),
    "relu": (_relu, _relu_backprop),
}
