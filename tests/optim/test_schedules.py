"""Learning-rate schedules: closed forms, validation, and their use inside an optimizer."""

import math

import numpy as np
import pytest
from sklearn.base import clone

from skadam import LinearRegression, LogisticRegression, MLPRegressor
from skadam.model_selection import BatchedGridSearchCV
from skadam.optim import (
    SGD,
    Adam,
    ConstantSchedule,
    CosineEpochSchedule,
    CosineLogSchedule,
    ExponentialDecaySchedule,
    InverseScalingSchedule,
    LearningRateSchedule,
    ReduceOnPlateauSchedule,
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


class _RecordedRates(Adam):
    """Adam that records the learning rate of every update, to check schedules in fits."""

    seen = []

    def _learning_rate_at(self, state):
        rate = super()._learning_rate_at(state)
        _RecordedRates.seen.append(rate)
        return rate


@pytest.mark.parametrize("schedule, formula", [
    (ExponentialDecaySchedule(0.1, decay_rate=0.5, decay_steps=2, unit="epoch"),
     lambda epoch: 0.1 * 0.5 ** (epoch / 2)),
    (ExponentialDecaySchedule(0.1, decay_rate=0.5, decay_steps=2, staircase=True,
                              unit="epoch"),
     lambda epoch: 0.1 * 0.5 ** (epoch // 2)),
    (InverseScalingSchedule(0.1, power_t=0.5, unit="epoch"),
     lambda epoch: 0.1 / (epoch + 1) ** 0.5),
], ids=["exponential", "staircase", "inverse scaling"])
def test_schedules_in_epochs_read_the_progress_whatever_the_data_size(schedule, formula):
    rng = np.random.default_rng(0)
    for n_rows in (200, 400):  # 4 and 8 updates per epoch: the same rate per epoch
        X = rng.normal(size=(n_rows, 3))
        _RecordedRates.seen = []
        LinearRegression(solver=_RecordedRates(learning_rate=clone(schedule)), batch_size=50,
                         max_iter=5, n_iter_no_change=5, tol=0, random_state=0).fit(
            X, X @ [1.0, -2.0, 0.5])
        n_batches = n_rows // 50
        epochs = np.arange(1, 5 * n_batches + 1) / n_batches
        np.testing.assert_allclose(_RecordedRates.seen, [formula(e) for e in epochs],
                                   rtol=1e-12)
    assert schedule.per_epoch and not clone(schedule).set_params(unit="step").per_epoch


def _plateaus_by_hand(monitored, patience, tol):
    """The number of reductions after each epoch, from the rule written out."""
    best, wait, reductions, after = -math.inf, 0, 0, []
    for value in monitored:
        if value > best + tol:
            best, wait = value, 0
        else:
            wait += 1
            if wait == patience:
                reductions, wait = reductions + 1, 0
        after.append(reductions)
    return after


@pytest.mark.parametrize("validating", [False, True], ids=["training loss", "validation"])
def test_reduce_on_plateau_follows_what_early_stopping_monitors(validating):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.5 * rng.normal(size=300)
    schedule = ReduceOnPlateauSchedule(initial_value=0.05, factor=0.5, patience=3)
    _RecordedRates.seen = []
    # One network: the rates an ensemble's members see are the same, member after member.
    model = MLPRegressor(hidden_layer_sizes=(8,), ensemble_size=1, numeric_embedding=None,
                         solver=_RecordedRates(learning_rate=schedule), batch_size=100,
                         early_stopping=validating, max_iter=40, n_iter_no_change=40,
                         tol=1e-3, random_state=0).fit(X, y)
    monitored = (model.validation_scores_ if validating
                 else [-loss for loss in model.loss_curve_])
    after = _plateaus_by_hand(monitored, patience=3, tol=1e-3)
    assert after[-1] >= 2  # the case is not trivial
    assert model.optimizer_state_.plateau_reductions == after[-1]
    # Every update of epoch k runs at the rate of the reductions after epoch k - 1.
    per_epoch = len(_RecordedRates.seen) // model.n_iter_
    expected = [0.05 * 0.5 ** reductions for reductions in [0, *after[:-1]]]
    np.testing.assert_allclose(_RecordedRates.seen, np.repeat(expected, per_epoch))


def test_reduce_on_plateau_goes_on_across_partial_fit_calls_and_warm_starts(binary):
    X, y = binary
    settings = dict(solver=Adam(learning_rate=ReduceOnPlateauSchedule(0.5, patience=1)),
                    tol=10.0, random_state=0)  # no call improves by 10: each is a plateau
    streamed = LogisticRegression(**settings)
    for _ in range(3):
        streamed.partial_fit(X, y, classes=[0, 1])
    assert streamed.optimizer_state_.plateau_reductions == 2  # the first call sets the best
    once = LogisticRegression(max_iter=4, n_iter_no_change=10, **settings).fit(X, y)
    twice = LogisticRegression(max_iter=2, n_iter_no_change=10, warm_start=True, **settings)
    twice.fit(X, y).fit(X, y)
    np.testing.assert_array_equal(twice.coef_, once.coef_)
    assert twice.optimizer_state_.plateau_reductions == once.optimizer_state_.plateau_reductions


def test_a_batched_search_over_plateau_schedules_equals_grid_search(binary):
    from sklearn.model_selection import GridSearchCV

    X, y = binary
    model = LogisticRegression(solver=Adam(learning_rate=ReduceOnPlateauSchedule(0.05)),
                               max_iter=30, tol=1e-3, random_state=0)
    grid = {"solver__learning_rate__factor": [0.1, 0.5],
            "solver__learning_rate__patience": [1, 3]}
    batched = BatchedGridSearchCV(model, grid, cv=2).fit(X, y)
    plain = GridSearchCV(model, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(batched.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])


class _HalvedAfterEveryWorseEpoch(LearningRateSchedule):
    """A schedule written against the protocol alone, with a state of its own: the rate
    halves after every epoch whose monitored value is below the previous epoch's."""

    def __init__(self, initial_value=0.1):
        self.initial_value = initial_value

    def value(self, n_halvings):
        return self.initial_value / 2**n_halvings

    def rate(self, state):
        return self.value(state.halvings)

    def state_defaults(self):
        return {"halvings": 0, "last_monitored": -math.inf}

    def end_epoch(self, state, monitored, tol):
        if monitored < state.last_monitored:
            state.halvings += 1
        state.last_monitored = monitored


def test_a_schedule_with_a_state_of_its_own_needs_nothing_but_the_protocol(binary):
    import pickle

    X, y = binary
    settings = dict(solver=_RecordedRates(learning_rate=_HalvedAfterEveryWorseEpoch(2.0)),
                    n_iter_no_change=20, tol=0, random_state=0)
    _RecordedRates.seen = []
    once = LogisticRegression(max_iter=12, **settings).fit(X, y)
    # The rule written out, from what the model monitored: its training objective.
    scores = [-loss for loss in once.loss_curve_]
    halvings = np.cumsum([0] + [later < earlier for earlier, later
                                in zip(scores[:-1], scores[1:], strict=True)])
    assert halvings[-1] >= 1  # the case is not trivial
    assert once.optimizer_state_.halvings == halvings[-1]
    per_epoch = len(_RecordedRates.seen) // once.n_iter_
    np.testing.assert_allclose(_RecordedRates.seen,
                               np.repeat(2.0 / 2.0 ** np.r_[0, halvings[:-1]], per_epoch))
    # Its state goes on across warm starts and through a pickle, like an optimizer's.
    twice = LogisticRegression(max_iter=6, warm_start=True, **settings).fit(X, y)
    twice = pickle.loads(pickle.dumps(twice)).fit(X, y)
    np.testing.assert_array_equal(twice.coef_, once.coef_)
    assert twice.optimizer_state_.halvings == once.optimizer_state_.halvings
