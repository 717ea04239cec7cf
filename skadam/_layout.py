"""One flat parameter buffer for a stack of dense layers: shapes, offsets and views."""


class ParameterLayout:
    """Where each layer's weights and intercepts live in one flat buffer.

    All weight matrices come first, then all intercept vectors, so that the L2 penalty
    and decoupled weight decay act on one leading slice ``buffer[:n_weights]``. Layer
    ``i`` maps ``layer_sizes[i]`` inputs to ``layer_sizes[i + 1]`` outputs through a
    weight matrix of shape ``(fan_in, fan_out)`` (C order, so ``X @ W`` needs no
    transpose) and, where it has one, an intercept of length ``fan_out``.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from the input to the output, e.g. ``(n_features, 100, n_outputs)``; two
        entries make a linear model.
    fit_intercept : bool, default=True
        Give the output layer an intercept (hidden layers always have one).
    n_embedding : int, default=0
        Parameters of a numeric embedding in front of the first layer
        (:class:`~skadam._embeddings.PeriodicEmbedding`), kept last, after the
        intercepts: neither the L2 penalty nor weight decay acts on them.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._layout import ParameterLayout
    >>> layout = ParameterLayout((3, 4, 2))
    >>> layout.n_weights, layout.n_params
    (20, 26)
    >>> buffer = np.arange(layout.n_params, dtype=float)
    >>> [w.shape for w in layout.coefs(buffer)], layout.intercepts(buffer)[1]
    ([(3, 4), (4, 2)], array([24., 25.]))
    """

    def __init__(self, layer_sizes, fit_intercept=True, n_embedding=0):
        self.layer_sizes = tuple(int(size) for size in layer_sizes)
        self.fit_intercept = bool(fit_intercept)
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))
        self.weight_shapes = shapes
        self.n_weights = sum(fan_in * fan_out for fan_in, fan_out in shapes)
        bias_sizes = [fan_out for _, fan_out in shapes]
        if not self.fit_intercept:
            bias_sizes[-1] = 0
        self.bias_sizes = bias_sizes
        self.embedding_start = self.n_weights + sum(bias_sizes)
        self.n_embedding = int(n_embedding)
        self.n_params = self.embedding_start + self.n_embedding

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + 1)."""
        return len(self.weight_shapes)

    def coefs(self, buffer):
        """Views of the weight matrices in ``buffer``, one ``(fan_in, fan_out)`` per layer."""
        views, start = [], 0
        for fan_in, fan_out in self.weight_shapes:
            stop = start + fan_in * fan_out
            views.append(buffer[start:stop].reshape(fan_in, fan_out))
            start = stop
        return views

    def intercepts(self, buffer):
        """Views of the intercept vectors in ``buffer``; empty for a layer without one."""
        views, start = [], self.n_weights
        for size in self.bias_sizes:
            views.append(buffer[start : start + size])
            start += size
        return views
