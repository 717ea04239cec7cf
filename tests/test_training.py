"""The shared training loop: continuity of warm_start and partial_fit, early stopping,
divergence, and the batch-size independence of the objective."""

import re
import warnings

import numpy as np
import pytest
from _states import optimizer_states
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

from skadam import (
    LinearRegression,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    neural_network,
)
from skadam.optim import SGD, Adam, ExponentialDecaySchedule

CLASSIFIERS = [LogisticRegression(tol=0), MLPClassifier(hidden_layer_sizes=(16,), tol=0)]
REGRESSORS = [LinearRegression(tol=0), MLPRegressor(hidden_layer_sizes=(16,), tol=0)]


def _data_for(estimator, digits, regression):
    if is_classifier(estimator):
        X, y, _, _ = digits
        return X[:500], y[:500], {"classes": np.arange(10)}
    X, Y = regression
    return X, Y, {}


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("estimator", CLASSIFIERS + REGRESSORS, ids=lambda e: type(e).__name__)
def test_warm_start_and_partial_fit_continue_the_same_trajectory(
    estimator, shuffle, digits, regression
):
    # The optimizer state, the step count and the random stream all carry over, so
    # 10 epochs in one fit, in two warm-started fits of 5, or in 10 partial_fit calls
    # give the same model bit for bit (sklearn resets Adam's moments here). A stream
    # starts its classifiers from even odds rather than from the first chunk's class
    # shares, so a classifier's stream is held against a first partial_fit call
    # followed by a warm-started fit of the other 9 epochs.
    X, y, classes = _data_for(estimator, digits, regression)
    # Without early stopping, whose every fit ends at its own best epoch, and with one
    # penalty for fit and partial_fit (the regressor's "auto" starts a stream at 1e-3).
    settings = dict(shuffle=shuffle, random_state=0, batch_size=64, early_stopping=False,
                    alpha=1e-3)
    once = clone(estimator).set_params(max_iter=10, **settings).fit(X, y)
    twice = clone(estimator).set_params(max_iter=5, warm_start=True, **settings)
    twice.fit(X, y).fit(X, y)
    streamed = clone(estimator).set_params(**settings)
    for _ in range(10):
        streamed.partial_fit(X, y, **classes)
    resumed = once
    if is_classifier(estimator):
        resumed = clone(estimator).set_params(**settings).partial_fit(X, y, **classes)
        resumed.set_params(max_iter=9, warm_start=True).fit(X, y)
    for model, reference in ((twice, once), (streamed, resumed)):
        np.testing.assert_array_equal(model._params, reference._params)
        if reference._trained_params is not None:  # an MLP's average and what it averages
            np.testing.assert_array_equal(model._trained_params, reference._trained_params)
        for mine, theirs in zip(optimizer_states(model), optimizer_states(reference),
                                strict=True):
            np.testing.assert_array_equal(mine.m, theirs.m)
            assert mine.t == theirs.t == 10 * -(-len(y) // 64)
        assert model.n_iter_ == 10 and model.loss_curve_ == reference.loss_curve_
        assert model.t_ == 10 * X.shape[0]


def test_warm_start_keeps_adam_moments_unlike_a_fresh_fit(digits):
    X, y, _, _ = digits
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, warm_start=True,
                          random_state=0).fit(X, y)
    moments = model.optimizer_state_.v.copy()
    model.fit(X, y)
    n_training = len(y) - len(y) // 10  # early_stopping='auto' holds out a tenth
    assert model.optimizer_state_.t == 6 * -(-n_training // 64)  # 'auto': 64-row batches
    assert not np.array_equal(model.optimizer_state_.v, moments)
    # Every weight has had a gradient (the penalty's, at least); the scales of the
    # pixels that are blank in every image have not, and their moments stay zero.
    blank = np.flatnonzero(np.ptp(X, axis=0) == 0)
    layout = model._layout
    scales = layout.adapter_start + layout.layer_sizes[0] - X.shape[1] + np.arange(X.shape[1])
    v = model.optimizer_state_.v
    assert np.all(v[:layout.n_weights] > 0)
    assert np.all(v[scales[blank]] == 0) and np.all(np.delete(v[scales], blank) > 0)


def test_warm_start_with_a_new_learning_rate_keeps_the_moments(digits):
    X, y, _, _ = digits
    model = LogisticRegression(solver=Adam(learning_rate=0.01), max_iter=3, warm_start=True,
                               random_state=0).fit(X, y)
    t_before = model.optimizer_state_.t
    model.set_params(solver__learning_rate=0.001).fit(X, y)
    assert model.optimizer_.learning_rate == 0.001
    assert model.optimizer_state_.t == 2 * t_before


def test_warm_start_refuses_a_changed_architecture(digits):
    X, y, _, _ = digits
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, warm_start=True,
                          numeric_embedding=None).fit(X, y)
    with pytest.raises(ValueError, match="warm_start=False"):
        model.set_params(hidden_layer_sizes=(9,)).fit(X, y)
    assert model.coefs_[0].shape == (64, 8)
    with pytest.raises(ValueError, match="warm_start=False"):
        model.set_params(hidden_layer_sizes=(8,), numeric_embedding="periodic").fit(X, y)
    assert model.coefs_[0].shape == (64, 8)


