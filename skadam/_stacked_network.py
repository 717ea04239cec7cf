"""K networks of one shape trained side by side: each minibatch is read once for all.

A batched grid search trains configurations that differ only in optimizer
hyperparameters and ``alpha``. Their parameters are the rows of one (K, n_params) array,
so that the optimizer steps them in one call. The first layer is one product ``X @ W``
with the K weight matrices as K column blocks, so the batch is read once; hidden
activations stay side by side, shape (n_rows, K, width), and the deeper layers are
stacked products, one matrix product per run in one call. The outputs of all runs go
through the loss in one call, as the rows of one (n_rows * K, n_outputs) array:

- a linear model keeps them sample by sample, as its one product leaves them, which
  spares any reordering of its small outputs;
- a network keeps them run by run, so that each run's output block is contiguous and
  the intercepts' gradient is summed by the same BLAS call as for a run alone: a network
  trained at a large learning rate is chaotic enough to amplify the last bit.
"""

import numpy as np

from ._network import _dot


class StackedNetwork:
    """Forward and backward passes of K runs of ``network`` whose parameters are rows.

    Parameters
    ----------
    network : Network
        The shape and activation the K runs share.
    params : ndarray of shape (K, n_params)
        One run's flat parameter buffer per row (C order); the passes read views of it,
        so it must be updated in place.
    grad : ndarray of shape (K, n_params)
        The gradient buffers, filled by :meth:`backward`.
    n_rows : int
        The largest batch.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._layout import ParameterLayout
    >>> from skadam._network import Network
    >>> from skadam._stacked_network import StackedNetwork
    >>> network = Network(ParameterLayout((3, 4, 2)), "relu")
    >>> params = np.random.default_rng(0).normal(size=(5, network.layout.n_params))
    >>> stacked = StackedNetwork(network, params, np.zeros_like(params), n_rows=8)
    >>> X = np.ones((8, 3))
    >>> raw = stacked.forward(X)
    >>> raw.shape
    (40, 2)
    >>> alone = network.forward(network.workspace(params[3], None, 8, params.dtype), X)
    >>> bool(np.array_equal(raw.reshape(5, 8, 2)[3], alone))
    True
    """

    def __init__(self, network, params, grad, n_rows):
        layout = network.layout
        self.network = network
        self.n_runs = n_runs = params.shape[0]
        self.coefs = _coef_views(layout, params)
        self.grad_coefs = _coef_views(layout, grad)
        self.intercepts = _intercept_views(layout, params)
        self.grad_intercepts = _intercept_views(layout, grad)
        dtype = params.dtype
        n_inputs, first_width = layout.weight_shapes[0]
        self.run_major = layout.n_layers > 1
        # The first layer's K weight matrices as column blocks of one matrix, and each
        # layer's K intercept vectors end to end: copied from the rows before each pass.
        self.first_coef = np.empty((n_inputs, n_runs * first_width), dtype)
        self.first_grad = np.empty_like(self.first_coef)
        self.biases = [np.empty(n_runs * size, dtype) for size in layout.bias_sizes]
        self.grad_biases = [np.empty_like(bias) for bias in self.biases]
        hidden = layout.layer_sizes[1:-1]
        self.activations = [np.empty((n_rows, n_runs, width), dtype) for width in hidden]
        self.deltas = [np.empty_like(activation) for activation in self.activations]
        # Flat, so that the leading part is contiguous for a smaller last batch too.
        n_outputs = layout.layer_sizes[-1]
        self._output = np.empty(n_runs * n_rows * n_outputs, dtype)
        self._output_delta = np.empty_like(self._output)
        self.ones = np.ones(n_rows, dtype)

    def _rows(self, flat, n_rows):
        n_outputs = self.network.layout.layer_sizes[-1]
        return flat[: self.n_runs * n_rows * n_outputs].reshape(-1, n_outputs)

    def output_delta(self, n_rows):
        """The buffer for the loss gradient at the outputs, in the order of :meth:`forward`."""
        return self._rows(self._output_delta, n_rows)

    def targets(self, Y):
        """``Y`` once per run, in the order of the output rows."""
        if self.run_major:
            return np.concatenate([Y] * self.n_runs)
        return np.repeat(Y, self.n_runs, axis=0)

    def per_run(self, values):
        """Per-row ``values`` as (K, n_rows), each run's contiguous."""
        if self.run_major:
            return values.reshape(self.n_runs, -1)
        return np.ascontiguousarray(values.reshape(-1, self.n_runs).T)

    def scale_delta(self, delta, factors):
        """Multiply each sample's rows of ``delta`` by its factor, in place."""
        n_rows = factors.shape[0]
        if self.run_major:
            delta.reshape(self.n_runs, n_rows, -1)[...] *= factors[:, np.newaxis]
        else:
            delta.reshape(n_rows, -1)[...] *= factors[:, np.newaxis]

    def forward(self, X):
        """Raw outputs of all runs, (n_rows * K, n_outputs): valid until the next pass.

        Run by run for a network, sample by sample for a linear model.
        """
        n_rows = X.shape[0]
        n_inputs, first_width = self.network.layout.weight_shapes[0]
        np.copyto(self.first_coef.reshape(n_inputs, self.n_runs, first_width),
                  self.coefs[0].transpose(1, 0, 2))
        for bias, intercepts in zip(self.biases, self.intercepts, strict=True):
            np.copyto(bias.reshape(intercepts.shape), intercepts)
        output = self._rows(self._output, n_rows)
        if not self.run_major:
            flat = output.reshape(n_rows, -1)
            _dot(X, self.first_coef, out=flat)
            if self.biases[0].size:
                flat += self.biases[0]
            return output
        A = None
        for layer, activation in enumerate(self.activations):
            Z = activation[:n_rows]
            if layer == 0:
                _dot(X, self.first_coef, out=Z.reshape(n_rows, -1))
            else:
                np.matmul(A.transpose(1, 0, 2), self.coefs[layer], out=Z.transpose(1, 0, 2))
            self.network.activate(Z.reshape(n_rows, -1), self.biases[layer])
            A = Z
        by_run = output.reshape(self.n_runs, n_rows, -1)
        np.matmul(A.transpose(1, 0, 2), self.coefs[-1], out=by_run)
        if self.intercepts[-1].size:
            by_run += self.intercepts[-1][:, np.newaxis, :]
        return output

    def backward(self, X, output_delta):
        """Fill the gradient rows from the loss gradient at the raw outputs.

        ``output_delta`` must be :meth:`output_delta` of the batch, holding each run's
        derivative of its batch objective; the forward pass of the same batch must
        precede this call, whose hidden activations it overwrites.
        """
        n_rows = X.shape[0]
        if not self.run_major:
            delta = output_delta.reshape(n_rows, -1)
            if self.biases[0].size:
                np.matmul(self.ones[:n_rows], delta, out=self.grad_biases[0])
                np.copyto(self.grad_intercepts[0],
                          self.grad_biases[0].reshape(self.grad_intercepts[0].shape))
        else:
            by_run = output_delta.reshape(self.n_runs, n_rows, -1)
            if self.intercepts[-1].size:
                # The same BLAS call per run as for a run alone, so the same sums.
                np.matmul(self.ones[:n_rows], by_run, out=self.grad_intercepts[-1])
            delta = by_run.transpose(1, 0, 2)
            for layer in range(len(self.coefs) - 1, 0, -1):
                A_prev = self.activations[layer - 1][:n_rows]
                np.matmul(A_prev.transpose(1, 2, 0), delta.transpose(1, 0, 2),
                          out=self.grad_coefs[layer])
                previous = self.deltas[layer - 1][:n_rows]
                np.matmul(delta.transpose(1, 0, 2), self.coefs[layer].transpose(0, 2, 1),
                          out=previous.transpose(1, 0, 2))
                grad_bias = self.grad_biases[layer - 1]
                self.network.backprop(A_prev.reshape(n_rows, -1),
                                      previous.reshape(n_rows, -1), grad_bias)
                np.copyto(self.grad_intercepts[layer - 1],
                          grad_bias.reshape(self.grad_intercepts[layer - 1].shape))
                delta = previous
            delta = delta.reshape(n_rows, -1)
        _dot(X.T, delta, out=self.first_grad)
        np.copyto(self.grad_coefs[0],
                  self.first_grad.reshape(X.shape[1], self.n_runs, -1).transpose(1, 0, 2))


def _coef_views(layout, buffer):
    """Each layer's weights as a (K, fan_in, fan_out) view of the rows of ``buffer``."""
    views, start = [], 0
    for fan_in, fan_out in layout.weight_shapes:
        stop = start + fan_in * fan_out
        views.append(_view(buffer[:, start:stop], (buffer.shape[0], fan_in, fan_out)))
        start = stop
    return views


def _intercept_views(layout, buffer):
    """Each layer's intercepts as a (K, size) view of the rows of ``buffer``."""
    views, start = [], layout.n_weights
    for size in layout.bias_sizes:
        views.append(buffer[:, start:start + size])
        start += size
    return views


def _view(array, shape):
    view = array.reshape(shape)
    # Splitting a contiguous axis never copies; a copy would silently drop the writes.
    assert view.size == 0 or np.shares_memory(view, array)
    return view
