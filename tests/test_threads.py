"""Who gets the cores in a fit: BLAS's threads, single-threaded BLAS, parts of a stack."""

from contextlib import nullcontext

import numpy as np
import pytest
from sklearn.base import clone
from threadpoolctl import threadpool_info, threadpool_limits

from skadam import MLPClassifier, MLPRegressor, _model, _threads


def _blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


@pytest.fixture
def threads_seen(monkeypatch):
    """The BLAS thread counts in force during each forward pass of a fit."""
    seen = []
    forward = _model.Network.forward

    def spy(self, work, X, dropout=None):
        seen.append(frozenset(_blas_threads()))
        return forward(self, work, X, dropout)

    monkeypatch.setattr(_model.Network, "forward", spy)
    return seen


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.skipif(_threads.N_THREADS == 1, reason="one usable core: nothing to share")
def test_a_fit_of_small_products_runs_single_threaded_blas(binary, threads_seen):
    """The user's BLAS threads (here two) are set aside for the fit's small products,
    validation included, and given back after it."""
    X, y = binary
    with threadpool_limits(2, user_api="blas"):
        MLPClassifier(max_iter=3, random_state=0).fit(X, y)
        assert _blas_threads() == {2}
    assert threads_seen and set(threads_seen) == {frozenset({1})}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.skipif(_threads.N_THREADS == 1, reason="one usable core: nothing to share")
def test_large_products_keep_blas_threads_and_their_stack_one_thread(binary, threads_seen,
                                                                      monkeypatch):
    """From MIN_WORK_FOR_BLAS_THREADS on, the products run on the user's BLAS threads,
    and an ensemble's members train one after another on them, not in parts: each
    member makes the calls it would make alone, so the first one is the fit alone."""
    X, y = binary
    monkeypatch.setattr(_threads, "MIN_WORK_FOR_BLAS_THREADS", 1)
    monkeypatch.setattr(_threads, "MIN_WORK_PER_PART", 1)
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    with threadpool_limits(2, user_api="blas"):
        alone = clone(model).fit(X, y)
        ensemble = clone(model).set_params(ensemble_size=2).fit(X, y)
    assert set(threads_seen) == {frozenset({2})}
    np.testing.assert_array_equal(ensemble._params[0], alone._params[0])


def test_the_rule_reads_one_networks_work():
    """Parts only where each has MIN_WORK_PER_PART a step, at most one per core, and
    none where BLAS's threads take the cores."""
    rows = list(range(4))
    small = dict(blas_work=_threads.MIN_WORK_FOR_BLAS_THREADS - 1)
    per_part = _threads.MIN_WORK_PER_PART
    assert len(_threads.split_rows(rows, work_per_row=per_part // 2 - 1, **small)) == 1
    assert len(_threads.split_rows(rows, work_per_row=per_part // 2, **small)) == min(
        2, _threads.N_THREADS)
    parts = _threads.split_rows(rows, work_per_row=10**9, **small)
    assert len(parts) == min(4, _threads.N_THREADS)
    assert [row for part in parts for row in part] == rows
    large = dict(blas_work=_threads.MIN_WORK_FOR_BLAS_THREADS)
    assert _threads.split_rows(rows, work_per_row=10**9, **large) == [rows]


def _subnormal_count(arrays):
    tiny = np.finfo(np.float64).tiny
    return sum(int(np.sum((a != 0) & (np.abs(a) < tiny))) for a in arrays)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("flushed", [True, False])
def test_training_treats_subnormal_numbers_as_zero(flushed, monkeypatch):
    """Weights from a constant column move only by the L2 penalty, and Adam's moments of
    their gradients decay geometrically: kept, they end up subnormal (slow on x86);
    training flushes them to zero. The fit without flushing shows the case is real."""
    if not flushed:
        monkeypatch.setattr(_threads, "subnormals_flushed", nullcontext)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[:, 2] = 0
    model = MLPRegressor(
        (4,), alpha=0.1, batch_size=10, max_iter=800, tol=0, n_iter_no_change=10**6,
        early_stopping=False, numeric_embedding=None, weight_averaging=0, random_state=0,
    ).fit(X, X[:, 0] - X[:, 1])
    state = model._optimizer_states[0]
    count = _subnormal_count([*model._params, state.m, state.v])
    assert (count == 0) == flushed
    assert not _threads.flush_subnormals(), "the caller's mode is given back"


def test_pool_tasks_compute_in_their_submitters_mode():
    """A step's part on a worker thread flushes subnormal numbers exactly when the
    thread that submitted it does."""
    pool = _threads.thread_pool()
    if pool is None:
        pytest.skip("one usable core: no pool")
    tiny = np.array([1e-310])
    with _threads.subnormals_flushed():
        assert pool.submit(np.multiply, tiny, 1.0).result()[0] == 0
    assert pool.submit(np.multiply, tiny, 1.0).result()[0] == tiny[0]
