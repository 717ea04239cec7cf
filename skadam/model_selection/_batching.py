"""Which grid points can train together, and the fit and scoring of one group on one fold.

Grid points train together when their estimators are skadam models (bare, or the last
step of a Pipeline) that differ only in ``alpha`` and in the hyperparameters of one
optimizer class with one set of buffers. Anything else is fitted alone, exactly as
GridSearchCV fits it.
"""

import time

import joblib
from sklearn.base import clone
from sklearn.model_selection._validation import _fit_and_score, _score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from .._estimator import BaseAdamEstimator, fit_together

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
    """What must be equal for two grid points to train together; None if never batched."""
    try:
        estimator = clone(base_estimator).set_params(**clone(parameters, safe=False))
        prefix, model = _split_model(estimator)
        if not isinstance(model, BaseAdamEstimator) or _sample_weight_key(
                estimator, fit_params) is False:
            return None
        model._validate_params()
        solver = model._resolve_solver()
        buffers = solver.buffer_names()
    except Exception:
        # Whatever fails here fails in the fit as well, where error_score handles it.
        return None
    fixed = {name: value for name, value in model.get_params(deep=False).items()
             if name not in BATCHABLE_MODEL_PARAMS}
    return joblib.hash((prefix, type(model), fixed, type(solver), buffers))


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
    """Fit and score the grid points of one group on one fold, together when possible.

    Returns one result per candidate, in the format of sklearn's ``_fit_and_score``
    (with times and test sample counts), in the order of ``candidates``. A group that
    cannot train together (one point, or a failure of the batched fit) is fitted point
    by point by ``_fit_and_score`` itself, so errors surface as in GridSearchCV.
    ``contexts`` are the callback tasks of the candidates on this fold (``caller`` the
    search): points fitted alone report their epochs through them, a group trained
    together reports each point's task as it begins and ends.

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
    if len(candidates) > 1:
        for context in contexts:
            if context is not None:
                context.call_on_fit_task_begin(estimator=caller)
        try:
            results = _evaluate_together(
                base_estimator, X, y, candidates, train=train, test=test, scorer=scorer,
                fit_params=fit_params, score_params=score_params,
                return_train_score=return_train_score, error_score=error_score,
            )
        except Exception:
            results = None  # fitted alone below, where each error is handled as usual
        for context in contexts:
            if context is not None:
                context.call_on_fit_task_end(estimator=caller)
        if results is not None:
            return results
        contexts = [None] * len(candidates)  # each task has begun and ended once
    return [
        _fit_and_score(
            clone(base_estimator), X, y, scorer=scorer, train=train, test=test,
            verbose=verbose, parameters=parameters, fit_params=fit_params,
            score_params=score_params, return_train_score=return_train_score,
            return_n_test_samples=True, return_times=True, error_score=error_score,
            caller=caller, callback_ctx=context,
        )
        for parameters, context in zip(candidates, contexts, strict=True)
    ]


def _evaluate_together(base_estimator, X, y, candidates, *, train, test, scorer,
                       fit_params, score_params, return_train_score, error_score):
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

    start = time.time()
    prefix, _ = _split_model(estimators[0])
    X_model = X_train
    if prefix:
        # The transformers are the same for the whole group: fitted once, shared.
        transformers = Pipeline(prefix)
        X_model = transformers.fit_transform(X_train, y_train)
        for estimator in estimators:
            estimator.steps[:-1] = transformers.steps
    models = [_split_model(estimator)[1] for estimator in estimators]
    if models[0].random_state is None:
        # Alone, each fit would draw its own seed; together they need one.
        seed = check_random_state(None).randint(2**31 - 1)
        for model in models:
            model.random_state = seed
    fit_together(models, X_model, y_train, sample_weight)
    fit_time = (time.time() - start) / len(models)

    results = []
    for estimator in estimators:
        start = time.time()
        result = {
            "fit_error": None,
            "test_scores": _score(estimator, X_test, y_test, scorer, score_params_test,
                                  error_score),
            "n_test_samples": len(test),
        }
        if return_train_score:
            result["train_scores"] = _score(estimator, X_train, y_train, scorer,
                                            score_params_train, error_score)
        result["fit_time"] = fit_time
        result["score_time"] = time.time() - start
        results.append(result)
    return results
