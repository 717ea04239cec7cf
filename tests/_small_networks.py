"""Small networks for the tests that check a pass against the equations written out: a
layout, random parameters (the embedding's initialised as a fit would) and a batch X,
and the first layer's inputs as the equations read them."""

import numpy as np
import scipy.sparse as sp

from skadam._embeddings import PeriodicEmbedding
from skadam._layout import ParameterLayout


def small_problem(hidden, n_outputs, *, n_rows, n_features, columns=None, sparse=False,
                  seed=0, **layout_options):
    """``(embedding, layout, params, X)``: a network of ``hidden`` layers, the columns
    ``columns`` of X embedded (none for None), X dense or, with ``sparse``, a CSR matrix
    with about 40% zeros. ``layout_options`` go to the layout (``input_scale``,
    ``shared_members``)."""
    rng = np.random.default_rng(seed)
    embedding = None if columns is None else PeriodicEmbedding(np.asarray(columns))
    width = 0 if embedding is None else embedding.width
    layout = ParameterLayout((n_features + width, *hidden, n_outputs),
                             n_embedding=0 if embedding is None else embedding.n_params,
                             **layout_options)
    params = rng.normal(scale=0.5, size=layout.n_params)
    if embedding is not None:
        embedding.initialise(params[layout.embedding_start:], rng)
    X = rng.normal(size=(n_rows, n_features))
    if sparse:
        X[rng.random(X.shape) < 0.4] = 0.0
        X = sp.csr_matrix(X)
    return embedding, layout, params, X


def first_layer_inputs(embedding, layout, params, X):
    """What the first layer reads, dense: the embedded features, from the embedding's
    own forward pass (which tests/test_embeddings.py checks against the equations), then
    the columns of X."""
    dense = X.toarray() if sp.issparse(X) else X
    if embedding is None:
        return dense
    features = embedding.forward(
        embedding.views(params[np.newaxis, layout.embedding_start:]), X,
        embedding.workspace(1, X.shape[0], params.dtype))[0]
    return np.hstack([features, dense])
