"""Which candidates can train together, and the fit and scoring of one group on one fold.

Candidates train together when their estimators are skadam models (bare, or the last
step of a Pipeline) with valid parameters that differ only in ``alpha`` and in the
hyperparameters of one optimizer class with one set of buffers. Anything else is fitted
alone, exactly as GridSearchCV fits it.
"""

import time
from contextlib import ExitStack
from traceback import format_exc

import joblib
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from .._estimator import BaseAdamEstimator
from .._fit_together import fit_together
from ..optim import Optimizer
from ._sklearn_compat import (
    _check_method_params,
    _fit_and_score,
    _safe_split,
    _score,
    multimetric_scorers,
    validate_params,
)

# The model's own parameters that may differ within a group; every parameter of the
# solver may, as long as its class and buffers are the same.
BATCHABLE_MODEL_PARAMS = ("alpha", "solver")


def group_candidates(base_estimator, candidates, fit_params):
    """Split candidate indices into groups that train together; unbatchable ones alone.

    Parameters
    ----------
    base_estimator : estimator
        The unfitted estimator of the search.
    candidates : list of dict
        The grid points, as parameters of ``base_estimator``.
    fit_params : dict
        The parameters passed to ``fit``.

    Returns
    -------
    groups : list of list of int
        Candidate indices, each list one group, in order of first appearance.

    Examples
    --------
    >>> from skadam import LogisticRegression
    >>> from skadam.optim import Adam, SGD
    >>> from skadam.model_selection._batching import group_candidates
    >>> grid = [{"solver": Adam(learning_rate=0.1)}, {"solver": SGD()},
    ...         {"solver": Adam(learning_rate=0.01), "alpha": 1e-4}]
    >>> group_candidates(LogisticRegression(random_state=0), grid, {})
    [[0, 2], [1]]
    """
    groups = {}
    for index, parameters in enumerate(candidates):
        key = _batching_key(base_estimator, parameters, fit_params)
        groups.setdefault(index if key is None else key, []).append(index)
    return list(groups.values())


def _batching_key(base_estimator, parameters, fit_params):
    """What must be equal for two candidates to train together; None if never batched.

    A candidate whose parameters are invalid gets None: its fit would fail, and it must
    fail alone, as ``_fit_and_score`` reports it, not take the rest of a group with it.
    """
    try:
        estimator = clone(base_estimator).set_params(**clone(parameters, safe=False))
    except (ValueError, TypeError):
        return None  # an unknown parameter: _fit_and_score raises it as GridSearchCV does
    prefix, model = _split_model(estimator)
    if not isinstance(model, BaseAdamEstimator) or _sample_weight_key(
            estimator, fit_params) is False:
        return None
    try:
        # The checks a fit makes of the parameters that may differ within a group
        # (InvalidParameterError is a ValueError).
        validate_params(model)
        solver = model._resolve_solver()
        if not isinstance(solver, Optimizer):
            return None  # only the Optimizer protocol steps a stack of runs
        solver._validate_hyperparameters()
    except (ValueError, TypeError):
        return None
    fixed = {name: value for name, value in model.get_params(deep=False).items()
             if name not in BATCHABLE_MODEL_PARAMS}
    return joblib.hash((prefix, type(model), fixed, type(solver), solver.buffer_names()))


def _split_model(estimator):
    """``(transformer steps, final model)`` of a Pipeline; ``([], estimator)`` otherwise."""
    if isinstance(estimator, Pipeline):
        return estimator.steps[:-1], estimator.steps[-1][1]
    return [], estimator


def _sample_weight_key(estimator, fit_params):
    """The fit parameter that holds the sample weights: None if none, False if unsupported."""
    if not fit_params:
        return None
    key = (f"{estimator.steps[-1][0]}__sample_weight" if isinstance(estimator, Pipeline)
           else "sample_weight")
    return key if set(fit_params) == {key} else False


