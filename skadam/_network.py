"""Forward and backward passes of a dense network over one flat parameter buffer.

A linear model is the network with no hidden layer. Every array a pass needs is
allocated once, for the largest batch, in a :class:`Workspace`; a smaller batch uses the
leading rows of each (C-order row slices stay contiguous), so a training epoch
allocates nothing per batch.
"""

import numpy as np
import scipy.sparse as sp

from ._activations import ACTIVATIONS


class Network:
    """A stack of dense layers with one hidden activation, read from a flat buffer.

    Parameters
    ----------
    layout : ParameterLayout
        Shapes and offsets of the weights and intercepts.
    activation : {"identity", "logistic", "tanh", "relu"}
        Activation of the hidden layers; the output layer stays raw (the loss owns the
        link from raw output to prediction).
    """

    def __init__(self, layout, activation):
        self.layout = layout
        self.activate, self.backprop = ACTIVATIONS[activation]

    def workspace(self, params, grad, n_rows, dtype):
        """Buffers for batches of up to ``n_rows`` rows; ``grad=None`` for inference only."""
        return Workspace(self, params, grad, n_rows, dtype)

    def forward(self, work, X):
        """Raw outputs for the rows of ``X`` (a view into ``work``, valid until the next pass)."""
        n_rows = X.shape[0]
        A = X
        last = self.layout.n_layers - 1
        for layer, (W, b) in enumerate(zip(work.coefs, work.intercepts, strict=True)):
            Z = work.activations[layer][:n_rows]
            if layer == 0:
                _dot(A, W, out=Z)  # only X can be sparse
            else:
                np.matmul(A, W, out=Z)
            if layer < last:
                self.activate(Z, b)  # hidden layers always have intercepts
            elif b.size:
                Z += b
            A = Z
        return A

    def backward(self, work, X, output_delta):
        """Fill ``work``'s gradient views from the loss gradient at the raw output.

        ``output_delta`` must be ``work.deltas[-1][:n_rows]``, already holding the
        derivative of the (weighted, normalised) batch objective with respect to each
        raw output; the forward pass of the same batch must precede this call, whose
        hidden activations it overwrites.
        """
        n_rows = X.shape[0]
        delta = output_delta
        last = self.layout.n_layers - 1
        grad_b = work.grad_intercepts[last]
        if grad_b.size:
            # A product with a vector of ones sums the columns through BLAS, twice as
            # fast as a reduction along axis 0; hidden layers get theirs from backprop.
            np.matmul(work.ones[:n_rows], delta, out=grad_b)
        for layer in range(last, -1, -1):
            if layer == 0:
                A_prev = X
                _dot(X.T, delta, out=work.grad_coefs[0])
            else:
                A_prev = work.activations[layer - 1][:n_rows]
                np.matmul(A_prev.T, delta, out=work.grad_coefs[layer])
            if layer > 0:
                previous = work.deltas[layer - 1][:n_rows]
                np.matmul(delta, work.coefs[layer].T, out=previous)
                self.backprop(A_prev, previous, work.grad_intercepts[layer - 1])
                delta = previous


class Workspace:
    """Per-layer activation, delta and scratch arrays plus views of params and grad.

    Parameters
    ----------
    network : Network
        The network the buffers are for.
    params : ndarray of shape (n_params,)
        The flat parameter buffer; the workspace holds views of it, so it must not be
        reallocated while the workspace is in use (update it in place).
    grad : ndarray of shape (n_params,) or None
        The flat gradient buffer, or None when only forward passes are needed.
    n_rows : int
        The largest batch.
    dtype : dtype
        float32 or float64, that of ``params``.
    """

    def __init__(self, network, params, grad, n_rows, dtype):
        layout = network.layout
        self.coefs = layout.coefs(params)
        self.intercepts = layout.intercepts(params)
        widths = layout.layer_sizes[1:]
        self.activations = [np.empty((n_rows, width), dtype=dtype) for width in widths]
        if grad is None:
            return
        self.grad_coefs = layout.coefs(grad)
        self.grad_intercepts = layout.intercepts(grad)
        self.deltas = [np.empty((n_rows, width), dtype=dtype) for width in widths]
        self.ones = np.ones(n_rows, dtype=dtype)


def _dot(A, B, out):
    if sp.issparse(A):
        out[...] = A @ B
    else:
        np.matmul(A, B, out=out)
