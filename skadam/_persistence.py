"""A fitted estimator's state for pickle and skops: numpy arrays and Python builtins.

In memory a fitted model keeps its :class:`~skadam._run.Run`, made of objects of
skadam's own (its parameter layout, its embedding, its history, its optimizer states).
Saved, the run becomes one entry per part, and each object what rebuilds it: the
layout's sizes, the embedded columns, the history's numbers and arrays, each optimizer
state's buffers. skops then trusts nothing of skadam's but its public classes (the
estimator and its optimizer), and no numpy type beyond arrays; a pickle holds nothing
twice and no scratch memory.
"""

import numpy as np

from ._embeddings import PeriodicEmbedding
from ._history import History
from ._layout import ParameterLayout
from ._piecewise import PiecewiseLinearEmbedding
from ._run import Run
from .optim import OptimizerState
from .optim._chunks import chunk_layout


def plain_state(state):
    """``state`` (an estimator's ``__dict__``) with skadam's objects as plain data.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import LinearRegression
    >>> from skadam._persistence import plain_state
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> model = LinearRegression(max_iter=2, random_state=0).fit(X, X[:, 0])
    >>> plain = plain_state(model.__dict__)
    >>> plain["_layout"]["layer_sizes"], type(plain["_history"]).__name__
    ([2, 1], 'dict')
    """
    state = dict(state)
    run = state.pop("_run", None)
    if run is not None:
        state.update(_run_parts(run))
    layout = state.get("_layout")
    if isinstance(layout, ParameterLayout):
        state["_layout"] = {"layer_sizes": list(layout.layer_sizes),
                            "fit_intercept": layout.fit_intercept,
                            "n_embedding": layout.n_embedding,
                            "shared_members": layout.shared_members,
                            "input_scale": layout.input_scale,
                            "skip_inputs": layout.skip_inputs}
    embedding = state.get("_embedding")
    if isinstance(embedding, PeriodicEmbedding):
        state["_embedding"] = {"columns": embedding.columns}
    elif isinstance(embedding, PiecewiseLinearEmbedding):
        state["_embedding"] = {"kind": "piecewise_linear", "columns": embedding.columns,
                               "edges": embedding.edges}
    history = state.get("_history")
    if isinstance(history, History):
        state["_history"] = _plain_history(history, state.get("_params"))
    states = state.get("_optimizer_states")
    if states is not None:
        state["_optimizer_states"] = [
            _plain_optimizer_state(one) if isinstance(one, OptimizerState) else one
            for one in states]
    return state


def restored_state(state):
    """The inverse of :func:`plain_state`: skadam's objects rebuilt from plain data.

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import LinearRegression
    >>> from skadam._persistence import plain_state, restored_state
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> model = LinearRegression(max_iter=2, random_state=0).fit(X, X[:, 0])
    >>> run = restored_state(plain_state(model.__dict__))["_run"]
    >>> run.layout.layer_sizes, run.history.n_iter
    ((2, 1), 2)
    """
    state = dict(state)
    layout = state.get("_layout")
    if isinstance(layout, dict):
        state["_layout"] = ParameterLayout(
            layout["layer_sizes"], layout["fit_intercept"], n_embedding=layout["n_embedding"],
            shared_members=layout.get("shared_members", 0),
            input_scale=layout.get("input_scale", False),
            skip_inputs=layout.get("skip_inputs", 0))
    embedding = state.get("_embedding")
    if isinstance(embedding, dict):
        # Models saved before there was another kind hold a periodic embedding.
        if embedding.get("kind", "periodic") == "piecewise_linear":
            state["_embedding"] = PiecewiseLinearEmbedding(embedding["columns"],
                                                           embedding["edges"])
        else:
            state["_embedding"] = PeriodicEmbedding(embedding["columns"])
    history = state.get("_history")
    if isinstance(history, dict):
        state["_history"] = _restored_history(history, state.get("_params"))
    states = state.get("_optimizer_states")
    if states is not None:
        state["_optimizer_states"] = [
            _restored_optimizer_state(one) if isinstance(one, dict) else one for one in states]
    if "_params" in state:
        state["_run"] = _run_of(state)
    return state


# Where each part of a run is saved. The names are the attributes the estimators kept
# before they had a run, so that models saved then load.
_RUN_PARTS = {"layout": "_layout", "embedding": "_embedding", "params": "_params",
              "trained_params": "_trained_params", "optimizer": "optimizer_",
              "states": "_optimizer_states", "history": "_history", "rng": "_random_state",
              "seed": "_validation_seed", "dropout_rngs": "_dropout_rngs"}


def _run_parts(run):
    return {name: getattr(run, part) for part, name in _RUN_PARTS.items()}


def _run_of(state):
    parts = {part: state.pop(name, None) for part, name in _RUN_PARTS.items()}
    return Run(parts.pop("layout"), parts.pop("embedding"), parts.pop("params"),
               parts.pop("optimizer"), parts.pop("states"), parts.pop("history"),
               parts.pop("rng"), parts.pop("seed"), **parts)


def _python(value):
    """Numbers as Python's own (numpy's scalars are types skops would have to trust)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [_python(item) for item in value]
    return value


def _plain_history(history, params):
    plain = {name: _python(value) for name, value in vars(history).items()}
    best = plain.get("best_params")
    # The best weights are often the model's own (early stopping restored them): kept once.
    if best is not None and params is not None and np.array_equal(best, params):
        plain["best_params"] = "_params"
    return plain


def _restored_history(plain, params):
    history = History.__new__(History)
    vars(history).update(plain)
    if isinstance(history.best_params, str):
        history.best_params = params.copy()
    return history


def _plain_optimizer_state(state):
    plain = {name: _python(value) for name, value in vars(state).items()
             if name not in ("dtype", "scratch")}
    plain["dtype"] = str(state.dtype)
    plain["buffer_names"] = list(state.buffer_names)
    plain["schedule_names"] = list(state.schedule_names)
    plain["scratch"] = bool(state.scratch.size)  # working memory: made afresh on loading
    return plain


def _restored_optimizer_state(plain):
    plain = dict(plain)
    state = OptimizerState.__new__(OptimizerState)
    dtype = np.dtype(plain.pop("dtype"))
    with_scratch = plain.pop("scratch")
    plain["buffer_names"] = tuple(plain["buffer_names"])
    # States saved before schedules declared their state kept a plateau schedule's
    # bookkeeping whatever the schedule.
    plain["schedule_names"] = tuple(plain.get("schedule_names", ()))
    vars(state).update(plain)
    state.dtype = dtype
    chunk_length, n_threads = chunk_layout(state.n_params)
    state.scratch = np.empty((n_threads, chunk_length if with_scratch else 0), dtype=dtype)
    return state
