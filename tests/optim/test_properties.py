"""Invariants of the update rules, checked on generated gradients and hyperparameters."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skadam.optim import SGD, Adagrad, Adam, AdamW, ConstantSchedule

settings.register_profile("skadam", max_examples=60, deadline=None)
settings.load_profile("skadam")

betas = st.floats(0.0, 0.999)
learning_rates = st.floats(1e-5, 1.0)


def gradient_arrays(min_magnitude=0.0, max_magnitude=1e6, size=None):
    size = st.integers(1, 20) if size is None else size
    magnitudes = st.floats(min_magnitude, max_magnitude)
    signed = st.tuples(magnitudes, st.sampled_from([-1.0, 1.0])).map(lambda x: x[0] * x[1])
    return size.flatmap(lambda n: arrays(np.float64, n, elements=signed))


@given(grad=gradient_arrays(min_magnitude=1e-3), lr=learning_rates, b1=betas, b2=betas)
def test_first_bias_corrected_adam_step_is_learning_rate_against_gradient_sign(grad, lr, b1, b2):
    params = np.zeros_like(grad)
    optimizer = Adam(learning_rate=lr, beta_1=b1, beta_2=b2)
    optimizer.step(params, grad, optimizer.init_state(params))
    # m_hat = g and v_hat = g^2 after one step, so the move is lr * g / (|g| + eps).
    np.testing.assert_allclose(params, -lr * np.sign(grad), rtol=1e-5)


@given(grad=gradient_arrays(), lr=learning_rates, b1=betas, b2=betas)
def test_first_adam_step_never_exceeds_the_learning_rate(grad, lr, b1, b2):
    params = np.zeros_like(grad)
    optimizer = Adam(learning_rate=lr, beta_1=b1, beta_2=b2)
    optimizer.step(params, grad, optimizer.init_state(params))
    assert np.all(np.abs(params) <= lr * (1 + 1e-12))


@given(
    grad=gradient_arrays(min_magnitude=1e-12, max_magnitude=1e3),
    lr=learning_rates,
    b1=betas,
    b2=betas,
    epsilon=st.floats(0.0, 1e-4),
    epsilon_root=st.floats(1e-12, 1e-2),
)
def test_first_adam_step_with_epsilon_root_is_the_equation(grad, lr, b1, b2, epsilon,
                                                            epsilon_root):
    params = np.zeros_like(grad)
    optimizer = Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=epsilon,
                     epsilon_root=epsilon_root)
    optimizer.step(params, grad, optimizer.init_state(params))
    # m_hat = g and v_hat = g^2 after one step. The step folds the bias corrections into
    # its coefficients (epsilon_root into epsilon_root * (1 - beta_2)); this is unfolded.
    expected = -lr * grad / (np.sqrt(grad**2 + epsilon_root) + epsilon)
    np.testing.assert_allclose(params, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_epsilon_inside_the_root_by_hand(amsgrad):
    # A constant gradient g gives m_hat = g and v_hat = g^2 at every step, so every step
    # is lr * g / (sqrt(g^2 + epsilon_root) + epsilon). With g = 1e-4 and epsilon_root =
    # 1e-8 = g^2 that is lr / sqrt(2); epsilon = 1e-8 outside gives lr / 1.0001 instead.
    lr, g = 0.1, np.array([1e-4, -1e-4])
    inside = Adam(learning_rate=lr, epsilon=0.0, epsilon_root=1e-8, amsgrad=amsgrad)
    outside = Adam(learning_rate=lr, epsilon=1e-8, amsgrad=amsgrad)
    runs = [(optimizer, np.zeros(2)) for optimizer in (inside, outside)]
    states = [optimizer.init_state(params) for optimizer, params in runs]
    for t in range(1, 6):
        for (optimizer, params), state in zip(runs, states, strict=True):
            optimizer.step(params, g, state)
        np.testing.assert_allclose(runs[0][1], -t * lr / np.sqrt(2) * np.sign(g), rtol=1e-12)
        np.testing.assert_allclose(runs[1][1], -t * lr / 1.0001 * np.sign(g), rtol=1e-12)


def test_epsilon_inside_the_root_without_bias_correction_by_hand():
    # m = (1 - beta_1) g = 1e-4 and v = (1 - beta_2) g^2 = 1e-8 = epsilon_root, so the
    # step is lr * 1e-4 / sqrt(2e-8) = lr / sqrt(2).
    optimizer = Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.75, epsilon=0.0,
                     epsilon_root=1e-8, bias_correction=False)
    params = np.zeros(1)
    optimizer.step(params, np.array([2e-4]), optimizer.init_state(params))
    np.testing.assert_allclose(params, [-0.1 / np.sqrt(2)], rtol=1e-12)


@given(
    grads=st.integers(1, 8).flatmap(lambda n: gradient_arrays(1e-2, 1e2, st.just(12 * n))),
    scale=st.floats(1e-3, 1e3),
    amsgrad=st.booleans(),
)
def test_adam_without_epsilon_ignores_the_gradient_scale(grads, scale, amsgrad):
    # m scales with the gradient and sqrt(v) too, so their ratio does not; gradients are
    # kept away from zero because with epsilon = 0 a zero moment would divide 0 by 0.
    grads = grads.reshape(12, -1)
    trajectories = []
    for factor in (1.0, scale):
        params = np.zeros(grads.shape[1])
        optimizer = Adam(learning_rate=0.01, epsilon=0.0, amsgrad=amsgrad)
        state = optimizer.init_state(params)
        for grad in grads:
            optimizer.step(params, factor * grad, state)
        trajectories.append(params)
    np.testing.assert_allclose(trajectories[0], trajectories[1], rtol=1e-9, atol=1e-15)


@given(grads=arrays(np.float64, (15, 5), elements=st.floats(-10, 10)), b2=betas)
def test_amsgrad_maximum_is_monotone_and_bounds_v(grads, b2):
    params = np.zeros(5)
    optimizer = Adam(beta_2=b2, amsgrad=True)
    state = optimizer.init_state(params)
    previous = state.v_max.copy()
    for grad in grads:
        optimizer.step(params, grad, state)
        assert np.all(state.v_max >= previous)
        assert np.all(state.v_max >= state.v)
        previous = state.v_max.copy()


@given(grad=gradient_arrays(max_magnitude=1e3), lr=learning_rates)
def test_plain_sgd_step_is_minus_learning_rate_times_gradient(grad, lr):
    params = np.ones_like(grad)
    optimizer = SGD(learning_rate=lr)
    optimizer.step(params, grad, optimizer.init_state(params))
    np.testing.assert_allclose(params, 1.0 - lr * grad, rtol=1e-12, atol=1e-12)


@given(grads=arrays(np.float64, (10, 4), elements=st.floats(-1e3, 1e3)))
def test_adagrad_accumulates_the_sum_of_squared_gradients(grads):
    params = np.zeros(4)
    optimizer = Adagrad()
    state = optimizer.init_state(params)
    for grad in grads:
        optimizer.step(params, grad, state)
    np.testing.assert_allclose(state.sum_squares, (grads**2).sum(axis=0), rtol=1e-12)


@given(
    lr=st.floats(1e-4, 0.5),
    weight_decay=st.floats(0.0, 1.0),
    n_steps=st.integers(1, 30),
    n_decayed=st.integers(0, 5),
)
def test_adamw_with_zero_gradient_only_decays_the_leading_entries(
    lr, weight_decay, n_steps, n_decayed
):
    params = np.full(5, 3.0)
    optimizer = AdamW(learning_rate=lr, weight_decay=weight_decay)
    state = optimizer.init_state(params, n_decayed=n_decayed)
    for _ in range(n_steps):
        optimizer.step(params, np.zeros(5), state)
    expected = np.full(5, 3.0)
    expected[:n_decayed] *= (1 - lr * weight_decay) ** n_steps
    np.testing.assert_allclose(params, expected, rtol=1e-12)


@given(grads=arrays(np.float64, (10, 3), elements=st.floats(-5, 5)), lr=learning_rates)
def test_adamw_without_decay_is_adam_and_constant_schedule_is_a_float(grads, lr):
    results = []
    for optimizer in (
        Adam(learning_rate=lr),
        AdamW(learning_rate=lr, weight_decay=0.0),
        Adam(learning_rate=ConstantSchedule(lr)),
    ):
        params = np.ones(3)
        state = optimizer.init_state(params)
        for grad in grads:
            optimizer.step(params, grad, state)
        results.append(params)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