def _stopped_epoch(model):
    scores = np.asarray(model.validation_scores_)
    best = 0
    for epoch in range(1, len(scores)):
        if scores[epoch] > scores[best] + model.tol:
            best = epoch
    return best


@pytest.mark.parametrize("scoring", ["loss", "accuracy"])
def test_early_stopping_stops_after_exactly_n_epochs_and_restores_the_best(digits, scoring):
    X, y, _, _ = digits
    model = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3,
                          tol=0.0, max_iter=500, scoring=scoring, random_state=0,
                          solver=Adam(learning_rate=0.01)).fit(X, y)
    assert model.patience_exhausted_
    assert model.n_iter_ < 500
    # Exactly n_iter_no_change epochs after the last improvement, not one more.
    assert model.n_iter_ == _stopped_epoch(model) + 1 + 3
    assert model.best_validation_score_ == max(model.validation_scores_)
    np.testing.assert_array_equal(model._params, model._best_params)


def test_early_stopping_on_an_explicit_validation_set(digits):
    X, y, X_test, y_test = digits
    model = LogisticRegression(early_stopping=True, n_iter_no_change=2, scoring="accuracy",
                               random_state=0, max_iter=200)
    model.fit(X, y, X_val=X_test, y_val=y_test)
    assert model.best_validation_score_ == pytest.approx(model.score(X_test, y_test))
    # All of X trained: no fraction was held out.
    assert model.t_ == model.n_iter_ * X.shape[0]


def test_validation_split_honours_sample_weights_and_stratifies(binary):
    X, y = binary
    weights = np.where(y == 1, 3.0, 1.0)
    model = LogisticRegression(early_stopping=True, validation_fraction=0.2, max_iter=3,
                               random_state=0).fit(X, y, sample_weight=weights)
    assert model.t_ == 3 * 240  # 20% of 300 held out
    weighted = LogisticRegression(early_stopping=True, validation_fraction=0.2, max_iter=3,
                                  random_state=0).fit(X, y)
    assert model.validation_scores_ != weighted.validation_scores_


def test_training_loss_convergence_stops_after_n_epochs_without_progress(binary):
    X, y = binary
    model = LogisticRegression(tol=1e-3, n_iter_no_change=4, random_state=0).fit(X, y)
    losses = np.asarray(model.loss_curve_)
    assert model.patience_exhausted_ and model.n_iter_ < model.max_iter
    best_before = np.minimum.accumulate(losses)
    progress = losses[1:] < best_before[:-1] - 1e-3
    # The last 4 epochs made no progress, and the one before them did (or was the first).
    assert not progress[-4:].any()
    assert len(losses) == 5 or progress[-5]


