"""Configurations trained as one stack end exactly where each would end alone, bit for bit.

The reference is each estimator's own ``fit``, a stack of one; ``fit_together`` trains
the configurations as a stack of K in the same loop.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _interrupts import SigintAfter
from _states import buffers, step_counts
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor
from skadam._fit_together import fit_together
from skadam.optim import (
    SGD,
    Adam,
    AdamW,
    CosineEpochSchedule,
    ExponentialDecaySchedule,
    RMSprop,
)

ADAM_GRID = [
    {"solver": Adam(learning_rate=0.03, beta_1=0.5)},
    {"solver": Adam(learning_rate=0.01, beta_2=0.99), "alpha": 1e-3},
    {"solver": Adam(learning_rate=0.003, epsilon=1e-6), "alpha": 1e-2},
    {"solver": "adam"},
]


def _fit_both(base, grid, X, y, sample_weight=None):
    together = [clone(base).set_params(**parameters) for parameters in grid]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_together(together, X, y, sample_weight)
        alone = [clone(base).set_params(**parameters).fit(X, y, sample_weight=sample_weight)
                 for parameters in grid]
    return together, alone


def _assert_same_fit(together, alone):
    for stacked, single in zip(together, alone, strict=True):
        assert stacked.n_iter_ == single.n_iter_
        assert stacked.t_ == single.t_
        assert step_counts(stacked) == step_counts(single)
        assert stacked.loss_curve_ == single.loss_curve_
        assert stacked.validation_scores_ == single.validation_scores_
        np.testing.assert_array_equal(stacked._params, single._params)
        for mine, theirs in zip(buffers(stacked), buffers(single), strict=True):
            np.testing.assert_array_equal(mine, theirs)
        assert stacked.patience_exhausted_ == single.patience_exhausted_
        # A fitted model owns its buffers and carries on alone from where it stopped.
        assert stacked._params.base is None
        assert not any(np.shares_memory(buffer, other) for buffer in buffers(stacked)
                       for other in [model._params for model in together])
        assert stacked._random_state.get_state()[2] == single._random_state.get_state()[2]
        np.testing.assert_array_equal(stacked._random_state.get_state()[1],
                                      single._random_state.get_state()[1])


ESTIMATORS = [
    LogisticRegression(max_iter=15, random_state=0),
    MLPClassifier(hidden_layer_sizes=(12, 6), max_iter=8, random_state=0),
    LinearRegression(max_iter=15, random_state=0),
    MLPRegressor(hidden_layer_sizes=(10,), max_iter=8, random_state=0),
]


def _data(estimator, binary, regression, digits):
    if isinstance(estimator, LogisticRegression):
        X, y, _, _ = digits
        return X[:400], y[:400]
    if isinstance(estimator, MLPClassifier):
        return binary
    return regression


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_each_configuration_ends_as_alone(estimator, early_stopping, binary, regression,
                                          digits):
    X, y = _data(estimator, binary, regression, digits)
    base = clone(estimator).set_params(early_stopping=early_stopping, n_iter_no_change=3)
    _assert_same_fit(*_fit_both(base, ADAM_GRID, X, y))


def test_configurations_stop_at_different_epochs(binary):
    X, y = binary
    base = LogisticRegression(max_iter=200, tol=1e-3, n_iter_no_change=2,
                              early_stopping=True, random_state=0)
    together, alone = _fit_both(base, ADAM_GRID, X, y)
    _assert_same_fit(together, alone)
    assert len({model.n_iter_ for model in together}) > 1
    assert all(model.n_iter_ < 200 for model in together)


def test_sample_weights_sparse_and_float32(binary):
    X, y = binary
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=len(y))
    base = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    _assert_same_fit(*_fit_both(base, ADAM_GRID, X, y, weights))
    _assert_same_fit(*_fit_both(base, ADAM_GRID, sp.csr_matrix(X), y))
    together, alone = _fit_both(base, ADAM_GRID, X.astype(np.float32), y)
    assert together[0]._params.dtype == np.float32
    _assert_same_fit(together, alone)


@pytest.mark.parametrize("grid", [
    [{"solver": SGD(learning_rate=0.01, momentum=m, nesterov=n)}
     for m, n in [(0.5, False), (0.9, True)]],
    [{"solver": RMSprop(learning_rate=r)} for r in (0.01, 0.001)],
    [{"solver": AdamW(learning_rate=0.01, weight_decay=w)} for w in (0.0, 0.1, 0.01)],
    [{"solver": Adam(learning_rate=ExponentialDecaySchedule(0.05, decay_rate=r, decay_steps=10))}
     for r in (0.5, 0.9)],
    [{"solver": Adam(learning_rate=0.01, bias_correction=b)} for b in (True, False)],
    [{"solver": Adam(learning_rate=CosineEpochSchedule(0.02, n_epochs=4, warmup_epochs=w))}
     for w in (0.0, 1.5)],
], ids=["sgd-momentum", "rmsprop", "adamw", "schedule", "bias-correction", "epoch-schedule"])
def test_other_optimizers(grid, regression):
    X, y = regression
    base = MLPRegressor(hidden_layer_sizes=(6,), max_iter=4, random_state=0, alpha=1e-3)
    _assert_same_fit(*_fit_both(base, grid, X, y))


def test_multilabel_and_binary_outputs(binary):
    X, y = binary
    Y = np.column_stack([y, 1 - y, y])
    base = MLPClassifier(hidden_layer_sizes=(5,), max_iter=4, random_state=0)
    _assert_same_fit(*_fit_both(base, ADAM_GRID, X, Y))
    _assert_same_fit(*_fit_both(LogisticRegression(max_iter=5, random_state=0), ADAM_GRID,
                                X, y))


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_diverging_run_stops_alone_and_the_others_go_on(early_stopping, regression):
    X, y = regression
    grid = [{"solver": SGD(learning_rate=rate)} for rate in (1e-3, 1e9, 1e-2)]
    base = MLPRegressor(hidden_layer_sizes=(8,), batch_size=20, max_iter=6, random_state=0,
                        early_stopping=early_stopping, n_iter_no_change=20)
    together = [clone(base).set_params(**parameters) for parameters in grid]
    with pytest.warns(ConvergenceWarning, match="non-finite in epoch 1"):
        fit_together(together, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        alone = [clone(base).set_params(**parameters).fit(X, y) for parameters in grid]
    _assert_same_fit(together, alone)
    assert together[1].n_iter_ == 0
    assert all(t == 0 for t in step_counts(together[1]))
    assert together[0].n_iter_ == together[2].n_iter_ == 6


class _SignSGD(SGD):
    """An optimizer written against the one-buffer protocol only (``update``)."""

    def update(self, params, grad, state, learning_rate):
        params -= learning_rate * np.sign(grad)


def test_an_optimizer_with_only_a_one_buffer_step_trains_in_a_stack(binary):
    # The stack steps it row by row through its own update, each row as alone.
    X, y = binary
    grid = [{"solver": _SignSGD(learning_rate=rate)} for rate in (0.01, 0.003, 0.03)]
    base = MLPClassifier(hidden_layer_sizes=(6,), max_iter=4, random_state=0)
    _assert_same_fit(*_fit_both(base, grid, X, y))


def test_ctrl_c_leaves_every_run_of_a_stack_at_its_last_completed_step(binary):
    X, y = binary
    together = [LogisticRegression(solver=Adam(learning_rate=rate), max_iter=50,
                                   random_state=0) for rate in (0.1, 0.01, 0.001)]
    together[1].set_callbacks(SigintAfter(2))
    with pytest.raises(KeyboardInterrupt):
        fit_together(together, X, y)
    for model, rate in zip(together, (0.1, 0.01, 0.001), strict=True):
        assert model.n_iter_ == 2
        # Whole epochs only: each run stopped at the minibatch boundary after epoch 2.
        assert model.optimizer_state_.t == 2 * 2
        alone = LogisticRegression(solver=Adam(learning_rate=rate), max_iter=2,
                                   random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            alone.fit(X, y)
        np.testing.assert_array_equal(model._params, alone._params)
        assert model._params.base is None


@pytest.mark.parametrize("activation", ["leaky_relu", "selu"])
def test_label_smoothing_and_activations_in_a_stack(activation, digits, binary):
    X, y, _, _ = digits
    base = MLPClassifier(hidden_layer_sizes=(8,), activation=activation, max_iter=3,
                         label_smoothing=0.1, random_state=0)
    _assert_same_fit(*_fit_both(base, ADAM_GRID, X[:300], y[:300]))
    _assert_same_fit(*_fit_both(base, ADAM_GRID, *binary))


def test_dropout_in_a_stack(binary):
    # Each run draws its masks from its own stream: the same in a stack as alone.
    base = MLPClassifier(hidden_layer_sizes=(8, 4), dropout=0.2, max_iter=3, random_state=0)
    _assert_same_fit(*_fit_both(base, ADAM_GRID, *binary))
