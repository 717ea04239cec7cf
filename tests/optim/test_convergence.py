"""Convergence matrix: every optimizer configuration on three problems with known optima."""

import numpy as np
import pytest
from matrix import OPTIMIZERS
from problems import Logistic, Quadratic, Rosenbrock
from sklearn.base import clone

PROBLEMS = {"quadratic": Quadratic(), "rosenbrock": Rosenbrock(), "logistic": Logistic()}
STEPS = {"quadratic": 2_000, "rosenbrock": 5_000, "logistic": 1_000}
# Largest allowed gap to the optimum after STEPS; the starting gaps are about 260, 24 and 0.6.
TOLERANCE = {"quadratic": 1e-5, "rosenbrock": 1e-2, "logistic": 1e-5}
# Decoupled weight decay pulls the fixed point of AdamW away from the loss's minimum.
ADAMW_TOLERANCE = {"quadratic": 1e-3, "rosenbrock": 1e-2, "logistic": 1e-5}

# A learning rate per problem and optimizer, chosen well inside the range that converges
# (constant-step RMSprop and plain SGD need small steps on the ill-conditioned problems).
LEARNING_RATES = {
    "quadratic": {
        "adam": 0.03, "adam_amsgrad": 0.1, "adam_no_bias_correction": 0.03, "adamw": 0.3,
        "adamw_amsgrad": 0.1, "adam_epsilon_root": 0.03, "adamw_amsgrad_epsilon_root": 0.1,
        "sgd": 0.01, "sgd_momentum": 0.003, "sgd_nesterov": 0.003,
        "rmsprop": 0.01, "rmsprop_momentum": 0.0003, "adagrad": 0.3,
    },
    "rosenbrock": {
        "adam": 0.03, "adam_amsgrad": 0.1, "adam_no_bias_correction": 0.03, "adamw": 0.03,
        "adamw_amsgrad": 0.1, "adam_epsilon_root": 0.03, "adamw_amsgrad_epsilon_root": 0.1,
        "sgd": 0.001, "sgd_momentum": 0.001, "sgd_nesterov": 0.001,
        "rmsprop": 0.001, "rmsprop_momentum": 0.0003, "adagrad": 0.3,
    },
    "logistic": {
        "adam": 0.03, "adam_amsgrad": 0.1, "adam_no_bias_correction": 0.03, "adamw": 0.1,
        "adamw_amsgrad": 0.1, "adam_epsilon_root": 0.03, "adamw_amsgrad_epsilon_root": 0.1,
        "sgd": 1.0, "sgd_momentum": 0.1, "sgd_nesterov": 0.1,
        "rmsprop": 0.001, "rmsprop_momentum": 0.0001, "adagrad": 0.3,
    },
}


@pytest.mark.parametrize("problem_name", list(PROBLEMS))
@pytest.mark.parametrize("optimizer_name", list(OPTIMIZERS))
def test_optimizer_reaches_the_optimum(optimizer_name, problem_name):
    problem = PROBLEMS[problem_name]
    learning_rate = LEARNING_RATES[problem_name][optimizer_name]
    optimizer = clone(OPTIMIZERS[optimizer_name]).set_params(learning_rate=learning_rate)
    params = problem.start.copy()
    state = optimizer.init_state(params)
    start_gap = problem.loss_and_grad(params)[0] - problem.optimum
    for _ in range(STEPS[problem_name]):
        optimizer.step(params, problem.loss_and_grad(params)[1], state)
    gap = problem.loss_and_grad(params)[0] - problem.optimum
    tolerance = (ADAMW_TOLERANCE if optimizer_name.startswith("adamw") else TOLERANCE)[
        problem_name
    ]
    assert gap < tolerance, f"gap {gap:.3g} after {state.t} steps (from {start_gap:.3g})"


def test_logistic_reference_optimum_is_a_stationary_point():
    problem = PROBLEMS["logistic"]
    assert np.linalg.norm(problem.loss_and_grad(problem.solution)[1]) < 1e-6