def test_streaming_partial_fit_with_validation_and_patience(digits):
    X, y, X_test, y_test = digits
    X_val, y_val = X_test[:300], y_test[:300]
    # Pixels: the periodic embedding of numeric columns is for tabular data.
    model = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, n_iter_no_change=5,
                          batch_size=32, random_state=0, scoring="accuracy",
                          numeric_embedding=None)
    chunks = np.array_split(np.arange(X.shape[0]), 12)
    for _ in range(20):
        for chunk in chunks:
            model.partial_fit(X[chunk], y[chunk], classes=np.arange(10), X_val=X_val,
                              y_val=y_val)
            if model.patience_exhausted_:
                break
        if model.patience_exhausted_:
            break
    assert model.patience_exhausted_
    assert model.score(X_val, y_val) == pytest.approx(model.best_validation_score_)
    assert model.score(X_test[300:], y_test[300:]) > 0.9
    assert len(model.validation_scores_) == model.n_iter_


def test_streaming_chunks_of_digits_reach_ninety_percent(digits):
    # Chunks of 100 digits arrive in turn, three times over; each call is one epoch of
    # minibatches of 32 on its chunk.
    X, y, X_test, y_test = digits
    model = MLPClassifier(batch_size=32, random_state=0)
    for _ in range(3):
        for chunk in np.array_split(np.arange(X.shape[0]), 12):
            model.partial_fit(X[chunk], y[chunk], classes=np.arange(10))
    assert model.score(X_test, y_test) > 0.9


def test_partial_fit_learns_a_class_missing_from_the_first_chunk():
    X = np.array([[-2.0, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1]])
    y = np.array([1, 1, 1, 2, 2, 2])
    model = LogisticRegression(random_state=0).partial_fit(X[:3], y[:3], classes=[1, 2])
    for _ in range(100):
        model.partial_fit(X, y)
    np.testing.assert_array_equal(model.predict(X), y)


def _stream_score(model, digits, opening):
    """Test accuracy after a first chunk, then five shuffled passes in 9 chunks each."""
    X, y, X_test, y_test = digits
    rng = np.random.RandomState(0)
    first = np.flatnonzero(y == 0) if opening == "zeros" else rng.permutation(len(y))[:120]
    model.partial_fit(X[first], y[first], classes=np.arange(10))
    for _ in range(5):
        for chunk in np.array_split(rng.permutation(len(y)), 9):
            model.partial_fit(X[chunk], y[chunk])
    return model.score(X_test, y_test)


@pytest.mark.parametrize("estimator", [MLPClassifier(random_state=0),
                                       LogisticRegression(random_state=0)],
                         ids=lambda e: type(e).__name__)
def test_a_stream_that_opens_with_one_class_recovers(estimator, digits):
    # A first chunk of only zeros costs next to nothing against a first chunk of all
    # classes; scikit-learn's MLP recovers as well.
    recovered = _stream_score(clone(estimator), digits, "zeros")
    assert recovered >= _stream_score(clone(estimator), digits, "mixed") - 0.02
    if isinstance(estimator, MLPClassifier):
        assert recovered >= _stream_score(SklearnMLPClassifier(random_state=0), digits,
                                          "zeros") - 0.02


@pytest.mark.parametrize("estimator", [
    LinearRegression(random_state=0), LinearRegression(loss="huber", random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), random_state=0),
], ids=["LinearRegression", "huber", "MLPRegressor"])
def test_held_out_targets_never_reach_the_training(estimator):
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    held_out = []

    def later_epochs_score_higher(model, X_val, y_val):
        held_out.append(X_val)  # which rows early stopping holds out
        return float(model.n_iter_)

    model = clone(estimator).set_params(early_stopping=True, max_iter=8, validation_fraction=0.2,
                                        scoring=later_epochs_score_higher)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        before = clone(model).fit(X, y)
        is_held_out = (X[:, None, :] == held_out[0][None, :, :]).all(axis=2).any(axis=1)
        assert is_held_out.sum() == held_out[0].shape[0]
        after = clone(model).fit(X, np.where(is_held_out, y + 1000.0, y))
    np.testing.assert_array_equal(after.predict(X[~is_held_out]),
                                  before.predict(X[~is_held_out]))
    np.testing.assert_array_equal(after.target_mean_, before.target_mean_)
    np.testing.assert_array_equal(after.target_scale_, before.target_scale_)


