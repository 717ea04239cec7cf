"""Forward and backward passes of a dense network over a stack of K runs.

A run's parameters are one row of a (K, n_params) array, laid out by a
:class:`~skadam._layout.ParameterLayout`; a linear model is the network with no hidden
layer. Every run of a stack has the same layer sizes and activation. Each product is
NumPy's stacked ``matmul``, which makes for every run the BLAS call a run alone makes,
with the same shapes, or, through an output layer of a few units, the compiled
``narrow_product``; it and the element-wise kernels take a leading axis of runs and
treat each run's block alone: a run's results do not depend on the other runs of its
stack, bit for bit. A fit is the stack of
one, with views of the estimator's own parameter buffer.

Every array a pass needs is allocated once, for the largest batch, in a
:class:`Workspace`: flat buffers whose leading part, reshaped, is a contiguous
(K, n_rows, width) array for any smaller batch, so an epoch allocates nothing per batch.
"""

import numpy as np

from ._activations import ACTIVATIONS, KEEPS_SLOPES
from ._kernels import narrow_product, scale_rows, scale_rows_backward
from ._layout import shaped_view, split_views

# Up to this many outputs, the delta at a layer's inputs comes from narrow_product, not
# BLAS: 2.5 us against 15.6 for a batch of 128 rows through one output unit into 100
# hidden ones, 4.4 against 4.9 through three; from about eight on BLAS is faster.
NARROW_OUTPUTS = 3

# The floats of the buffers of one chunk of rows in a pass over many rows (validation
# after every epoch, prediction): 1 MiB stays in a core's cache and comes back from the
# heap for every chunk, where 32 MiB went to memory and to freshly mapped pages (the
# periodic embedding of 3,430 validation rows took 0.44 us a row at once, 0.25 in chunks
# of 512; protein_casp's fit 7.4 s instead of 8.2 with its validation after every epoch).
OUTPUT_CHUNK_FLOATS = 2**17


