"""K runs stepped together as rows equal the same runs stepped alone, bit for bit."""

import itertools

import numpy as np
import pytest
from matrix import OPTIMIZERS
from sklearn.base import clone

from skadam.optim import Adam, AdamW, ExponentialDecaySchedule
from skadam.optim._stacked import StackedStates, stacked_step

VARIANTS = [
    {"learning_rate": 0.05},
    {"learning_rate": 0.003},
    {"learning_rate": 0.02},
]
ADAM_VARIANTS = [
    {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99},
    {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-6},
    {"learning_rate": ExponentialDecaySchedule(0.05, decay_rate=0.5, decay_steps=10),
     "beta_1": 0.0, "beta_2": 0.9},
    {"learning_rate": 0.005, "beta_1": 0.95, "beta_2": 0.995, "epsilon": 0.0,
     "epsilon_root": 1e-4},
]


def _variants(optimizer):
    variants = ADAM_VARIANTS if isinstance(optimizer, Adam) else VARIANTS
    return [clone(optimizer).set_params(**params) for params in variants]


def _stack(optimizers, params):
    return StackedStates([opt.init_state(row) for opt, row in zip(optimizers, params,
                                                                   strict=True)])


def _run(optimizers, n_params=23, n_steps=40, dtype=np.float64, n_decayed=15):
    """Return (stacked params, alone params, stacked states, alone states)."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal(n_params).astype(dtype)
    gradients = rng.standard_normal((n_steps, len(optimizers), n_params)).astype(dtype)
    alone = [start.copy() for _ in optimizers]
    alone_states = [opt.init_state(p, n_decayed=n_decayed)
                    for opt, p in zip(optimizers, alone, strict=True)]
    stacked = np.tile(start, (len(optimizers), 1))
    states = StackedStates([opt.init_state(row, n_decayed=n_decayed)
                            for opt, row in zip(optimizers, stacked, strict=True)])
    for step in range(n_steps):
        # A gradient that depends on the parameters, as in training.
        for row, (opt, p, state) in enumerate(zip(optimizers, alone, alone_states, strict=True)):
            opt.step(p, gradients[step, row] + p, state)
        bad = stacked_step(optimizers, stacked, gradients[step] + stacked, states)
        assert bad.size == 0
    return stacked, alone, states, alone_states


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stacked_runs_equal_runs_alone(name, dtype):
    optimizers = _variants(OPTIMIZERS[name])
    stacked, alone, states, alone_states = _run(optimizers, dtype=dtype)
    for row, (p, state) in enumerate(zip(alone, alone_states, strict=True)):
        np.testing.assert_array_equal(stacked[row], p)
        for buffer in state.buffer_names:
            np.testing.assert_array_equal(getattr(states.states[row], buffer),
                                          getattr(state, buffer))
        assert states.states[row].t == state.t


def test_mixed_adam_kinds_fall_back_to_row_by_row():
    optimizers = [Adam(learning_rate=0.01), AdamW(learning_rate=0.01, weight_decay=0.1),
                  Adam(learning_rate=0.01, amsgrad=True)]
    optimizers[2].set_params(amsgrad=False)  # same buffers, to stack them
    stacked, alone, _, _ = _run(optimizers)
    np.testing.assert_array_equal(stacked, np.stack(alone))


def test_a_bad_gradient_changes_nothing_and_names_its_row():
    optimizers = _variants(Adam())
    params = np.zeros((len(optimizers), 4))
    states = _stack(optimizers, params)
    grad = np.ones_like(params)
    grad[1, 2] = np.nan
    assert stacked_step(optimizers, params, grad, states).tolist() == [1]
    assert not params.any() and not states.buffers["m"].any()
    assert all(state.t == 0 for state in states.states)


def test_select_keeps_rows_and_frees_the_others():
    optimizers = _variants(Adam())
    params = np.zeros((len(optimizers), 4))
    states = _stack(optimizers, params)
    states.buffers["m"][:] = np.arange(len(optimizers))[:, np.newaxis]
    dropped = states.states[1]
    kept = states.select([2, 0])
    np.testing.assert_array_equal(kept.buffers["m"][:, 0], [2, 0])
    kept.buffers["m"][:] = 7
    assert (dropped.m == 1).all()  # its own copy now, untouched by the stack
    assert (states.states[0].m == 7).all()


def test_stacked_rows_step_as_runs_alone_at_every_step_count():
    # Each row of the stack takes its step t with its own bias corrections (1 - beta**t),
    # t from 1 to 1000; a run alone takes the same step. The powers are where a vectorised
    # form could differ in the last bit (NumPy's AVX-512 power is not the C library's).
    n_steps = 1000
    rng = np.random.default_rng(0)
    for beta_1, beta_2 in itertools.product([0.8, 0.9, 0.95, 0.99], [0.95, 0.99, 0.999]):
        optimizer = AdamW(learning_rate=0.003, beta_1=beta_1, beta_2=beta_2,
                          epsilon_root=1e-9)
        start = rng.standard_normal((n_steps, 2))
        grad = rng.standard_normal((n_steps, 2))
        moments = rng.uniform(0.1, 1.0, size=(2, n_steps, 2))
        params = start.copy()
        states = [optimizer.init_state(row) for row in params]
        for t, state in enumerate(states):
            state.t = t  # stacked_step counts this step: row k takes step k + 1
            state.m[:], state.v[:] = moments[0, t], moments[1, t]
        assert stacked_step([optimizer] * n_steps, params, grad, StackedStates(states)).size == 0
        for t in range(n_steps):
            alone = start[t].copy()
            state = optimizer.init_state(alone)
            state.t = t
            state.m[:], state.v[:] = moments[0, t], moments[1, t]
            optimizer.step(alone, grad[t].copy(), state)
            np.testing.assert_array_equal(params[t], alone,
                                          err_msg=f"beta_1={beta_1}, beta_2={beta_2}, t={t + 1}")