def test_warm_start_refuses_other_classes_which_partial_fit_takes(digits):
    X, y, _, _ = digits
    model = LogisticRegression(max_iter=2, warm_start=True, random_state=0).fit(X, y)
    before = model._params.copy()
    fewer = y < 5
    with pytest.raises(ValueError, match="classes_ are \\[0, 1, 2.*partial_fit"):
        model.fit(X[fewer], y[fewer])
    np.testing.assert_array_equal(model._params, before)
    with pytest.raises(ValueError, match="warm_start=True"):
        model.fit(X, np.where(y == 9, 10, y))
    model.partial_fit(X[fewer], y[fewer])  # a chunk may lack classes
    assert model.n_iter_ == 3
    model.fit(X, y)  # the same classes: the warm start goes on
    assert model.n_iter_ == 5


@pytest.mark.parametrize("estimator", [LinearRegression(), MLPClassifier(max_iter=50)],
                         ids=lambda e: type(e).__name__)
def test_divergence_keeps_the_last_good_weights_and_warns(estimator, digits, regression):
    X, y, _ = _data_for(estimator, digits, regression)
    X = X * 1e6
    model = clone(estimator).set_params(solver=SGD(learning_rate=10.0), random_state=0)
    with pytest.warns(ConvergenceWarning, match="non-finite.*Lower the solver's learning rate"):
        model.fit(X, y)
    assert np.all(np.isfinite(model._params))
    state = model.optimizer_state_
    assert all(np.isfinite(getattr(state, name)).all() for name in state.buffer_names)
    assert np.all(np.isfinite(model.predict(X[:5]).astype(float)))


def test_penalty_does_not_depend_on_the_batch_size():
    # alpha / 2 * ||w||^2 belongs to the objective, so every batch size converges to the
    # ridge solution of that objective (sklearn's MLP divides alpha by the batch size).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    y = X @ np.array([3.0, -2.0, 1.0, 0.5, 0.0]) + 0.5 * rng.standard_normal(400)
    alpha = 0.5
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    # ridge for mean(0.5 * r^2) + alpha / 2 * ||w||^2, from its normal equations
    ridge = np.linalg.solve(Xc.T @ Xc / 400 + alpha * np.eye(5), Xc.T @ yc / 400)
    for batch_size in (8, 50, 400):
        schedule = ExponentialDecaySchedule(0.05, decay_rate=0.1, decay_steps=1000)
        n_epochs = 4000 // (400 // batch_size)
        model = LinearRegression(alpha=alpha, batch_size=batch_size, tol=0, max_iter=n_epochs,
                                 n_iter_no_change=n_epochs, solver=Adam(learning_rate=schedule),
                                 random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        np.testing.assert_allclose(model.coef_, ridge, atol=2e-3)


def test_logistic_objective_matches_sklearn_lbfgs(binary):
    # alpha here is sklearn's 1 / (C * n_samples): both minimise the same objective.
    X, y = binary
    alpha = 0.01
    reference = SklearnLogisticRegression(C=1 / (alpha * len(y)), tol=1e-10).fit(X, y)
    schedule = ExponentialDecaySchedule(0.05, decay_rate=0.1, decay_steps=2000)
    model = LogisticRegression(alpha=alpha, batch_size=300, tol=0, max_iter=6000,
                               n_iter_no_change=6000, solver=Adam(learning_rate=schedule),
                               random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-3)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-3)


