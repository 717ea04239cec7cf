"""The optimizer protocol: validation, state handling, pickling, dtype and allocation."""

import copy
import pickle
import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone

from skadam.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    ConstantSchedule,
    ExponentialDecaySchedule,
    Optimizer,
    RMSprop,
)
from skadam.optim._chunks import CHUNK_SIZE, PARALLEL_MIN_SIZE


def _gradients(n_params, n_steps, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 2, n_params)
    return (rng.standard_normal((n_steps, n_params)) * scales).astype(dtype)


def _run(optimizer, params, grads, **init_kwargs):
    state = optimizer.init_state(params, **init_kwargs)
    for grad in grads:
        optimizer.step(params, grad, state)
    return params, state


@pytest.mark.parametrize(
    "optimizer, name, expected_range",
    [
        (Adam(beta_1=1.0), "beta_1", "[0.0, 1.0)"),
        (Adam(beta_1=-0.1), "beta_1", "[0.0, 1.0)"),
        (Adam(beta_2=1.5), "beta_2", "[0.0, 1.0)"),
        (Adam(learning_rate=0.0), "learning_rate", "(0.0, inf)"),
        (Adam(learning_rate=-1e-3), "learning_rate", "(0.0, inf)"),
        (Adam(epsilon=-1e-8), "epsilon", "[0.0, inf)"),
        (Adam(epsilon_root=-1e-8), "epsilon_root", "[0.0, inf)"),
        (AdamW(epsilon_root="tiny"), "epsilon_root", "[0.0, inf)"),
        (Adam(amsgrad="yes"), "amsgrad", "bool"),
        (AdamW(weight_decay=-0.1), "weight_decay", "[0.0, inf)"),
        (SGD(momentum=1.0), "momentum", "[0.0, 1.0)"),
        (SGD(learning_rate=-1.0), "learning_rate", "(0.0, inf)"),
        (RMSprop(rho=1.0), "rho", "[0.0, 1.0)"),
        (RMSprop(momentum=-0.5), "momentum", "[0.0, 1.0)"),
        (Adagrad(epsilon=-1.0), "epsilon", "[0.0, inf)"),
        (Adam(learning_rate=ExponentialDecaySchedule(decay_rate=0.0)), "decay_rate", "(0.0, 1.0]"),
        (Adam(learning_rate="fast"), "learning_rate", "value"),
    ],
)
def test_invalid_hyperparameters_name_the_parameter_and_range(optimizer, name, expected_range):
    # Constructing never raised: sklearn's rule is that __init__ validates nothing.
    with pytest.raises(ValueError, match=name) as error:
        optimizer.init_state(np.zeros(3))
    assert expected_range in str(error.value)


def test_nesterov_without_momentum_is_refused():
    with pytest.raises(ValueError, match="nesterov=True.*momentum > 0"):
        SGD(nesterov=True).init_state(np.zeros(3))


def test_init_stores_arguments_untouched():
    schedule = ConstantSchedule(0.1)
    optimizer = AdamW(learning_rate=schedule, beta_1=7, weight_decay="x")
    params = optimizer.get_params(deep=False)
    assert params["learning_rate"] is schedule
    assert params["beta_1"] == 7 and params["weight_decay"] == "x"
    assert optimizer.get_params()["learning_rate__learning_rate"] == 0.1


def test_step_never_writes_to_the_optimizer(optimizer):
    before = pickle.dumps(optimizer)
    _run(optimizer, np.ones(5), _gradients(5, 3))
    assert pickle.dumps(optimizer) == before


