"""Periodic numeric embeddings: the forward pass against the equations written out,
backpropagation against finite differences, stacks, sparse input and the estimators."""


import numpy as np
import pytest
import scipy.sparse as sp
from _small_networks import (
    assert_a_stack_gives_each_run_what_it_gives_alone,
    assert_backprop_matches_finite_differences,
    random_parameters,
    with_zeros,
)
from sklearn.base import clone

from skadam import MLPClassifier, MLPRegressor, _embeddings
from skadam._embeddings import (
    AUTO_MAX_COLUMNS,
    AUTO_MIN_DISTINCT,
    N_DIMS,
    N_FREQUENCIES,
    SCALE,
    PeriodicEmbedding,
    distinct_counts,
    embedded_columns,
)
from skadam._model import Network

N_ROWS, N_FEATURES, HIDDEN = 7, 4, 5
COLUMNS = [0, 2, 3]
# Consecutive columns take a slice of X rather than a gather: both are checked.
CONSECUTIVE = [1, 2, 3]
STEP = 1e-6


def _problem(seed=0, sparse=False, columns=COLUMNS):
    rng = np.random.default_rng(seed)
    embedding = PeriodicEmbedding(columns)
    layout, params = random_parameters(embedding, (HIDDEN,), 2, N_FEATURES, rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    X[:, 1] = rng.integers(0, 2, N_ROWS)
    if sparse:
        X = with_zeros(X, rng)
    return Network(layout, "tanh", embedding), layout, embedding, params, X


def _reference_forward(layout, params, X, columns=COLUMNS):
    """The network written from the equations, one column and one row at a time."""
    X = X.toarray() if sp.issparse(X) else X
    m = len(columns)
    e = params[layout.embedding_start:]
    sizes = [m * N_FREQUENCIES, m * N_FREQUENCIES, m * N_FREQUENCIES * N_DIMS, m * N_DIMS]
    w, b, V, c = (part * SCALE for part in np.split(e, np.cumsum(sizes)[:-1]))
    w, b = w.reshape(m, N_FREQUENCIES), b.reshape(m, N_FREQUENCIES)
    V, c = V.reshape(m, N_FREQUENCIES, N_DIMS), c.reshape(m, N_DIMS)
    W0, W1 = layout.coefs(params)
    b0, b1 = layout.intercepts(params)
    outputs = []
    for x in X:
        features = []
        for j, column in enumerate(columns):
            periodic = [np.cos(2 * np.pi * w[j, f] * x[column] + b[j, f])
                        for f in range(N_FREQUENCIES)]
            features += [sum(periodic[f] * V[j, f, d] for f in range(N_FREQUENCIES)) + c[j, d]
                         for d in range(N_DIMS)]
        inputs = np.concatenate([features, x])
        outputs.append(np.tanh(inputs @ W0 + b0) @ W1 + b1)
    return np.array(outputs)


@pytest.mark.parametrize("columns", [COLUMNS, CONSECUTIVE], ids=["gathered", "consecutive"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_forward_matches_the_equations(sparse, columns):
    network, layout, _, params, X = _problem(sparse=sparse, columns=columns)
    raw = network.outputs(params[np.newaxis], X)[0]
    np.testing.assert_allclose(raw, _reference_forward(layout, params, X, columns),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("columns", [COLUMNS, CONSECUTIVE], ids=["gathered", "consecutive"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_backprop_matches_finite_differences(sparse, columns):
    network, _, _, params, X = _problem(sparse=sparse, columns=columns)
    assert_backprop_matches_finite_differences(network, params, X, STEP)


def test_a_stack_gives_each_run_what_it_gives_alone():
    network, _, _, params, X = _problem()
    assert_a_stack_gives_each_run_what_it_gives_alone(network, params, X)


def test_only_columns_of_more_than_two_values_are_embedded():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=50), rng.integers(0, 2, 50), np.full(50, 3.0),
                         rng.integers(0, 3, 50), np.where(rng.random(50) < 0.5, 0.0, 7.5)])
    np.testing.assert_array_equal(embedded_columns(X), [0, 3])
    np.testing.assert_array_equal(embedded_columns(sp.csr_matrix(X)), [0, 3])


def test_auto_embeds_the_columns_of_most_distinct_values_up_to_its_limit():
    """"auto": columns of at least AUTO_MIN_DISTINCT values, at most AUTO_MAX_COLUMNS of
    them, those of the most distinct values first and the leftmost among equals; counts
    of distinct values as numpy's unique gives them, sparse input alike."""
    rng = np.random.default_rng(0)
    n = 400
    distinct = [5, 20, 21, 300, 40, 400, 400, 2, 60, 400, 400, 400, 400, 400, 400, 400,
                400, 400, 400, 22]
    X = np.column_stack([rng.permutation(np.arange(n) % k) * 0.5 for k in distinct])
    X[rng.random(X.shape) < 0.3] = 0.0  # zeros kept among the values, implicit in sparse
    counts = [np.unique(column).size for column in X.T]
    np.testing.assert_array_equal(distinct_counts(X), counts)
    np.testing.assert_array_equal(distinct_counts(sp.csr_matrix(X)), counts)
    eligible = [j for j in range(X.shape[1]) if counts[j] >= AUTO_MIN_DISTINCT]
    expected = sorted(sorted(eligible, key=lambda j: (-counts[j], j))[:AUTO_MAX_COLUMNS])
    np.testing.assert_array_equal(embedded_columns(X, "auto"), expected)
    np.testing.assert_array_equal(embedded_columns(sp.csc_matrix(X), "auto"), expected)
    assert len(expected) == AUTO_MAX_COLUMNS


def test_auto_leaves_pixels_to_the_first_layer(digits, quiet):
    """scikit-learn's digits: 17 grey levels a pixel, no column embedded by default;
    "periodic" embeds every pixel of more than two levels."""
    X, y = digits[:2]
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, early_stopping=False,
                          random_state=0)
    assert model.fit(X, y).embedded_features_.size == 0
    assert model.coefs_[0].shape[0] == X.shape[1]
    periodic = clone(model).set_params(numeric_embedding="periodic").fit(X, y)
    np.testing.assert_array_equal(periodic.embedded_features_,
                                  [j for j in range(X.shape[1]) if np.unique(X[:, j]).size > 2])


def test_estimators_embed_the_numeric_columns(quiet):
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-2, 2, size=(600, 2)), rng.integers(0, 2, 600)])
    y = np.sin(3 * X[:, 0]) + X[:, 2]
    model = MLPRegressor(hidden_layer_sizes=(16,), ensemble_size=1,
                         numeric_embedding="periodic", max_iter=20, random_state=0).fit(X, y)
    assert model.coefs_[0].shape == (2 * N_DIMS + 3, 16)
    np.testing.assert_array_equal(model._embedding.columns, [0, 1])
    # Sparse input gives the model of dense input, and predictions in chunks agree.
    sparse = clone(model).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.predict(X), model.predict(X), rtol=1e-8)
    # A warm start continues with the same embedding; an ensemble embeds every member.
    twice = clone(model).set_params(max_iter=10, warm_start=True).fit(X, y).fit(X, y)
    np.testing.assert_array_equal(twice._params, model._params)
    ensemble = clone(model).set_params(ensemble_size=3).fit(X, y)
    np.testing.assert_array_equal(ensemble._params[0], model._params[0])
    labels = (y > 0).astype(int)
    classifier = MLPClassifier(hidden_layer_sizes=(8,), numeric_embedding="periodic",
                               max_iter=5, random_state=0).fit(X.astype(np.float32), labels)
    assert classifier._params.dtype == np.float32
    assert classifier.predict_proba(X).shape == (600, 2)


