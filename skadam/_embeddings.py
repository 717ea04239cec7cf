"""Periodic embeddings of numeric columns (RealMLP's PBLD), for a stack of K runs.

Each embedded column ``x`` becomes ``D`` learned features ``cos(2π w x + b) @ V + c``:
``F`` periodic functions of the value with trainable frequencies ``w`` and phases ``b``,
mixed linearly to ``D`` outputs by ``V`` and ``c`` (Gorishniy et al., 2022, "On
Embeddings for Numerical Features in Tabular Deep Learning"; the cosine-with-phase and
linear variant is Holzmüller et al.'s PBLD, 2024). The column's value itself still
reaches the first layer, so the first dense layer reads ``D`` embedded features per
embedded column followed by all the original columns; its weight matrix has
``n_embedded * D`` rows for the embeddings, then one per column of ``X``. Only columns
with more than two distinct values are embedded: a 0/1 column (one-hot, missing-value
indicator) has nothing for a periodic function to resolve.

Parameters live at the end of each run's parameter buffer, after the intercepts, so
neither the L2 penalty nor decoupled weight decay acts on them. They are stored divided
by ``SCALE``, so that Adam, whose step does not depend on the gradient's scale, moves
them ``SCALE`` times slower than the weights: RealMLP's learning-rate factor of 0.1 for
the embeddings, without a second learning rate in the optimizer.
"""

import math

import numpy as np
import scipy.sparse as sp

from ._kernels import embed_backward, embed_forward
from ._layout import split_views
from ._model import is_sparse

# RealMLP-TD's embedding: 16 periodic functions per column, 3 learned outputs (its fourth
# is the value, which the first layer reads from X), initial frequencies N(0, 0.1²).
N_FREQUENCIES = 16
N_DIMS = 3
FREQUENCY_SCALE = 0.1
# The time of one embedded value of one run in multiply-adds of a dense product, for
# deciding how to share work between threads: its 16 cosines and sines cost what about
# 750 products' terms do (a forward pass of 128 rows of 9 columns, timed against the
# first layer's product).
COST_PER_VALUE = 750
SCALE = 0.1


# numeric_embedding="auto": the piecewise-linear embedding (skadam._piecewise), on the
# columns where an embedding pays for its time. Over three seeds of benchmarks/tabular.py
# it gained +0.0041 over the periodic one on the same columns (most on the regression
# sets of many rows: protein_casp +0.032, airfoil +0.028 R^2), in less than half the
# time, as the fits converged in fewer epochs. The rule for the columns was measured with the
# periodic embedding, with benchmarks/tabular.py and benchmarks/threads.py. Its cost
# grows with every embedded column (16 cosines and sines a value, three more inputs of
# the first layer), its gain does not: on the tabular sets with more numeric columns
# (breast_cancer, compactiv, communities_crime with 122) embedding the 16 of most
# distinct values was even with embedding them all, and on 60 or 200 columns of
# make_classification embedding all of them took 3 to 7 times as long for at most 0.003
# of accuracy. A column of fewer than 21 distinct values (a count, a rating, a pixel's
# 17 grey levels) is left to the first layer: on scikit-learn's digits embedding the
# pixels lost 0.007 of accuracy at 6 times the time, and on the tabular sets leaving such
# columns out gained on 5 and lost on 2. Data of more than 200 columns are left as they
# are: on make_classification 20,000 x 500 the embedding took 10.8 s against 7.6 s (and
# scikit-learn's MLP 5.8 s) for 0.002 of accuracy, and at 200 columns it gained nothing
# (ROC AUC 0.9946 both, 2.2 s against 2.0 s). The embedding's cost relative to the
# network's does not grow with the rows, and many rows are where it pays: on 60,000 x 30
# rows with step-shaped effects it gained 0.008 of accuracy (0.009 of ROC AUC) in about
# the same time (4.4 s against 4.1 s over two seeds, scikit-learn's MLP 22 s): 21 and 34
# epochs against 91 and 60, each 2.7 times as long. So the rule caps the columns, not
# the values, and counts the distinct values of each column on 10,000 rows spread over
# the data, which bounds the cost of the count.
AUTO_EMBEDDING = "piecewise_linear"
AUTO_MAX_COLUMNS = 16
AUTO_MIN_DISTINCT = 21
AUTO_MAX_INPUTS = 200
AUTO_COUNT_ROWS = 10_000


