"""The MLPs' weight averaging: the moving average of the trained weights, held against its
equation, is what the model validates, keeps and predicts with."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam import MLPClassifier, MLPRegressor


@pytest.mark.parametrize("ensemble_size", [1, 2])
def test_the_kept_weights_are_the_bias_corrected_average_of_the_trained_ones(
        regression, ensemble_size):
    X, Y = regression
    horizon, n_steps = 4.0, 12
    # One full batch per call: one step per epoch, so the average's decay per step is
    # 1 - 1 / horizon.
    settings = dict(hidden_layer_sizes=(8,), batch_size=X.shape[0],
                    ensemble_size=ensemble_size, random_state=0)
    plain = MLPRegressor(weight_averaging=0.0, **settings)
    averaged = MLPRegressor(weight_averaging=horizon, **settings)
    trajectory = []
    for _ in range(n_steps):
        plain.partial_fit(X, Y)
        averaged.partial_fit(X, Y)
        trajectory.append(plain._params.copy())
    assert plain._trained_params is None
    # Averaging leaves the optimizer's path as it is.
    np.testing.assert_array_equal(averaged._trained_params, plain._params)
    # Kingma & Ba's bias-corrected moving average, written out: the weights of step i
    # count (1 - β) β^(t - i), divided by the total weight 1 - β^t.
    beta = 1.0 - 1.0 / horizon
    expected = sum((1.0 - beta) * beta ** (n_steps - step) * weights
                   for step, weights in enumerate(trajectory, start=1)) / (1.0 - beta**n_steps)
    np.testing.assert_allclose(averaged._params, expected, rtol=1e-12, atol=1e-12)
    assert not np.allclose(averaged._params, plain._params)
    # The model predicts with the average.
    reference = clone(plain).partial_fit(X, Y)
    reference._run.params = averaged._params
    np.testing.assert_array_equal(averaged.predict(X), reference.predict(X))


def test_early_stopping_scores_and_keeps_the_average():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_val, y_train, y_val = train_test_split(X, y, random_state=0)
    model = MLPRegressor(hidden_layer_sizes=(16,), early_stopping=True, scoring="r2",
                         n_iter_no_change=5, random_state=0)
    model.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    assert model.n_iter_ < model.max_iter
    # Early stopping went back to the best epoch's weights, whose validation score
    # it recorded: the average's, which the model now predicts with.
    assert model.score(X_val, y_val) == pytest.approx(model.best_validation_score_,
                                                      rel=1e-12)
    assert not np.array_equal(model._params, model._trained_params)


def test_a_horizon_shorter_than_a_step_keeps_the_last_step(binary):
    X, y = binary
    # A horizon of less than one step per epoch weighs the latest step alone.
    settings = dict(hidden_layer_sizes=(8,), batch_size=X.shape[0], max_iter=5,
                    random_state=0)
    short = MLPClassifier(weight_averaging=0.5, **settings).fit(X, y)
    plain = MLPClassifier(weight_averaging=0.0, **settings).fit(X, y)
    np.testing.assert_array_equal(short._params, short._trained_params)
    np.testing.assert_array_equal(short._params, plain._params)


def test_warm_start_goes_on_from_the_trained_weights_and_the_average(regression):
    X, Y = regression
    settings = dict(hidden_layer_sizes=(8,), early_stopping=False, random_state=0)
    once = MLPRegressor(max_iter=6, **settings).fit(X, Y)
    twice = MLPRegressor(max_iter=3, warm_start=True, **settings).fit(X, Y).fit(X, Y)
    np.testing.assert_array_equal(twice._trained_params, once._trained_params)
    np.testing.assert_array_equal(twice._params, once._params)
    # Turning averaging off goes on from the average the model kept.
    kept = twice._params.copy()
    twice.set_params(weight_averaging=0.0, max_iter=1).fit(X, Y)
    assert twice._trained_params is None
    assert not np.array_equal(twice._params, kept)