def evaluate_group(base_estimator, X, y, candidates, *, train, test, scorer, fit_params,
                   score_params, return_train_score, error_score, verbose, caller=None,
                   contexts=None):
    """Fit and score the candidates of one group on one fold, together if several.

    Returns one result per candidate, in the format of scikit-learn's ``_fit_and_score``
    (with times and test sample counts), in the order of ``candidates``. A single
    candidate is fitted by ``_fit_and_score`` itself. Several train as one stack, each
    as it would alone, so an error of that fit is the error each would meet alone: every
    candidate records it as ``_fit_and_score`` records a failed fit (its traceback as
    ``fit_error``, ``error_score`` as its scores), or it propagates if
    ``error_score="raise"``. ``contexts`` are the callback tasks of the candidates on
    this fold (``caller`` the search): each begins and ends around the fit, as in
    ``_fit_and_score``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.metrics import check_scoring
    >>> from skadam import LogisticRegression
    >>> from skadam.model_selection._batching import evaluate_group
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=200, random_state=0)
    >>> rows = np.random.default_rng(0).permutation(150)
    >>> results = evaluate_group(
    ...     model, X, y, [{"alpha": 0.0}, {"alpha": 0.1}], train=rows[:100],
    ...     test=rows[100:], scorer=check_scoring(model), fit_params={}, score_params={},
    ...     return_train_score=False, error_score=np.nan, verbose=0)
    >>> [round(result["test_scores"], 2) for result in results]
    [0.96, 0.92]
    """
    contexts = contexts or [None] * len(candidates)
    if len(candidates) == 1:
        return [_fit_and_score(
            clone(base_estimator), X, y, scorer=scorer, train=train, test=test,
            verbose=verbose, parameters=candidates[0], fit_params=fit_params,
            score_params=score_params, return_train_score=return_train_score,
            return_n_test_samples=True, return_times=True, error_score=error_score,
            caller=caller, callback_ctx=contexts[0],
        )]
    return _evaluate_together(
        base_estimator, X, y, candidates, train=train, test=test, scorer=scorer,
        fit_params=fit_params, score_params=score_params,
        return_train_score=return_train_score, error_score=error_score, caller=caller,
        contexts=contexts,
    )


def _evaluate_together(base_estimator, X, y, candidates, *, train, test, scorer,
                       fit_params, score_params, return_train_score, error_score, caller,
                       contexts):
    estimators = [clone(base_estimator).set_params(**clone(parameters, safe=False))
                  for parameters in candidates]
    fit_params = _check_method_params(X, params=fit_params or {}, indices=train)
    score_params = score_params or {}
    score_params_train = _check_method_params(X, params=score_params, indices=train)
    score_params_test = _check_method_params(X, params=score_params, indices=test)
    X_train, y_train = _safe_split(estimators[0], X, y, train)
    X_test, y_test = _safe_split(estimators[0], X, y, test, train)
    sample_weight_key = _sample_weight_key(estimators[0], fit_params)
    sample_weight = fit_params[sample_weight_key] if sample_weight_key else None
    task_data = {"X": X_train, "y": y_train,
                 "metadata": None if sample_weight is None else {"sample_weight": sample_weight}}
    tasks = [(estimator, context) for estimator, context in zip(estimators, contexts,
                                                                  strict=True)
             if context is not None]

    # _fit_and_score's shape, for K candidates at once: whatever a fit raises is
    # recorded as a failure of every candidate (or raised), the scores of a good fit are
    # computed, and each task ends after either.
    start = time.time()
    try:
        with ExitStack() as propagated:
            for estimator, context in tasks:
                propagated.enter_context(context.propagate_callback_context(estimator))
                context.call_on_fit_task_begin(estimator=caller, **task_data)
            _fit_group(estimators, X_train, y_train, sample_weight)
    except Exception:
        if error_score == "raise":
            raise
        fit_error = format_exc()
        fit_time = (time.time() - start) / len(estimators)
        scorers = multimetric_scorers(scorer)
        failed = error_score if scorers is None else dict.fromkeys(scorers, error_score)
        results = [{"fit_error": fit_error, "test_scores": _copy(failed), "fit_time": fit_time,
                    "score_time": 0.0} for _ in estimators]
        if return_train_score:
            for result in results:
                result["train_scores"] = _copy(failed)
    else:
        fit_time = (time.time() - start) / len(estimators)
        results = []
        for estimator in estimators:
            start = time.time()
            result = {"fit_error": None, "fit_time": fit_time}
            result["test_scores"] = _score(estimator, X_test, y_test, scorer,
                                           score_params_test, error_score)
            result["score_time"] = time.time() - start
            if return_train_score:
                result["train_scores"] = _score(estimator, X_train, y_train, scorer,
                                                score_params_train, error_score)
            results.append(result)
    finally:
        for _, context in tasks:
            context.call_on_fit_task_end(estimator=caller, **task_data)
    n_test_samples = X_test.shape[0] if hasattr(X_test, "shape") else len(X_test)
    for result in results:
        result["n_test_samples"] = n_test_samples
    return results


def _fit_group(estimators, X, y, sample_weight):
    """Fit a group's estimators as their own ``fit`` would, their models as one stack."""
    prefix, _ = _split_model(estimators[0])
    if prefix:
        # The transformers are the same for the whole group: fitted once, shared.
        transformers = Pipeline(prefix)
        X = transformers.fit_transform(X, y)
        for estimator in estimators:
            estimator.steps[:-1] = transformers.steps
    models = [_split_model(estimator)[1] for estimator in estimators]
    if models[0].random_state is None:
        # Alone, each fit would draw its own seed; together they need one.
        seed = check_random_state(None).randint(2**31 - 1)
        for model in models:
            model.random_state = seed
    fit_together(models, X, y, sample_weight)


def _copy(scores):
    return dict(scores) if isinstance(scores, dict) else scores
