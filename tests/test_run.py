"""A fitted model's state is one run: a call trains a run of its own and the model takes it
only when the call succeeds; resumed and forked runs share no buffer with their source."""

import copy
import pickle

import numpy as np
import pytest
from _interrupts import AtEpoch
from sklearn.datasets import make_classification

from skadam import LogisticRegression, MLPClassifier, MLPRegressor
from skadam.optim import SGD, Adam


@pytest.fixture
def data():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    return X, y


def _buffers(run):
    """Every array a run keeps, by name."""
    arrays = {"params": run.params, "trained_params": run.trained_params,
              "best_params": run.history.best_params}
    for member, state in enumerate(run.states):
        arrays.update({f"{name}[{member}]": getattr(state, name)
                       for name in state.buffer_names})
    return {name: array for name, array in arrays.items() if array is not None}


def _shares_a_buffer(one, other):
    return any(np.shares_memory(a, b) for a in _buffers(one).values()
               for b in _buffers(other).values())


def test_a_warm_start_trains_a_copy_and_the_model_takes_it(data):
    X, y = data
    model = MLPClassifier((8,), weight_averaging=2, ensemble_size=2, max_iter=3,
                          early_stopping=True, warm_start=True, random_state=0)
    model.set_params(numeric_embedding=None).fit(X, y)
    first = model._run
    kept = copy.deepcopy(first)
    model.fit(X, y)
    assert model._run is not first
    assert not _shares_a_buffer(model._run, first)
    # The run the model had is untouched: the call trained its copy.
    for name, array in _buffers(kept).items():
        np.testing.assert_array_equal(_buffers(first)[name], array, err_msg=name)
    assert model._run.history.n_iter == first.history.n_iter + 3


class _FailsInTheSecondEpoch(AtEpoch):
    """A callback that raises at the end of the second epoch, after training changed the
    weights of the call's run."""

    def __init__(self):
        super().__init__(2)

    def act(self):
        raise RuntimeError("a broken callback")


def test_a_call_that_raises_leaves_the_models_run_in_place(data):
    X, y = data
    model = LogisticRegression(max_iter=3, random_state=0).fit(X, y)
    run, before = model._run, pickle.dumps(model)
    model.set_params(warm_start=True).set_callbacks(_FailsInTheSecondEpoch())
    with pytest.raises(RuntimeError, match="a broken callback"):
        model.fit(X, y)
    assert model._run is run
    model.set_params(warm_start=False)
    del model._skl_callbacks
    assert pickle.dumps(model) == before


def test_a_resumed_run_carries_the_optimizer_state_of_its_kind_only(data):
    X, y = data
    model = LogisticRegression(max_iter=4, random_state=0).fit(X, y)
    run = model._run
    same = run.resumed(Adam(learning_rate=0.5), dropout=False, averaging=False)
    assert same.states[0].t == run.states[0].t > 0
    np.testing.assert_array_equal(same.states[0].m, run.states[0].m)
    assert not np.shares_memory(same.states[0].m, run.states[0].m)
    other = run.resumed(SGD(momentum=0.9), dropout=False, averaging=False)
    assert other.states[0].t == 0 and not other.states[0].velocity.any()
    np.testing.assert_array_equal(other.params, run.params)


def test_a_fork_starts_where_its_source_starts_with_a_history_of_its_own(data):
    X, y = data
    model = MLPRegressor((4,), dropout=0.2, max_iter=2, random_state=0).fit(X, y)
    run = model._run
    fork = run.fork(Adam(learning_rate=0.1), averaging=True)
    np.testing.assert_array_equal(fork.params, run.params)
    np.testing.assert_array_equal(fork.trained_params, run.params)
    assert not _shares_a_buffer(fork, run)
    assert fork.history.n_iter == 0 and fork.states[0].t == 0
    assert fork.rng is not run.rng
    assert fork.rng.get_state()[2] == run.rng.get_state()[2]
    assert [a.bit_generator.state for a in fork.dropout_rngs] == [
        b.bit_generator.state for b in run.dropout_rngs]


def test_the_fitted_run_holds_no_reference_to_the_estimator(data):
    # The call's hooks (estimator, callbacks, scorer) go with the call: a saved run is
    # the model's state alone.
    X, y = data
    model = LogisticRegression(max_iter=2, early_stopping=True, scoring="accuracy",
                               random_state=0).fit(X, y)
    assert model._run.hooks is None
    assert model._run.copy().params is not model._run.params