class Network:
    """A stack of dense layers with one hidden activation, for K runs at once.

    Parameters
    ----------
    layout : ParameterLayout
        Shapes and offsets of each run's weights and intercepts.
    activation : str
        A key of ``skadam._activations.ACTIVATIONS``: the activation of the hidden
        layers; the output layer stays raw (the loss owns the link from raw output to
        prediction).
    embedding : PeriodicEmbedding or None, default=None
        An embedding of numeric columns whose features the first layer reads in front
        of ``X``: its weight matrix has ``embedding.width`` rows for them first.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._layout import ParameterLayout
    >>> from skadam._model import Network
    >>> network = Network(ParameterLayout((3, 4, 2)), "relu")
    >>> params = np.random.default_rng(0).normal(size=(5, network.layout.n_params))
    >>> X = np.ones((8, 3))
    >>> raw = network.forward(network.workspace(params, None, 8), X)
    >>> raw.shape
    (5, 8, 2)
    >>> alone = network.forward(network.workspace(params[3:4], None, 8), X)
    >>> bool(np.array_equal(raw[3], alone[0]))
    True
    """

    def __init__(self, layout, activation, embedding=None):
        self.layout = layout
        self.activate, self.backprop = ACTIVATIONS[activation]
        self.keeps_slopes = activation in KEEPS_SLOPES
        self.embedding = embedding
        self._cached_workspace = None

    # The rows each sample of a batch makes in the hidden layers (a shared ensemble's
    # members each make one).
    rows_per_sample = 1

    @property
    def blas_work_per_row(self):
        """The multiply-adds of a forward pass's matrix products for one row and run."""
        layout = self.layout
        return sum(fan_in * fan_out for fan_in, fan_out in layout.weight_shapes) + (
            layout.skip_inputs * layout.layer_sizes[-1])

    @property
    def work_per_row(self):
        """A pass's work for one row and run: the multiply-adds of its products, the
        embedding counted in the same units; a gauge of the time, not a count of flops."""
        work = self.blas_work_per_row
        return work + (0 if self.embedding is None else self.embedding.work_per_row)

    def workspace(self, params, grad, n_rows):
        """Buffers for batches of up to ``n_rows`` rows; ``grad=None`` for inference only."""
        return Workspace(self, params, grad, n_rows)

    def outputs(self, params, X):
        """Raw outputs of every run for all the rows of ``X``: a new (K, n_rows, n_outputs)
        array, computed in chunks of rows whose buffers take about 1 MiB
        (``OUTPUT_CHUNK_FLOATS``)."""
        n_rows, n_runs = X.shape[0], params.shape[0]
        per_row = n_runs * (self.rows_per_sample * sum(self.layout.layer_sizes[1:]) + (
            0 if self.embedding is None else
            self.embedding.floats_per_row + self.layout.layer_sizes[0]))
        chunk = max(1, min(n_rows, OUTPUT_CHUNK_FLOATS // max(per_row, 1)))
        work = self._inference_workspace(params, chunk)
        raw = np.empty((n_runs, n_rows, self.layout.layer_sizes[-1]), dtype=params.dtype)
        for start in range(0, n_rows, chunk):
            raw[:, start:start + chunk] = self.forward(work, X[start:start + chunk])
        return raw

    def _inference_workspace(self, params, n_rows):
        # Validation asks for the outputs of the same parameter buffer after every epoch:
        # the last workspace is kept, since making one (and its views) cost more than a
        # small set's forward pass. Its views read the buffer's current values.
        key = (params.__array_interface__["data"][0], params.shape, params.strides,
               params.dtype, n_rows)
        cached = self._cached_workspace
        if cached is None or cached[0] != key:
            cached = self._cached_workspace = (key, self.workspace(params, None, n_rows))
        return cached[1]

    def forward(self, work, X, dropout=None):
        """Raw outputs of every run, shape (K, n_rows, n_outputs).

        A view into ``work``, valid until its next pass. ``dropout`` (a
        :class:`Dropout`, in training only) drops hidden units after their activation.
        """
        n_rows = X.shape[0]
        last = self.layout.n_layers - 1
        A = X
        activations = work.activations(n_rows)
        slopes = work.slopes(n_rows)
        for layer, (W, b, Z) in enumerate(zip(work.coefs, work.intercepts, activations,
                                              strict=True)):
            if layer == 0:
                self._first_layer(work, X, work.first_weights(), Z)
            else:
                np.matmul(A, W, out=Z)
            if layer < last:
                # Hidden layers always have intercepts.
                if slopes is None:
                    self.activate(Z, b)
                else:
                    self.activate(Z, b, slopes[layer])
                if dropout is not None:
                    dropout.drop(layer, Z)
            elif b.shape[1]:
                Z += work.output_intercepts
            A = Z
        if work.skip is not None:
            # The linear skip: X's own product, added to the output layer's.
            linear = work.skip_outputs(n_rows)
            _product(X, work.skip, out=linear)
            A += linear
        return A

    def backward(self, work, X, output_delta, dropout=None):
        """Fill ``work``'s gradient views from the loss gradient at the raw outputs.

        ``output_delta`` must be ``work.deltas(n_rows)[-1]``, already holding each run's
        derivative of its (weighted, normalised) batch objective with respect to each raw
        output; the forward pass of the same batch must precede this call, whose hidden
        activations it overwrites; ``dropout`` must be the forward pass's.
        """
        n_rows = X.shape[0]
        delta = output_delta
        if work.skip is not None:
            _product(X.T, delta, out=work.grad_skip)
        last = self.layout.n_layers - 1
        grad_b = work.grad_intercepts[last]
        if grad_b.shape[1]:
            # A product with a vector of ones sums the columns through BLAS, twice as
            # fast as a reduction; hidden layers get theirs from backprop.
            np.matmul(work.ones[:n_rows], delta, out=grad_b)
        activations, deltas = work.activations(n_rows), work.deltas(n_rows)
        slopes = work.slopes(n_rows)
        for layer in range(last, -1, -1):
            if layer == 0:
                self._first_layer_backward(work, X, delta)
                break
            A_prev = activations[layer - 1]
            np.matmul(A_prev.transpose(0, 2, 1), delta, out=work.grad_coefs[layer])
            previous = deltas[layer - 1]
            backprop_product(delta, work.coefs[layer], out=previous)
            if dropout is not None:
                dropout.backprop(layer - 1, A_prev, previous)
            self.backprop(A_prev if slopes is None else slopes[layer - 1], previous,
                          work.grad_intercepts[layer - 1])
            delta = previous


    def _first_layer(self, work, X, W, Z):
        if self.embedding is None:
            _product(X, W, out=Z)  # only X can be sparse
            return
        width = self.embedding.width
        features = self.embedding.forward(work.embedding_params, X, work.embedding)
        if is_sparse(X):
            _product(X, W[:, width:], out=Z)
            Z += np.matmul(features, W[:, :width], out=work.first_layer(X.shape[0]))
            return
        # One product over the features and X side by side: a third fewer calls than
        # two products and their sum, for two small copies.
        inputs = work.first_inputs(X.shape[0])
        inputs[:, :, :width] = features
        inputs[:, :, width:] = X
        np.matmul(inputs, W, out=Z)

    def _first_layer_backward(self, work, X, delta):
        # With input scales s, the product reads W' = s[:, None] * W: its gradient G
        # gives s's, the sum of W * G over the units, and W's, s[:, None] * G.
        scaled = work.scales is not None
        grad_W = work.first_grads if scaled else work.grad_coefs[0]
        self._first_weights_backward(work, X, delta, grad_W)
        if scaled:
            scale_rows_backward(work.coefs[0], work.scales, grad_W, work.grad_coefs[0],
                                work.grad_scales)

    def _first_weights_backward(self, work, X, delta, grad_W):
        """The gradient of the first layer's weights as the product reads them, into
        ``grad_W``, and the embedding's."""
        if self.embedding is None:
            _product(X.T, delta, out=grad_W)
            return
        embedding, width = self.embedding, self.embedding.width
        n_rows = X.shape[0]
        if is_sparse(X):
            _product(X.T, delta, out=grad_W[:, width:])
            features = work.embedding.shaped("features", n_rows)
            np.matmul(features.transpose(0, 2, 1), delta, out=grad_W[:, :width])
        else:
            np.matmul(work.first_inputs(n_rows).transpose(0, 2, 1), delta, out=grad_W)
        delta_features = np.matmul(delta, work.first_weights_now()[:, :width].transpose(0, 2, 1),
                                   out=work.embedding_delta(n_rows))
        embedding.backward(work.embedding_params, work.grad_embedding, X, delta_features,
                           work.embedding)


class Workspace:
    """Per-layer activation and delta buffers plus views of the stack's params and grad.

    Parameters
    ----------
    network : Network
        The network the buffers are for.
    params : ndarray of shape (K, n_params)
        The runs' parameters, one per row; the workspace holds views of them, so they
        must be updated in place.
    grad : ndarray of shape (K, n_params) or None
        The gradient buffers, or None when only forward passes are needed.
    n_rows : int
        The largest batch.
    """

    def __init__(self, network, params, grad, n_rows):
        layout = network.layout
        self.n_runs = params.shape[0]
        self.coefs = coef_views(layout, params)
        self.intercepts = intercept_views(layout, params)
        self.output_intercepts = self.intercepts[-1][:, np.newaxis, :]
        # One network's scales of its first layer's inputs, or None.
        self.scales = adapter_views(layout, params)[:, 0] if layout.input_scale else None
        self._first_weights = None if self.scales is None else np.empty_like(self.coefs[0])
        self._widths = layout.layer_sizes[1:]
        # The linear skip's weights, and scratch for its product with a batch.
        self.skip = skip_views(layout, params)
        if self.skip is not None:
            self._skip_outputs = np.empty(self.n_runs * n_rows * self._widths[-1],
                                          dtype=params.dtype)
        self._activations = [np.empty(self.n_runs * n_rows * width, dtype=params.dtype)
                             for width in self._widths]
        self._shaped = {}
        self._slopes = None
        embedding = network.embedding
        if embedding is not None:
            self.embedding = embedding.workspace(self.n_runs, n_rows, params.dtype)
            self.embedding_params = embedding.views(params[:, layout.embedding_start:])
            # For dense X the first layer reads [features, X] from one buffer, for sparse
            # X it sums two products: each buffer is made when first asked for.
            self._fan_in, self._n_rows, self._dtype = layout.layer_sizes[0], n_rows, params.dtype
            self._first = self._inputs = None
        if grad is None:
            return
        self.grad_coefs = coef_views(layout, grad)
        self.grad_intercepts = intercept_views(layout, grad)
        self.grad_skip = skip_views(layout, grad)
        if self.scales is not None:
            self.grad_scales = adapter_views(layout, grad)[:, 0]
            self.first_grads = np.empty_like(self.coefs[0])
        self._deltas = [np.empty_like(buffer) for buffer in self._activations]
        if network.keeps_slopes:
            self._slopes = [np.empty_like(buffer) for buffer in self._activations[:-1]]
        self.ones = np.ones(n_rows, dtype=params.dtype)
        if embedding is not None:
            self.grad_embedding = embedding.views(grad[:, layout.embedding_start:])
            self._embedding_width = embedding.width
            self._embedding_delta = np.empty(self.n_runs * n_rows * embedding.width,
                                             dtype=params.dtype)

    def skip_outputs(self, n_rows):
        """Scratch for the linear skip's product with a batch, (K, n_rows, n_outputs)."""
        return self._view("skip", self._skip_outputs, n_rows, self._widths[-1])

    def first_weights(self):
        """The first layer's weights for the coming pass, each input's row times its
        scale where the network scales its inputs."""
        if self.scales is None:
            return self.coefs[0]
        scale_rows(self.coefs[0], self.scales, self._first_weights)
        return self._first_weights

    def first_weights_now(self):
        """The first layer's weights the last forward pass read."""
        return self.coefs[0] if self.scales is None else self._first_weights

    def first_layer(self, n_rows):
        """Scratch for the embedded features' part of the first layer's product."""
        if self._first is None:
            self._first = np.empty(self.n_runs * self._n_rows * self._widths[0], self._dtype)
        return self._view("first", self._first, n_rows, self._widths[0])

    def first_inputs(self, n_rows):
        """The first layer's input for dense X: the embedded features, then X."""
        if self._inputs is None:
            self._inputs = np.empty(self.n_runs * self._n_rows * self._fan_in, self._dtype)
        return self._view("inputs", self._inputs, n_rows, self._fan_in)

    def embedding_delta(self, n_rows):
        """The gradient at the embedded features, (K, n_rows, embedding width)."""
        return self._view("embedding delta", self._embedding_delta, n_rows,
                          self._embedding_width)

    def _view(self, name, flat, n_rows, width):
        # A (K, n_rows, width) view of the flat buffer, made once per batch size.
        key = (name, n_rows)
        view = self._shaped.get(key)
        if view is None:
            view = self._shaped[key] = flat[:self.n_runs * n_rows * width].reshape(
                self.n_runs, n_rows, width)
        return view

    def activations(self, n_rows):
        """Each layer's output for a batch of ``n_rows``: (K, n_rows, width) arrays."""
        return self._views("activations", n_rows)

    def deltas(self, n_rows):
        """The gradient at each layer's output: (K, n_rows, width) arrays."""
        return self._views("deltas", n_rows)

    def slopes(self, n_rows):
        """Each hidden layer's activation slopes, for an activation that keeps them in
        training (``Network.keeps_slopes``); None otherwise, and for inference."""
        if self._slopes is None:
            return None
        return self._views("slopes", n_rows)

    def _views(self, kind, n_rows):
        # An epoch asks for two batch sizes at most: its views are made once.
        key = (kind, n_rows)
        views = self._shaped.get(key)
        if views is None:
            buffers = getattr(self, "_" + kind)  # _activations, _deltas or _slopes
            views = self._shaped[key] = [
                flat[: self.n_runs * n_rows * width].reshape(self.n_runs, n_rows, width)
                for flat, width in zip(buffers, self._widths[:len(buffers)], strict=True)]
        return views


class Dropout:
    """Inverted dropout of hidden units, for K runs with a random stream each.

    In training, each hidden unit's output is kept with probability ``1 - rate`` and
    scaled by ``1 / (1 - rate)``, so that its expectation is the output without dropout,
    which inference uses. Each run draws its masks from its own generator, so a run's
    masks do not depend on the other runs of its stack.

    Parameters
    ----------
    rate : float
        Probability of dropping a unit, in (0, 1).
    generators : list of numpy.random.Generator
        One per run of the stack.
    widths : sequence of int
        The hidden layers' widths.
    n_rows : int
        The largest batch.
    dtype : dtype
        The parameters' dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._model import Dropout
    >>> dropout = Dropout(0.5, [np.random.default_rng(0)], widths=[4], n_rows=2,
    ...                   dtype=np.float64)
    >>> Z = np.ones((1, 2, 4))
    >>> dropout.drop(0, Z)
    >>> sorted(set(Z.ravel().tolist()))
    [0.0, 2.0]
    """

    def __init__(self, rate, generators, widths, n_rows, dtype):
        self.rate, self.scale = rate, 1.0 / (1.0 - rate)
        self.generators = generators
        self._masks = [np.empty((len(generators), n_rows, width), dtype=dtype)
                       for width in widths]

    def drop(self, layer, Z):
        """Drop units of layer ``layer``'s output ``Z`` (K, n_rows, width), in place."""
        n_rows = Z.shape[1]
        mask = self._masks[layer][:, :n_rows]
        for run, generator in enumerate(self.generators):
            generator.random(out=mask[run], dtype=mask.dtype)
        # Kept with probability 1 - rate, then scaled: the mask holds 0 or the scale.
        np.greater_equal(mask, self.rate, out=mask)
        mask *= self.scale
        Z *= mask

    def backprop(self, layer, A, delta):
        """Through the drop of layer ``layer``: the mask on ``delta``, ``A`` unscaled.

        ``A`` goes back to the activation's own output (zero where dropped, where the
        gradient is zero anyway), from which the activation takes its derivative.
        """
        mask = self._masks[layer][:, :delta.shape[1]]
        delta *= mask
        A *= 1.0 - self.rate


def is_sparse(X):
    """Whether ``X``, a batch the passes take (an ndarray or a SciPy sparse matrix), is
    sparse: a type check, where ``scipy.sparse.issparse`` goes through an abstract base
    class at about a microsecond a call, several calls a step."""
    return not isinstance(X, np.ndarray)


def _product(A, B, out):
    """``A @ B`` for every run into ``out``, with ``A`` the same (possibly sparse) matrix."""
    if not is_sparse(A):
        np.matmul(A, B, out=out)
        return
    for run in range(B.shape[0]):
        out[run] = A @ B[run]


def backprop_product(delta, W, out):
    """``out = delta @ W^T`` over the last two axes, for arrays of the same leading axes
    (runs, and members where they share the rest): the delta at a layer's inputs from the
    delta at its outputs. ``out`` must be C-contiguous, as a workspace's buffers are.
    """
    if delta.shape[-1] > NARROW_OUTPUTS:
        np.matmul(delta, W.swapaxes(-1, -2), out=out)
    elif delta.ndim == 3:
        narrow_product(delta, W, out)
    else:
        # The kernel takes one axis of runs: the leading axes merged (W copied where
        # they do not merge in place, as a few outputs' weights take no time to copy).
        narrow_product(delta.reshape(-1, *delta.shape[-2:]), W.reshape(-1, *W.shape[-2:]),
                       shaped_view(out, (-1, *out.shape[-2:])))


def coef_views(layout, buffer):
    """Each layer's weights as a (K, fan_in, fan_out) view of the rows of ``buffer``
    (the output layer's (K, members, fan_in, fan_out) when members share the rest)."""
    return split_views(buffer, layout.coef_shapes)


def intercept_views(layout, buffer):
    """Each layer's intercepts as a (K, size) view of the rows of ``buffer`` (the output
    layer's (K, members, size) when members share the rest)."""
    return split_views(buffer[:, layout.n_weights:], layout.intercept_shapes)


def skip_views(layout, buffer):
    """The linear skip's weights as a (K, skip_inputs, fan_out) view of the rows of
    ``buffer`` ((K, members, skip_inputs, fan_out) when members share the rest), or None
    without one."""
    if not layout.skip_inputs:
        return None
    return shaped_view(buffer[:, layout.skip_start:layout.n_weights],
                       (buffer.shape[0], *layout.skip_shape))


def adapter_views(layout, buffer):
    """The input scales as a (K, n_scales, fan_in) view of the rows of ``buffer``."""
    start, stop = layout.adapter_start, layout.embedding_start
    return shaped_view(buffer[:, start:stop],
                       (buffer.shape[0], layout.n_scales, layout.layer_sizes[0]))