def test_no_column_to_embed_leaves_the_plain_network(quiet):
    X = np.random.default_rng(0).integers(0, 2, size=(100, 3)).astype(float)
    y = X.sum(axis=1)
    model = MLPRegressor(hidden_layer_sizes=(8,), numeric_embedding="periodic",
                         max_iter=5, random_state=0).fit(X, y)
    plain = clone(model).set_params(numeric_embedding=None).fit(X, y)
    assert model._embedding is None
    np.testing.assert_array_equal(model._params, plain._params)


def test_auto_embeds_nothing_past_its_budget_of_columns(monkeypatch):
    """Data of more than AUTO_MAX_INPUTS columns are not embedded, however few their
    rows; "periodic" embeds them all the same."""
    X = np.random.default_rng(0).normal(size=(50, 4))
    monkeypatch.setattr(_embeddings, "AUTO_MAX_INPUTS", 4)
    np.testing.assert_array_equal(embedded_columns(X, "auto"), [0, 1, 2, 3])
    monkeypatch.setattr(_embeddings, "AUTO_MAX_INPUTS", 3)
    assert embedded_columns(X, "auto").size == 0
    np.testing.assert_array_equal(embedded_columns(X, "periodic"), [0, 1, 2, 3])


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_auto_counts_distinct_values_on_rows_spread_over_the_data(monkeypatch, sparse):
    # Of 100 rows, every 4th (25 rows) when the count takes at most 30: column 0 takes
    # a new value on every row, column 1 on every 4th row only, column 2 on the others
    # only, and column 3 alternates between two values.
    rows = np.arange(100.0)
    X = np.column_stack([rows, rows // 4, np.where(rows % 4 == 0, 0.0, rows), rows % 2])
    monkeypatch.setattr(_embeddings, "AUTO_MIN_DISTINCT", 25)
    monkeypatch.setattr(_embeddings, "AUTO_COUNT_ROWS", 30)
    X = sp.csr_matrix(X) if sparse else X
    np.testing.assert_array_equal(embedded_columns(X, "auto"), [0, 1])
    monkeypatch.setattr(_embeddings, "AUTO_COUNT_ROWS", 100)  # every row: all counted
    np.testing.assert_array_equal(embedded_columns(X, "auto"), [0, 1, 2])