@pytest.mark.parametrize(
    "bad_grad, message",
    [
        (np.ones(4), "shape"),
        (np.ones((5, 1)), "shape"),
        ([1.0] * 5, "shape"),
        (np.array([1.0, np.nan, 0.0, 0.0, 0.0]), "NaN or infinite"),
        (np.array([1.0, np.inf, 0.0, 0.0, 0.0]), "NaN or infinite"),
        (np.array([np.inf, -np.inf, 0.0, 0.0, 0.0]), "NaN or infinite"),
    ],
)
def test_bad_gradient_raises_and_changes_nothing(optimizer, bad_grad, message):
    params, state = _run(optimizer, np.linspace(-1, 1, 5), _gradients(5, 3))
    params_before, state_before = params.copy(), copy.deepcopy(state)
    with pytest.raises(ValueError, match=message):
        optimizer.step(params, bad_grad, state)
    np.testing.assert_array_equal(params, params_before)
    assert state.t == state_before.t
    for name in state.buffer_names:
        np.testing.assert_array_equal(getattr(state, name), getattr(state_before, name))


def test_huge_but_finite_gradient_is_accepted():
    # The sum of these overflows to inf although every entry is finite.
    params = np.zeros(4)
    optimizer = SGD(learning_rate=1e-10)
    state = optimizer.init_state(params)
    optimizer.step(params, np.full(4, 1e308), state)
    np.testing.assert_allclose(params, -1e298)


def test_state_of_another_buffer_is_refused():
    optimizer = Adam()
    state = optimizer.init_state(np.zeros(3))
    with pytest.raises(ValueError, match="init_state"):
        optimizer.step(np.zeros(4), np.zeros(4), state)


@pytest.mark.parametrize(
    "params, message",
    [(np.zeros((2, 2)), "1-D"), ([0.0, 1.0], "1-D"), (np.zeros(3, dtype=int), "floating")],
)
def test_init_state_rejects_non_flat_or_integer_params(params, message):
    with pytest.raises(ValueError, match=message):
        Adam().init_state(params)


def test_init_state_rejects_out_of_range_n_decayed():
    with pytest.raises(ValueError, match="n_decayed"):
        AdamW().init_state(np.zeros(3), n_decayed=4)


def test_optimizers_and_states_survive_pickle(optimizer):
    grads = _gradients(6, 20, seed=1)
    params, state = _run(optimizer, np.linspace(-1, 1, 6), grads[:10])
    restored_optimizer = pickle.loads(pickle.dumps(optimizer))
    restored_params = params.copy()
    restored_state = pickle.loads(pickle.dumps(state))
    assert restored_optimizer.get_params() == optimizer.get_params()
    for grad in grads[10:]:
        optimizer.step(params, grad, state)
        restored_optimizer.step(restored_params, grad, restored_state)
    np.testing.assert_array_equal(restored_params, params)
    assert restored_state.t == state.t == 20


def test_clone_and_deepcopy_give_independent_equal_runs(optimizer):
    grads = _gradients(6, 10, seed=2)
    reference, _ = _run(optimizer, np.ones(6), grads)
    for copy_ in (clone(optimizer), copy.deepcopy(optimizer)):
        np.testing.assert_array_equal(_run(copy_, np.ones(6), grads)[0], reference)


def test_one_optimizer_serves_two_runs_independently(optimizer):
    grads_a, grads_b = _gradients(4, 8, seed=3), _gradients(4, 8, seed=4)
    alone_a, _ = _run(clone(optimizer), np.ones(4), grads_a)
    alone_b, _ = _run(clone(optimizer), np.ones(4), grads_b)
    params_a, params_b = np.ones(4), np.ones(4)
    state_a, state_b = optimizer.init_state(params_a), optimizer.init_state(params_b)
    for grad_a, grad_b in zip(grads_a, grads_b, strict=True):
        optimizer.step(params_a, grad_a, state_a)
        optimizer.step(params_b, grad_b, state_b)
    np.testing.assert_array_equal(params_a, alone_a)
    np.testing.assert_array_equal(params_b, alone_b)


