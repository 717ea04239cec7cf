"""Piecewise-linear embeddings of numeric columns, for a stack of K runs.

Each embedded column ``x`` gets ``B`` bins between quantiles of its training values,
edges ``e_0 < ... < e_B``, and becomes ``D`` learned features
``c + sum_t clip((x - e_t) / (e_{t+1} - e_t), 0, 1) V_t``: the piecewise-linear encoding
of Gorishniy et al. (2022, "On Embeddings for Numerical Features in Tabular Deep
Learning"; the first bin is open below and the last above, so a value outside the
training range keeps its slope), mixed linearly to ``D`` outputs by ``V`` and ``c``. Each
feature is so a piecewise-linear function of the value, with its knots at the
quantiles and its slopes learnt. A value in bin ``k`` at position ``p`` in it gives
``c + V_0 + ... + V_{k-1} + p V_k``: a search among the edges and ``D`` multiply-adds,
where a periodic embedding computes 16 cosines and sines.

As with :class:`~skadam._embeddings.PeriodicEmbedding`, the first layer reads ``D``
features per embedded column followed by all the original columns, the parameters live
at the end of each run's parameter buffer (no L2 penalty or weight decay acts on them)
and are stored divided by ``SCALE``, so that Adam moves them ``SCALE`` times as far as
the weights. The edges are not parameters: they are read off the training data when the
embedding is made, and kept with the model.
"""

import math

import numpy as np

from ._embeddings import EmbeddingWork
from ._kernels import piecewise_backward, piecewise_forward
from ._layout import split_views
from ._model import is_sparse

# Quantile bins per column (fewer where the column has fewer distinct values): 16 and 64
# lost 0.0029 and 0.0012 against 32 over three seeds of benchmarks/tabular.py; and the
# learnt features per column, as the periodic embedding's.
N_BINS = 32
N_DIMS = 3
# The parameters are stored divided by SCALE: Adam, whose step does not depend on the
# gradient's scale, moves them SCALE times as far as the weights. Over three seeds of
# benchmarks/tabular.py, against 0.1 (the periodic embedding's, RealMLP's factor), 1 gained
# +0.0009 and 3 +0.0017 on average, and 10 lost 0.0004 against 0.1; 3 and 10 also
# converged soonest (the 18 sets in 6.0 to 6.9 s against 13.5 to 13.8 s with 0.1).
SCALE = 3.0
# What embedding one value costs, in multiply-adds of a dense product, for sharing work
# between threads: a search among the edges and a few multiply-adds.
COST_PER_VALUE = 40


def quantile_edges(X, columns, n_bins):
    """Each column's distinct quantile edges, as the rows of an (m, n_bins + 1) array of
    ``X``'s dtype, padded with +inf.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._piecewise import quantile_edges
    >>> X = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 6.0], [3.0, 6.0], [4.0, 7.0]])
    >>> quantile_edges(X, [0, 1], n_bins=4)
    array([[ 0.,  1.,  2.,  3.,  4.],
           [ 5.,  6.,  7., inf, inf]])
    """
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    edges = np.full((len(columns), n_bins + 1), np.inf, dtype=dtype)
    levels = np.linspace(0.0, 1.0, n_bins + 1)
    for row, column in zip(edges, columns, strict=True):
        values = X[:, [column]].toarray().ravel() if is_sparse(X) else X[:, column]
        distinct = np.unique(np.quantile(values, levels).astype(dtype))
        row[:distinct.size] = distinct
    return edges


