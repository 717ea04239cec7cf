"""Small networks for the tests that check a pass against the equations written out: a
layout, random parameters (the embedding's initialised as a fit would) and a batch X,
the first layer's inputs as the equations read them, and the checks of a network's
backward pass that every kind of layer takes."""

import numpy as np
import scipy.sparse as sp
from _finite_differences import central_differences

from skadam._embeddings import PeriodicEmbedding
from skadam._layout import ParameterLayout
from skadam._losses import BinaryLogLoss, SquaredError


def small_problem(hidden, n_outputs, *, n_rows, n_features, columns=None, sparse=False,
                  seed=0, **layout_options):
    """``(embedding, layout, params, X)``: a network of ``hidden`` layers, the columns
    ``columns`` of X embedded (none for None), X dense or, with ``sparse``, a CSR matrix
    with about 40% zeros. ``layout_options`` go to the layout (``input_scale``,
    ``shared_members``)."""
    rng = np.random.default_rng(seed)
    embedding = None if columns is None else PeriodicEmbedding(np.asarray(columns))
    layout, params = random_parameters(embedding, hidden, n_outputs, n_features, rng,
                                       **layout_options)
    X = rng.normal(size=(n_rows, n_features))
    if sparse:
        X = with_zeros(X, rng)
    return embedding, layout, params, X


def random_parameters(embedding, hidden, n_outputs, n_features, rng, **layout_options):
    """``(layout, params)``: the layout of a network of ``hidden`` layers over
    ``n_features`` columns and ``embedding``'s features (None for no embedding), and
    random parameters drawn from ``rng``, the embedding's initialised as a fit would."""
    width = 0 if embedding is None else embedding.width
    layout = ParameterLayout((n_features + width, *hidden, n_outputs),
                             n_embedding=0 if embedding is None else embedding.n_params,
                             **layout_options)
    params = rng.normal(scale=0.5, size=layout.n_params)
    if embedding is not None:
        embedding.initialise(params[layout.embedding_start:], rng)
    return layout, params


def with_zeros(X, rng):
    """``X`` as a CSR matrix, about 40% of its entries zeroed first (in place)."""
    X[rng.random(X.shape) < 0.4] = 0.0
    return sp.csr_matrix(X)


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


def network_gradients(network, params, X, Y, loss, spare_rows=0):
    """One forward and backward pass of each run of ``params`` (K, n_params) on the batch
    ``X`` against ``Y``: a copy of the raw outputs, and the gradients of the runs' mean
    losses (every entry written over NaN). ``spare_rows`` makes the workspace larger
    than the batch."""
    n_rows = X.shape[0]
    grad = np.full_like(params, np.nan)
    work = network.workspace(params, grad, n_rows + spare_rows)
    raw = network.forward(work, X)
    delta = work.deltas(n_rows)[-1]
    loss.gradient(raw, Y, delta)
    delta *= 1.0 / n_rows
    network.backward(work, X, delta)
    return raw.copy(), grad


def assert_backprop_matches_finite_differences(network, params, X, step=1e-6):
    """The gradient of a binary log loss on two outputs against central differences."""
    loss = BinaryLogLoss(2)
    Y = np.random.default_rng(1).integers(0, 2, size=(X.shape[0], 2)).astype(float)

    def objective(values):
        return float(np.mean(loss.per_sample(network.outputs(values[np.newaxis], X)[0], Y)))

    _, grad = network_gradients(network, params[np.newaxis], X, Y, loss)
    fd = central_differences(objective, params, step)
    np.testing.assert_allclose(grad[0], fd, rtol=1e-5, atol=1e-8)


def assert_a_stack_gives_each_run_what_it_gives_alone(network, params, X):
    """Three runs in one stack (``params`` and two others), in a workspace larger than
    the batch, give each the outputs and gradients it gives alone, bit for bit."""
    rng = np.random.default_rng(3)
    stack = np.stack([params, rng.normal(size=params.size), params * 0.5])
    loss = SquaredError(2)
    Y = rng.normal(size=(X.shape[0], 2))
    raw, grad = network_gradients(network, stack, X, Y, loss, spare_rows=3)
    for run in range(3):
        raw_alone, grad_alone = network_gradients(network, stack[run:run + 1].copy(), X, Y,
                                                  loss, spare_rows=3)
        np.testing.assert_array_equal(raw[run], raw_alone[0])
        np.testing.assert_array_equal(grad[run], grad_alone[0])
