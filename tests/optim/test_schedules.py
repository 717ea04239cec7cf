"""Learning-rate schedules: closed forms, validation, and their use inside an optimizer."""

import math

import numpy as np
import pytest
from sklearn.base import clone

from skadam import LinearRegression
from skadam.optim import (
    SGD,
    Adam,
    ConstantSchedule,
    CosineEpochSchedule,
    CosineLogSchedule,
    ExponentialDecaySchedule,
    InverseScalingSchedule,
    WarmupCosineSchedule,
)

STEPS = np.arange(0, 3_000, 7)


def test_inverse_scaling_matches_its_formula():
    schedule = InverseScalingSchedule(initial_value=0.2, power_t=0.25)
    for step in STEPS:
        assert schedule.value(step) == pytest.approx(0.2 / (step + 1) ** 0.25, rel=1e-14)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_matches_its_formula(staircase):
    schedule = ExponentialDecaySchedule(0.1, decay_rate=0.9, decay_steps=100, staircase=staircase)
    for step in STEPS:
        exponent = math.floor(step / 100) if staircase else step / 100
        assert schedule.value(step) == pytest.approx(0.1 * 0.9**exponent, rel=1e-14)


def test_warmup_cosine_rises_linearly_then_decays_to_end_value():
    schedule = WarmupCosineSchedule(peak_value=0.01, warmup_steps=100, decay_steps=1000,
                                    end_value=1e-4)
    values = np.array([schedule.value(step) for step in range(1_200)])
    np.testing.assert_allclose(values[:100], 0.01 * np.arange(1, 101) / 100, rtol=1e-14)
    assert np.all(np.diff(values[100:1100]) < 0)
    assert values[100] == pytest.approx(0.01)
    assert values[600] == pytest.approx((0.01 + 1e-4) / 2)
    np.testing.assert_allclose(values[1100:], 1e-4, rtol=1e-14)


def test_warmup_cosine_without_warmup_starts_at_the_peak():
    assert WarmupCosineSchedule(peak_value=0.5, decay_steps=10).value(0) == 0.5


@pytest.mark.parametrize(
    "schedule, name",
    [
        (ConstantSchedule(0.0), "learning_rate"),
        (InverseScalingSchedule(power_t=-1.0), "power_t"),
        (ExponentialDecaySchedule(decay_steps=0), "decay_steps"),
        (ExponentialDecaySchedule(decay_rate=1.5), "decay_rate"),
        (WarmupCosineSchedule(warmup_steps=-1), "warmup_steps"),
        (WarmupCosineSchedule(end_value=-1.0), "end_value"),
    ],
)
def test_invalid_schedule_parameters_are_refused_when_training_starts(schedule, name):
    with pytest.raises(ValueError, match=name):
        Adam(learning_rate=schedule).init_state(np.zeros(2))


def test_optimizer_reads_the_schedule_from_step_zero():
    # Plain SGD moves by exactly learning_rate * grad, which exposes the rate of each step.
    schedule = ExponentialDecaySchedule(1.0, decay_rate=0.5, decay_steps=1)
    optimizer = SGD(learning_rate=schedule)
    params = np.zeros(1)
    state = optimizer.init_state(params)
    moves = []
    for _ in range(4):
        before = params[0]
        optimizer.step(params, np.ones(1), state)
        moves.append(before - params[0])
    assert moves == [1.0, 0.5, 0.25, 0.125]


def test_schedule_parameters_are_tunable_through_the_optimizer():
    optimizer = Adam(learning_rate=WarmupCosineSchedule())
    tuned = clone(optimizer).set_params(learning_rate__peak_value=0.05,
                                        learning_rate__warmup_steps=10)
    assert tuned.learning_rate.peak_value == 0.05
    assert optimizer.learning_rate.peak_value == 0.001
    assert "learning_rate__warmup_steps" in tuned.get_params()


def test_cosine_epoch_schedule_by_hand():
    schedule = CosineEpochSchedule(peak_value=1.0, n_epochs=10, warmup_epochs=2,
                                   flat_epochs=2, end_value=0.1)
    expected = {0.5: 0.25, 2: 1.0, 3.5: 1.0, 4: 1.0, 7: 0.1 + 0.9 * 0.5, 10: 0.1, 20: 0.1}
    for epoch, value in expected.items():
        assert schedule.value(epoch) == pytest.approx(value, rel=1e-12), epoch


class _RecordedEpochs(CosineEpochSchedule):
    """A schedule in epochs that records the progress it is asked about."""

    seen = []

    def value(self, epoch):
        _RecordedEpochs.seen.append(epoch)
        return super().value(epoch)


def test_estimators_hand_epoch_schedules_the_progress_of_each_update():
    # 300 rows in batches of 100: three updates per epoch, each reading the progress it
    # completes; partial_fit calls count as epochs.
    X = np.random.default_rng(0).normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5]
    _RecordedEpochs.seen = []
    LinearRegression(solver=Adam(learning_rate=_RecordedEpochs(0.01, n_epochs=2)),
                     batch_size=100, max_iter=2, shuffle=False).fit(X, y)
    np.testing.assert_allclose(_RecordedEpochs.seen, [1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    _RecordedEpochs.seen = []
    model = LinearRegression(solver=Adam(learning_rate=_RecordedEpochs(0.01, n_epochs=2)),
                             batch_size=50)
    for chunk in (X[:100], X[100:200]):
        model.partial_fit(chunk, chunk @ [1.0, -2.0, 0.5])
    np.testing.assert_allclose(_RecordedEpochs.seen, [0.5, 1, 1.5, 2])


def test_cosine_log_schedule_by_hand():
    # 0.5 (1 - cos(2 pi log2(1 + 15 t))): zero where 1 + 15 t is a power of two, the
    # peak halfway in log2 between them.
    schedule = CosineLogSchedule(peak_value=0.2, n_epochs=30, n_cycles=4)
    for epoch in (0, 2, 6, 14, 30, 45):
        assert schedule.value(epoch) == pytest.approx(0.0, abs=1e-15), epoch
    for cycle in range(4):
        epoch = 2 * (2 ** (cycle + 0.5) - 1)
        assert schedule.value(epoch) == pytest.approx(0.2, rel=1e-12), epoch
    t = 0.3
    assert schedule.value(30 * t) == pytest.approx(
        0.2 * 0.5 * (1 - np.cos(2 * np.pi * np.log2(1 + 15 * t))), rel=1e-12)
