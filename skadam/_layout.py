"""One flat parameter buffer for a stack of dense layers: shapes, offsets and views."""

import math

import numpy as np


class ParameterLayout:
    """Where each layer's weights and intercepts live in one flat buffer.

    All weight matrices come first (the linear skip's last among them), then all
    intercept vectors, so that the L2 penalty and decoupled weight decay act on one
    leading slice ``buffer[:n_weights]``. Layer ``i`` maps ``layer_sizes[i]`` inputs to
    ``layer_sizes[i + 1]`` outputs through a weight matrix of shape ``(fan_in, fan_out)``
    (C order, so ``X @ W`` needs no transpose) and, where it has one, an intercept of
    length ``fan_out``.

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
    shared_members : int, default=0
        For an ensemble of this many members that share the hidden layers (TabM-mini,
        :mod:`skadam._shared_ensemble`): the output layer has one weight matrix and
        intercept per member, a ``(shared_members, fan_in, fan_out)`` block among the
        weights and a ``(shared_members, fan_out)`` one among the intercepts, and each
        member scales the first layer's input by its own vector, a
        ``(shared_members, layer_sizes[0])`` block after the intercepts, out of the
        penalty's reach like the embedding, which comes after it. 0 for one network.
    input_scale : bool, default=False
        Give one network a learnt scale per input of its first layer (RealMLP's scaling
        layer), a ``(1, layer_sizes[0])`` block where a shared ensemble keeps its
        members' scales; a shared ensemble's members have theirs anyway.
    skip_inputs : int, default=0
        Give the output layer a linear skip from the last ``skip_inputs`` inputs of the
        first layer (the columns of ``X``, after an embedding's features): a
        ``(skip_inputs, fan_out)`` weight matrix, one per member of a shared ensemble,
        whose product with ``X`` adds to the raw outputs. 0 for none.

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

    def __init__(self, layer_sizes, fit_intercept=True, n_embedding=0, shared_members=0,
                 input_scale=False, skip_inputs=0):
        self.layer_sizes = tuple(int(size) for size in layer_sizes)
        self.skip_inputs = int(skip_inputs)
        self.fit_intercept = bool(fit_intercept)
        self.shared_members = int(shared_members)
        heads = max(self.shared_members, 1)
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))
        self.weight_shapes = shapes
        # Each layer's weights and intercepts in a row, the output layer's per member
        # when the members share the rest.
        self.coef_shapes = shapes[:-1] + [
            (heads, *shapes[-1]) if self.shared_members else shapes[-1]]
        bias_sizes = [fan_out for _, fan_out in shapes]
        if not self.fit_intercept:
            bias_sizes[-1] = 0
        self.intercept_shapes = [(size,) for size in bias_sizes[:-1]] + [
            (heads, bias_sizes[-1]) if self.shared_members else (bias_sizes[-1],)]
        self.skip_start = sum(math.prod(shape) for shape in self.coef_shapes)
        self.skip_shape = ((heads,) if self.shared_members else ()) + (
            self.skip_inputs, self.layer_sizes[-1])
        self.n_weights = self.skip_start + (
            math.prod(self.skip_shape) if self.skip_inputs else 0)
        self.input_scale = bool(input_scale) and not self.shared_members
        # Rows of input scales: one per member of a shared ensemble, or one network's.
        self.n_scales = self.shared_members or int(self.input_scale)
        self.adapter_start = self.n_weights + sum(
            math.prod(shape) for shape in self.intercept_shapes)
        self.embedding_start = self.adapter_start + self.n_scales * self.layer_sizes[0]
        self.n_embedding = int(n_embedding)
        self.n_params = self.embedding_start + self.n_embedding

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + 1)."""
        return len(self.weight_shapes)

    def coefs(self, buffer):
        """Views of the weight matrices in ``buffer``, one ``(fan_in, fan_out)`` per layer
        (the output layer's ``(shared_members, fan_in, fan_out)`` when members share)."""
        return [view[0] for view in split_views(buffer[np.newaxis], self.coef_shapes)]

    def intercepts(self, buffer):
        """Views of the intercept vectors in ``buffer``; empty for a layer without one
        (the output layer's ``(shared_members, fan_out)`` when members share)."""
        return [view[0] for view in split_views(buffer[np.newaxis, self.n_weights:],
                                                self.intercept_shapes)]

    def skip(self, buffer):
        """The linear skip's weights in ``buffer``, ``(skip_inputs, fan_out)`` (one per
        member of a shared ensemble, ``(shared_members, skip_inputs, fan_out)``), or
        None without one."""
        if not self.skip_inputs:
            return None
        return buffer[self.skip_start:self.n_weights].reshape(self.skip_shape)

    def adapter(self, buffer):
        """The scales of the first layer's input, ``(n_scales, fan_in)``: one row per
        member of a shared ensemble, or one network's with ``input_scale``."""
        return buffer[self.adapter_start:self.embedding_start].reshape(
            self.n_scales, self.layer_sizes[0])


def split_views(buffer, shapes):
    """Consecutive parts of each row of a (K, n) ``buffer``, each a (K, *shape) view, for
    the per-run ``shapes`` in order (a part of the parameters laid out block by block).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._layout import split_views
    >>> [view.shape for view in split_views(np.zeros((2, 10)), [(2, 3), (4,)])]
    [(2, 2, 3), (2, 4)]
    """
    views, start = [], 0
    for shape in shapes:
        stop = start + math.prod(shape)
        views.append(shaped_view(buffer[:, start:stop], (buffer.shape[0], *shape)))
        start = stop
    return views


def shaped_view(array, shape):
    view = array.reshape(shape)
    # Splitting a contiguous axis never copies; a copy would silently drop the writes.
    assert view.size == 0 or np.shares_memory(view, array)
    return view