class PiecewiseLinearEmbedding:
    """The piecewise-linear embedding of ``columns`` of X, with bins between ``edges``.

    Parameters
    ----------
    columns : array-like of int
        The embedded columns of ``X``.
    edges : ndarray of shape (m, n_bins + 1)
        Each column's increasing bin edges (at least two), padded with +inf, as
        :func:`quantile_edges` makes them.

    Attributes
    ----------
    n_embedded : int
        Number of embedded columns, ``m``.
    n_bins : int
        Bins per column, ``B`` (the most of any column).
    width : int
        Features it adds in front of ``X`` for the first layer, ``m * N_DIMS``.
    n_params : int
        Parameters per run: ``m * (B D + D)``.
    floats_per_row : int
        What a pass keeps per batch row and run: the features, ``m * D``, and each
        value's bin and position in it.
    work_per_row : int
        What embedding one row costs a run, in multiply-adds of a dense product.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._piecewise import PiecewiseLinearEmbedding, quantile_edges
    >>> X = np.random.default_rng(0).normal(size=(50, 3))
    >>> embedding = PiecewiseLinearEmbedding([0, 2], quantile_edges(X, [0, 2], n_bins=8))
    >>> params = np.zeros((1, embedding.n_params))
    >>> embedding.initialise(params[0], np.random.default_rng(0))
    >>> work = embedding.workspace(1, 5, np.float64)
    >>> embedding.forward(embedding.views(params), X[:5], work).shape
    (1, 5, 6)
    """

    def __init__(self, columns, edges):
        self.columns = np.asarray(columns, dtype=np.intp)
        self.edges = np.asarray(edges)
        self.n_embedded = m = len(self.columns)
        if self.edges.shape[0] != m or self.edges.ndim != 2 or not (
                np.isfinite(self.edges[:, :2]).all()):
            raise ValueError("edges must hold at least two finite edges for each of the "
                             f"{m} embedded columns; got an array of shape "
                             f"{self.edges.shape}.")
        self.n_bins = self.edges.shape[1] - 1
        self.width = m * N_DIMS
        self._shapes = ((m, self.n_bins, N_DIMS), (m, N_DIMS))
        self.n_params = sum(math.prod(shape) for shape in self._shapes)
        self.floats_per_row = m * (N_DIMS + 2)
        self.work_per_row = m * COST_PER_VALUE

    @classmethod
    def from_data(cls, columns, X):
        """The embedding of ``columns`` with the quantile bins of their values in ``X``."""
        return cls(columns, quantile_edges(X, columns, N_BINS))

    def views(self, buffer):
        """``(V, c)`` of a (K, n_params) buffer of embedding parameters, stored scaled.

        Shapes (K, m, B, D) and (K, m, D).
        """
        return split_views(buffer, self._shapes)

    def initialise(self, row, stream):
        """Draw one run's initial parameters (a 1-D ``row``) from ``stream``.

        ``V`` and ``c`` uniform in ±1/√B, as a linear layer's from the B bins; the
        entries of bins a column does not have (fewer distinct edges) are zero, and
        stay so, as no value falls in them.
        """
        V, c = self.views(row[np.newaxis])
        bound = 1.0 / np.sqrt(self.n_bins)
        V[...] = stream.uniform(-bound, bound, size=V.shape) / SCALE
        c[...] = stream.uniform(-bound, bound, size=c.shape) / SCALE
        used = np.isfinite(self.edges[:, 1:])  # bin t of column j is used: e_{t+1} finite
        V[0][~used] = 0.0

    def buffer_shapes(self, n_runs, n_rows):
        """The buffers of a pass over ``n_rows``: the features, (K, n_rows, m * D), and
        each value's bin (int64) and position in it, (m, n_rows), which do not depend on
        the run; with their dtypes (None: the parameters')."""
        per_value = (self.n_embedded, n_rows)
        return {"features": ((n_runs, n_rows, self.width), None),
                "positions": (per_value, None), "bins": (per_value, np.int64)}

    def workspace(self, n_runs, n_rows, dtype):
        """Buffers for the passes of ``n_runs`` runs over batches of up to ``n_rows``."""
        work = EmbeddingWork(self, n_runs, n_rows, dtype)
        work.edges = self.edges.astype(dtype)
        return work

    def forward(self, views, X, work):
        """The embedded features of the batch ``X``: a (K, n_rows, width) view of ``work``.

        Keeps each value's bin and position in ``work`` for :meth:`backward`.
        """
        V, c = views
        n_rows = X.shape[0]
        features = work.shaped("features", n_rows)
        piecewise_forward(work.values(X, self.columns), work.edges,
                          V.reshape(*V.shape[:2], -1), c, SCALE, work.shaped("bins", n_rows),
                          work.shaped("positions", n_rows), features)
        return features

    def backward(self, views, grads, X, delta, work):
        """Fill ``grads`` (``views`` of the gradient) from ``delta``, the gradient at the
        embedded features, (K, n_rows, width); after :meth:`forward` of the same batch."""
        grad_V, grad_c = grads
        n_rows = X.shape[0]
        piecewise_backward(work.shaped("bins", n_rows), work.shaped("positions", n_rows),
                           SCALE, delta, grad_V.reshape(*grad_V.shape[:2], -1), grad_c)