def test_float32_stays_float32_and_tracks_float64(optimizer):
    grads = _gradients(8, 50, seed=5)
    params64, _ = _run(clone(optimizer), np.linspace(-1, 1, 8), grads)
    params32, state32 = _run(
        optimizer, np.linspace(-1, 1, 8, dtype=np.float32), grads.astype(np.float32)
    )
    assert params32.dtype == np.float32
    assert all(getattr(state32, name).dtype == np.float32 for name in state32.buffer_names)
    np.testing.assert_allclose(params32, params64, rtol=1e-4, atol=1e-5)


def _peak_allocation_of_steps(optimizer, params, grads):
    state = optimizer.init_state(params)
    optimizer.step(params, grads[0], state)  # warm any lazily built numpy internals
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        for grad in grads[1:]:
            optimizer.step(params, grad, state)
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("n_params", [1_000, 3 * CHUNK_SIZE + 123])
def test_steps_allocate_no_arrays(optimizer, n_params):
    grads = _gradients(n_params, 4, seed=6)
    peak = _peak_allocation_of_steps(optimizer, np.zeros(n_params), grads)
    # A temporary array of one chunk would take 8 kB here, 512 kB for the large buffer:
    # allow only the Python objects of the calls (and of handing chunks to threads).
    assert peak < (4_000 if n_params < PARALLEL_MIN_SIZE else 16_000), f"{peak} bytes"


def test_allocation_measurement_sees_temporaries():
    class Wasteful(Optimizer):
        def update(self, params, grad, state, learning_rate):
            params -= learning_rate * grad  # a temporary the size of the buffer

    peak = _peak_allocation_of_steps(Wasteful(), np.zeros(1_000), _gradients(1_000, 3))
    assert peak >= 8_000


def test_chunked_buffer_equals_separate_runs_per_chunk():
    # A buffer longer than a chunk is walked in cache-sized slices; the result must be
    # bit for bit that of running each slice as a buffer of its own, weight decay and its
    # boundary between two chunks included.
    n_params = 2 * CHUNK_SIZE + 17
    n_decayed = CHUNK_SIZE + 5
    grads = _gradients(n_params, 5, seed=7)
    optimizer = AdamW(weight_decay=0.5, learning_rate=0.01, amsgrad=True)
    whole, _ = _run(optimizer, np.ones(n_params), grads, n_decayed=n_decayed)
    for start in range(0, n_params, CHUNK_SIZE):
        stop = min(start + CHUNK_SIZE, n_params)
        part, _ = _run(
            optimizer,
            np.ones(stop - start),
            grads[:, start:stop],
            n_decayed=min(max(n_decayed - start, 0), stop - start),
        )
        np.testing.assert_array_equal(whole[start:stop], part)


def test_user_optimizer_subclass_works_with_the_protocol():
    class SignSGD(Optimizer):
        def __init__(self, learning_rate=0.1):
            self.learning_rate = learning_rate

        def buffer_names(self):
            return ("last_sign",)

        def update(self, params, grad, state, learning_rate):
            np.sign(grad, out=state.last_sign)
            params -= learning_rate * state.last_sign

    optimizer = SignSGD(learning_rate=ExponentialDecaySchedule(1.0, 0.5, decay_steps=1))
    params = np.zeros(2)
    state = optimizer.init_state(params)
    for _ in range(3):
        optimizer.step(params, np.array([2.0, -0.1]), state)
    np.testing.assert_array_equal(params, [-1.75, 1.75])
    np.testing.assert_array_equal(state.last_sign, [1.0, -1.0])
    assert clone(optimizer).get_params()["learning_rate__decay_rate"] == 0.5
    with pytest.raises(ValueError, match="learning_rate"):
        SignSGD(learning_rate=-1).init_state(params)


def test_optimizer_without_update_says_what_to_implement():
    class Incomplete(Optimizer):
        pass

    state = Incomplete().init_state(np.zeros(1))
    with pytest.raises(NotImplementedError, match="update"):
        Incomplete().step(np.zeros(1), np.zeros(1), state)