def distinct_counts(X):
    """The number of distinct values of each column of ``X`` (dense or sparse).

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._embeddings import distinct_counts
    >>> distinct_counts(np.array([[0.0, 1.5, 3.0], [1.0, 1.5, -1.0], [0.0, 1.5, 2.0]]))
    array([2, 1, 3])
    """
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        counts = np.empty(X.shape[1], dtype=np.intp)
        for column in range(X.shape[1]):
            values = X.data[X.indptr[column]:X.indptr[column + 1]]
            has_zero = values.size < X.shape[0] or (values == 0).any()
            counts[column] = np.unique(values[values != 0]).size + has_zero
        return counts
    X = np.sort(X, axis=0)
    return 1 + np.count_nonzero(X[1:] != X[:-1], axis=0)


def embedded_columns(X, rule="periodic"):
    """The columns of ``X`` that ``numeric_embedding=rule`` embeds, as a sorted int array.

    ``"periodic"`` or ``"piecewise_linear"``: every column of more than two distinct
    values (not one-hot or indicator columns). ``"auto"``: of the columns with at least
    ``AUTO_MIN_DISTINCT`` distinct values among ``AUTO_COUNT_ROWS`` rows spread evenly
    over ``X`` (all of them, if fewer), the ``AUTO_MAX_COLUMNS`` with the most (the
    leftmost among equals); none when ``X`` has more than ``AUTO_MAX_INPUTS`` columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._embeddings import embedded_columns
    >>> X = np.array([[0.0, 1.5, 3.0], [1.0, 1.5, -1.0], [0.0, 1.5, 2.0]])
    >>> embedded_columns(X)
    array([2])
    >>> rng = np.random.default_rng(0)
    >>> X = np.hstack([rng.integers(0, 5, (100, 1)), rng.normal(size=(100, 19))])
    >>> embedded_columns(X, "auto")
    array([ 1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16])
    """
    if rule == "auto":
        if X.shape[1] > AUTO_MAX_INPUTS:
            return np.empty(0, dtype=np.intp)
        X = X[::-(-X.shape[0] // AUTO_COUNT_ROWS)]  # every k-th row: at most that many
    counts = distinct_counts(X)
    if rule != "auto":
        return np.flatnonzero(counts > 2)
    candidates = np.flatnonzero(counts >= AUTO_MIN_DISTINCT)
    most_first = candidates[np.argsort(-counts[candidates], kind="stable")]
    return np.sort(most_first[:AUTO_MAX_COLUMNS])


class PeriodicEmbedding:
    """The embedding of ``columns`` of X: parameters, initialisation, forward, backward.

    Parameters
    ----------
    columns : array-like of int
        The embedded columns of ``X``.

    Attributes
    ----------
    n_embedded : int
        Number of embedded columns, ``m``.
    width : int
        Features it adds in front of ``X`` for the first layer, ``m * N_DIMS``.
    n_params : int
        Parameters per run: ``m * (2 F + F D + D)``.
    floats_per_row : int
        What a pass keeps per batch row and run: the cosines and sines of the phases,
        ``m * F`` each, and the features, ``m * D``.
    work_per_row : int
        What embedding one row costs a run, in multiply-adds of a dense product.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam._embeddings import PeriodicEmbedding
    >>> embedding = PeriodicEmbedding([0, 2])
    >>> params = np.zeros((1, embedding.n_params))
    >>> embedding.initialise(params[0], np.random.default_rng(0))
    >>> work = embedding.workspace(1, 5, np.float64)
    >>> embedding.forward(embedding.views(params), np.ones((5, 3)), work).shape
    (1, 5, 6)
    """

    def __init__(self, columns):
        self.columns = np.asarray(columns, dtype=np.intp)
        self.n_embedded = m = len(self.columns)
        self.width = m * N_DIMS
        self._shapes = ((m, N_FREQUENCIES), (m, N_FREQUENCIES), (m, N_FREQUENCIES, N_DIMS),
                        (m, N_DIMS))
        self.n_params = sum(math.prod(shape) for shape in self._shapes)
        self.floats_per_row = m * (2 * N_FREQUENCIES + N_DIMS)
        self.work_per_row = m * COST_PER_VALUE

    def views(self, buffer):
        """``(w, b, V, c)`` of a (K, n_params) buffer of embedding parameters, stored scaled.

        Shapes (K, m, F), (K, m, F), (K, m, F, D) and (K, m, D).
        """
        return split_views(buffer, self._shapes)

    def initialise(self, row, stream):
        """Draw one run's initial parameters (a 1-D ``row``) from ``stream``.

        Frequencies from N(0, FREQUENCY_SCALE²), phases uniform in [-π, π], the mixing
        weights and offsets uniform in ±1/√F as a linear layer's.
        """
        w, b, V, c = self.views(row[np.newaxis])
        bound = 1.0 / np.sqrt(N_FREQUENCIES)
        w[...] = stream.normal(0.0, FREQUENCY_SCALE, size=w.shape) / SCALE
        b[...] = stream.uniform(-np.pi, np.pi, size=b.shape) / SCALE
        V[...] = stream.uniform(-bound, bound, size=V.shape) / SCALE
        c[...] = stream.uniform(-bound, bound, size=c.shape) / SCALE

    def buffer_shapes(self, n_runs, n_rows):
        """The buffers of a pass over ``n_rows``: the cosines and sines of the phases,
        (K, m * F, n_rows) (a frequency's rows side by side, so that the kernels' loops
        run along the rows), and the features, (K, n_rows, m * D); with their dtypes
        (None: the parameters')."""
        phases = ((n_runs, self.n_embedded * N_FREQUENCIES, n_rows), None)
        return {"cosines": phases, "sines": phases,
                "features": ((n_runs, n_rows, self.width), None)}

    def workspace(self, n_runs, n_rows, dtype):
        """Buffers for the passes of ``n_runs`` runs over batches of up to ``n_rows``."""
        return EmbeddingWork(self, n_runs, n_rows, dtype)

    def forward(self, views, X, work):
        """The embedded features of the batch ``X``: a (K, n_rows, width) view of ``work``.

        Keeps the cosines and sines of the phases in ``work`` for :meth:`backward`.
        """
        w, b, V, c = views
        n_rows = X.shape[0]
        features = work.shaped("features", n_rows)
        embed_forward(work.values(X, self.columns), w, b, V.reshape(*V.shape[:2], -1), c,
                      SCALE, work.shaped("cosines", n_rows), work.shaped("sines", n_rows),
                      features)
        return features

    def backward(self, views, grads, X, delta, work):
        """Fill ``grads`` (``views`` of the gradient) from ``delta``, the gradient at the
        embedded features, (K, n_rows, width); after :meth:`forward` of the same batch."""
        V = views[2]
        grad_w, grad_b, grad_V, grad_c = grads
        n_rows = X.shape[0]
        embed_backward(work.current_values, V.reshape(*V.shape[:2], -1), SCALE,
                       work.shaped("cosines", n_rows), work.shaped("sines", n_rows), delta,
                       grad_w, grad_b, grad_V.reshape(*grad_V.shape[:2], -1), grad_c)


class EmbeddingWork:
    """Flat buffers of an embedding's passes, shaped for any batch.

    ``embedding.buffer_shapes(n_runs, n_rows)`` names each buffer with its shape for a
    batch of ``n_rows`` and its dtype (None: the parameters'); each is allocated once,
    for the largest batch, and shaped as a contiguous array for a smaller one.
    """

    def __init__(self, embedding, n_runs, n_rows, dtype):
        m = embedding.n_embedded
        self.m, self.dtype = m, dtype
        self._shapes = lambda rows: embedding.buffer_shapes(n_runs, rows)
        self._flat = {name: np.empty(math.prod(shape), dtype=kind or dtype)
                      for name, (shape, kind) in self._shapes(n_rows).items()}
        self._values = np.empty(m * n_rows, dtype=dtype)
        columns = embedding.columns
        consecutive = m > 0 and columns[-1] - columns[0] == m - 1
        self._run = slice(columns[0], columns[-1] + 1) if consecutive else None
        self._views = {}
        self.current_values = None

    def shaped(self, name, n_rows):
        """The buffer ``name`` as a contiguous array for a batch of ``n_rows``."""
        # An epoch asks for two batch sizes at most: its views are made once.
        key = (name, n_rows)
        view = self._views.get(key)
        if view is None:
            shape = self._shapes(n_rows)[name][0]
            view = self._views[key] = self._flat[name][:math.prod(shape)].reshape(shape)
        return view

    def values(self, X, columns):
        """The embedded columns of the batch, transposed: (m, n_rows), kept for backward."""
        n_rows = X.shape[0]
        U = self._values[:self.m * n_rows].reshape(self.m, n_rows)
        if is_sparse(X):
            np.copyto(U, X[:, columns].toarray().T)
        elif self._run is not None:
            # Consecutive columns, as a column transformer puts the numeric ones: a copy
            # of a slice takes a sixth of a gather's time (0.6 us against 3.7 for 128
            # rows of 9 columns).
            np.copyto(U, X[:, self._run].T)
        else:
            np.take(X, columns, axis=1, out=U.T)
        self.current_values = U
        return U
