"""Hidden-layer activations, applied in place, and their derivatives for backpropagation.

Each derivative is expressed through the activation's output ``A`` (not its input), so
the forward pass keeps only one array per layer; it multiplies ``delta`` in place, using
``scratch`` (an array shaped like ``A``) for intermediates instead of allocating.
"""

import numpy as np
from scipy.special import expit


def _identity(Z):
    pass


def _identity_backprop(A, delta, scratch):
    pass


def _logistic(Z):
    expit(Z, out=Z)


def _logistic_backprop(A, delta, scratch):
    # d sigmoid = A * (1 - A)
    np.subtract(1.0, A, out=scratch)
    scratch *= A
    delta *= scratch


def _tanh(Z):
    np.tanh(Z, out=Z)


def _tanh_backprop(A, delta, scratch):
    # d tanh = 1 - A**2
    np.square(A, out=scratch)
    np.subtract(1.0, scratch, out=scratch)
    delta *= scratch


def _relu(Z):
    np.maximum(Z, 0.0, out=Z)


def _relu_backprop(A, delta, scratch):
    # The 0/1 derivative written as floats into scratch: faster than np.sign, and than
    # multiplying by a boolean mask, which numpy casts element by element.
    np.greater(A, 0.0, out=scratch, casting="unsafe")
    delta *= scratch


ACTIVATIONS = {
    "identity": (_identity, _identity_backprop),
    "logistic": (_logistic, _logistic_backprop),
    "tanh": (_tanh, _tanh_backprop),
    "relu": (_relu, _relu_backprop),
}
