"""Piecewise-linear numeric embeddings: the quantile edges, the forward pass against the
encoding of Gorishniy et al. written out, backpropagation against finite differences,
stacks, sparse and float32 input, and the estimators."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from _small_networks import (
    assert_a_stack_gives_each_run_what_it_gives_alone,
    assert_backprop_matches_finite_differences,
    network_gradients,
    random_parameters,
    with_zeros,
)
from sklearn.base import clone

from skadam import MLPClassifier, MLPRegressor
from skadam._losses import SquaredError
from skadam._model import Network
from skadam._piecewise import (
    N_BINS,
    N_DIMS,
    SCALE,
    PiecewiseLinearEmbedding,
    quantile_edges,
)

N_ROWS, N_FEATURES, HIDDEN = 9, 4, 5
COLUMNS = [0, 2, 3]
CONSECUTIVE = [1, 2, 3]
BINS = 4
STEP = 1e-6


def _problem(seed=0, sparse=False, columns=COLUMNS, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, N_FEATURES))
    X[:, 1] = rng.integers(0, 2, 40)
    X[:, 3] = rng.integers(0, 3, 40)  # three values: fewer bins than asked for
    edges = quantile_edges(X, columns, n_bins=BINS)
    embedding = PiecewiseLinearEmbedding(columns, edges)
    layout, params = random_parameters(embedding, (HIDDEN,), 2, N_FEATURES, rng)
    # The batch reaches past the training range on both sides.
    X = X[:N_ROWS] * 1.5
    if sparse:
        X = with_zeros(X, rng)
    network = Network(layout, "tanh", embedding)
    return network, layout, embedding, params.astype(dtype), X.astype(dtype)


def _encoding(x, edges):
    """Gorishniy et al.'s piecewise-linear encoding of ``x`` over the finite ``edges``:
    one entry per bin, clip((x - e_t) / (e_{t+1} - e_t), 0, 1), with no lower clip in
    the first bin and no upper clip in the last."""
    edges = edges[np.isfinite(edges)]
    n_bins = edges.size - 1
    entries = []
    for t in range(n_bins):
        value = (x - edges[t]) / (edges[t + 1] - edges[t])
        low = -np.inf if t == 0 else 0.0
        high = np.inf if t == n_bins - 1 else 1.0
        entries.append(min(max(value, low), high))
    return np.array(entries)


def _reference_forward(layout, embedding, params, X, columns=COLUMNS):
    """The network written from the equations, one column and one row at a time."""
    X = X.toarray() if sp.issparse(X) else X
    m, B = len(columns), embedding.n_bins
    e = params[layout.embedding_start:]
    V = e[:m * B * N_DIMS].reshape(m, B, N_DIMS) * SCALE
    c = e[m * B * N_DIMS:].reshape(m, N_DIMS) * SCALE
    W0, W1 = layout.coefs(params)
    b0, b1 = layout.intercepts(params)
    outputs = []
    for x in X:
        features = []
        for j, column in enumerate(columns):
            code = _encoding(x[column], embedding.edges[j])
            features += list(c[j] + code @ V[j, :code.size])
        inputs = np.concatenate([features, x])
        outputs.append(np.tanh(inputs @ W0 + b0) @ W1 + b1)
    return np.array(outputs)


def test_quantile_edges_are_the_distinct_quantiles_padded_with_inf():
    X = np.column_stack([np.arange(9.0), np.repeat([1.0, 2.0, 4.0], 3)])
    edges = quantile_edges(X, [0, 1], n_bins=4)
    np.testing.assert_array_equal(edges[0], np.quantile(X[:, 0], [0, .25, .5, .75, 1]))
    np.testing.assert_array_equal(edges[1], [1.0, 2.0, 4.0, np.inf, np.inf])
    sparse = quantile_edges(sp.csr_matrix(X), [0, 1], n_bins=4)
    np.testing.assert_array_equal(sparse, edges)
    assert quantile_edges(X.astype(np.float32), [0], n_bins=4).dtype == np.float32


def test_a_column_needs_two_edges():
    with pytest.raises(ValueError, match="at least two finite edges"):
        PiecewiseLinearEmbedding([0], np.array([[1.0, np.inf, np.inf]]))


@pytest.mark.parametrize("columns", [COLUMNS, CONSECUTIVE], ids=["gathered", "consecutive"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_forward_matches_the_encoding(sparse, columns):
    network, layout, embedding, params, X = _problem(sparse=sparse, columns=columns)
    raw = network.outputs(params[np.newaxis], X)[0]
    np.testing.assert_allclose(raw, _reference_forward(layout, embedding, params, X, columns),
                               rtol=1e-10, atol=1e-12)


def test_float32_follows_float64():
    network, _, _, params, X = _problem()
    _, _, _, params32, X32 = _problem(dtype=np.float32)
    raw = network.outputs(params[np.newaxis], X)[0]
    raw32 = network.outputs(params32[np.newaxis], X32)[0]
    assert raw32.dtype == np.float32
    np.testing.assert_allclose(raw32, raw, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("columns", [COLUMNS, CONSECUTIVE], ids=["gathered", "consecutive"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_backprop_matches_finite_differences(sparse, columns):
    network, _, _, params, X = _problem(sparse=sparse, columns=columns)
    assert_backprop_matches_finite_differences(network, params, X, STEP)


def test_bins_a_column_lacks_stay_zero_without_gradient():
    network, layout, embedding, params, X = _problem()
    V = embedding.views(params[np.newaxis, layout.embedding_start:])[0][0]
    unused = ~np.isfinite(embedding.edges[:, 1:])
    assert unused.any()
    assert not V[unused].any()
    _, grad = network_gradients(network, params[np.newaxis], X, np.zeros((N_ROWS, 2)),
                                SquaredError(2))
    grad_V = embedding.views(grad[:, layout.embedding_start:])[0][0]
    assert not grad_V[unused].any()
    assert grad_V[~unused].all()


def test_a_stack_gives_each_run_what_it_gives_alone():
    network, _, _, params, X = _problem()
    assert_a_stack_gives_each_run_what_it_gives_alone(network, params, X)


def test_estimators_embed_with_bins_of_their_training_data(quiet):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=300), rng.integers(0, 2, 300),
                         rng.uniform(0, 10, 300)])
    y = np.sin(X[:, 2]) + X[:, 1]
    model = MLPRegressor(numeric_embedding="piecewise_linear", early_stopping=False,
                         max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.embedded_features_, [0, 2])
    embedding = model._embedding
    assert isinstance(embedding, PiecewiseLinearEmbedding)
    np.testing.assert_array_equal(embedding.edges, quantile_edges(X, [0, 2], N_BINS))
    # partial_fit goes on with the bins of the first call, whatever the new data.
    edges = embedding.edges.copy()
    model.partial_fit(X[:50] * 3, y[:50])
    np.testing.assert_array_equal(model._embedding.edges, edges)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    # Sparse input gives the model of dense input; an ensemble's first member is the
    # model alone.
    model = MLPRegressor(numeric_embedding="piecewise_linear", early_stopping=False,
                         max_iter=5, random_state=0).fit(X, y)
    sparse = clone(model).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(sparse._embedding.edges, model._embedding.edges)
    np.testing.assert_allclose(sparse.predict(X), model.predict(X), rtol=1e-8)
    ensemble = clone(model).set_params(ensemble_size=3).fit(X, y)
    np.testing.assert_array_equal(ensemble._params[0], model._params[0])
    classifier = MLPClassifier(numeric_embedding="piecewise_linear", max_iter=5,
                               random_state=0).fit(X, y > 0.5)
    assert isinstance(classifier._embedding, PiecewiseLinearEmbedding)


def test_auto_embeds_piecewise_linearly(quiet):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 2, 200)])
    model = MLPRegressor(max_iter=2, random_state=0).fit(X, X[:, 0])
    assert isinstance(model._embedding, PiecewiseLinearEmbedding)
    np.testing.assert_array_equal(model.embedded_features_, [0])
    explicit = MLPRegressor(numeric_embedding="piecewise_linear", max_iter=2,
                            random_state=0).fit(X, X[:, 0])
    np.testing.assert_array_equal(model._params, explicit._params)


def test_the_piecewise_linear_embedding_learns_a_step(quiet):
    # A step in one column is a steep slope in one bin for the embedding; the plain first
    # layer needs its units' kinks to line up for it, which takes it longer. (With 70
    # epochs: 0.97 against 0.82; the embedding converges by then, and with 200 epochs the
    # plain layer reaches 0.94.)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(600, 1))
    y = np.where(X[:, 0] > 0.3, 1.0, -1.0) + 0.05 * rng.normal(size=600)
    scores = {}
    for embedding in ("piecewise_linear", None):
        model = MLPRegressor(hidden_layer_sizes=(8,), numeric_embedding=embedding,
                             max_iter=70, early_stopping=False, random_state=0)
        scores[embedding] = model.fit(X[:400], y[:400]).score(X[400:], y[400:])
    assert scores["piecewise_linear"] > 0.93
    assert scores["piecewise_linear"] > scores[None] + 0.05