def test_verbose_prints_one_line_per_epoch_with_the_epochs_and_time_left(capsys):
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=3, verbose=1, warm_start=True, random_state=0)
        model.fit(X, y)
        lines = capsys.readouterr().out.splitlines()
        model.set_params(max_iter=1).fit(X, y)
        warm = capsys.readouterr().out.splitlines()
        LogisticRegression(max_iter=2, verbose=1, early_stopping=True, random_state=0).fit(X, y)
        with_validation = capsys.readouterr().out.splitlines()
        streamed = LogisticRegression(verbose=1, random_state=0)
        for _ in range(2):
            streamed.partial_fit(X, y, classes=[0, 1, 2])
        calls = capsys.readouterr().out.splitlines()
    number = r"-?[0-9.e+-]+"
    timing = rf"{number} s, ({number}) s in all, at most about ({number}) s to go"
    assert len(lines) == 3
    elapsed = []
    for epoch, line in enumerate(lines, start=1):
        match = re.fullmatch(rf"Epoch {epoch}/3: loss {number}; {timing}", line)
        assert match, line
        elapsed.append(float(match[1]))
        if epoch == 3:
            assert float(match[2]) == 0.0  # the last epoch leaves nothing to go
    assert elapsed == sorted(elapsed)
    assert re.fullmatch(rf"Epoch 1/1 \(epoch 4 of the model\): loss {number}; {timing}",
                        warm[0]), warm
    assert len(with_validation) == 2
    assert re.fullmatch(rf"Epoch 2/2: loss {number}, validation score {number}; {timing}",
                        with_validation[1])
    assert [re.fullmatch(rf"partial_fit call (\d) \(one pass over its data\): loss "
                         rf"{number}; {number} s", line)[1] for line in calls] == ["1", "2"]


def test_dropout_trains_on_thinned_networks_and_predicts_with_all_units(digits):
    X, y, X_test, y_test = digits
    settings = dict(hidden_layer_sizes=(64,), max_iter=4, random_state=0, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPClassifier(**settings).fit(X, y)
        dropped = MLPClassifier(dropout=0.5, **settings).fit(X, y)
        # Two warm-started fits of 2 epochs give the fit of 4, masks included.
        twice = MLPClassifier(dropout=0.5, warm_start=True,
                              **{**settings, "max_iter": 2}).fit(X, y).fit(X, y)
    assert not np.array_equal(dropped._params, plain._params)
    np.testing.assert_array_equal(twice._params, dropped._params)
    # Predictions use every unit, deterministically; a longer fit learns well.
    np.testing.assert_array_equal(dropped.predict_proba(X_test), dropped.predict_proba(X_test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        longer = MLPClassifier(dropout=0.5, **{**settings, "max_iter": 30}).fit(X, y)
    assert longer.score(X_test, y_test) > 0.9
    # The masks come from a stream of their own: the shuffling stream is untouched.
    np.testing.assert_array_equal(dropped._random_state.get_state()[1],
                                  plain._random_state.get_state()[1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_batches_of_the_mlps_grow_with_the_training_rows(binary, monkeypatch):
    """64 rows a step below AUTO_LARGER_BATCH_SAMPLES training rows, 128 from there,
    never more than the rows; the linear models keep scikit-learn's 200."""
    X, y = binary
    n = len(y)

    def steps(model):
        return model.fit(X, y).optimizer_state_.t

    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, early_stopping=False,
                        random_state=0)
    assert steps(mlp) == -(-n // 64)
    monkeypatch.setattr(neural_network, "AUTO_LARGER_BATCH_SAMPLES", n)
    assert steps(mlp) == -(-n // 128)
    assert steps(mlp.set_params(batch_size=50)) == -(-n // 50)
    linear = LogisticRegression(max_iter=1, random_state=0)
    assert steps(linear) == -(-n // 200)
    assert MLPClassifier(max_iter=1, early_stopping=False).fit(X[:30], y[:30]
                                                               ).optimizer_state_.t == 1
