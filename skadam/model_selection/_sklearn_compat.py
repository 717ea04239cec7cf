"""Every private scikit-learn name the searches use, in one module, checked against a release.

The batched searches give GridSearchCV's and RandomizedSearchCV's results because they run
scikit-learn's own code wherever a point is not trained in a group: ``_fit_and_score`` fits
it, ``_score`` scores a group's points, ``_format_results`` builds ``cv_results_``. Their
``fit`` is ``BaseSearchCV.fit`` with the candidate-by-fold loop replaced, so it calls the
private methods that ``BaseSearchCV.fit`` calls. scikit-learn may change any of these in a
minor release; keeping them here means one module to read and one to fix.

Checked against scikit-learn 1.9.1. ``pyproject.toml`` requires ``scikit-learn>=1.9,<1.10``;
the upper bound moves only after ``tests/test_sklearn_compat.py`` (which calls
:func:`check_private_api`) passes on the new release.

The rest of ``skadam.model_selection`` takes private names from here only. The estimators
and optimizers import a few themselves, listed in ``USED_ELSEWHERE`` so that
:func:`check_private_api` checks them too: the parameter constraints of
``sklearn.utils._param_validation`` (``Interval``, ``StrOptions``, ``HasMethods``; in
``_estimator.py``, ``linear_model.py``, ``neural_network.py`` and ``optim/``) and
``sklearn.utils.validation._check_sample_weight`` and ``_num_samples``
(``_estimator.py``), ``_num_features`` and ``_get_feature_names``
(``_validation_input.py``). They also call
``BaseEstimator._validate_params`` (``_estimator.py``, ``optim/_base.py``) and
``CallbackSupportMixin._init_callback_context`` (``_callbacks.py``), checked with the searches'
names.
"""

import importlib
import inspect

import sklearn
from sklearn.base import _fit_context
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection._validation import (
    _fit_and_score,
    _insert_error_scores,
    _score,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

__all__ = [
    "_check_method_params",
    "_fit_and_score",
    "_fit_context",
    "_insert_error_scores",
    "_safe_split",
    "_score",
    "_warn_or_raise_about_fit_failures",
    "check_input_parameters",
    "check_private_api",
    "check_refit_for_multimetric",
    "format_results",
    "get_scorers",
    "init_callback_context",
    "multimetric_scorers",
    "routed_fit_params",
    "select_best_index",
    "validate_params",
]

_SEARCH = "sklearn.model_selection._search:BaseSearchCV."

# Where each name lives and the parameters skadam passes to it (by keyword, or
# positionally under these names).
USED_HERE = {
    "sklearn.base:_fit_context": ("prefer_skip_nested_validation",),
    # Only its type and its ._scorers are used; check_private_api builds one.
    "sklearn.metrics._scorer:_MultimetricScorer": ("scorers",),
    "sklearn.model_selection._validation:_fit_and_score": (
        "estimator", "X", "y", "scorer", "train", "test", "verbose", "parameters",
        "fit_params", "score_params", "return_train_score", "return_n_test_samples",
        "return_times", "error_score", "caller", "callback_ctx"),
    "sklearn.model_selection._validation:_score": (
        "estimator", "X_test", "y_test", "scorer", "score_params", "error_score"),
    "sklearn.model_selection._validation:_insert_error_scores": ("results", "error_score"),
    "sklearn.model_selection._validation:_warn_or_raise_about_fit_failures": (
        "results", "error_score"),
    "sklearn.utils.metaestimators:_safe_split": (
        "estimator", "X", "y", "indices", "train_indices"),
    "sklearn.utils.validation:_check_method_params": ("X", "params", "indices"),
    _SEARCH + "_get_scorers": (),
    _SEARCH + "_get_routed_params_for_fit": ("params",),
    _SEARCH + "_check_input_parameters": ("X", "y", "split_params"),
    _SEARCH + "_format_results": ("candidate_params", "n_splits", "out"),
    _SEARCH + "_select_best_index": ("refit", "refit_metric", "results"),
    _SEARCH + "_check_refit_for_multimetric": ("scores",),
    # These two the estimators and optimizers call as well.
    "sklearn.callback:CallbackSupportMixin._init_callback_context": ("max_subtasks",),
    "sklearn.base:BaseEstimator._validate_params": (),
}

# The private names the estimators and optimizers import themselves.
USED_ELSEWHERE = {
    "sklearn.utils._param_validation:Interval": ("type", "left", "right", "closed"),
    "sklearn.utils._param_validation:StrOptions": ("options",),
    "sklearn.utils._param_validation:HasMethods": ("methods",),
    "sklearn.utils.validation:_check_sample_weight": (
        "sample_weight", "X", "dtype", "ensure_non_negative"),
    "sklearn.utils.validation:_num_features": ("X",),
    "sklearn.utils.validation:_num_samples": ("x",),
    "sklearn.utils.validation:_get_feature_names": ("X",),
}


def get_scorers(search):
    """``(scorers, refit_metric)`` of a search, as ``BaseSearchCV.fit`` builds them."""
    return search._get_scorers()


def routed_fit_params(search, params):
    """The ``fit`` parameters routed to the estimator, the splitter and the scorer."""
    return search._get_routed_params_for_fit(params)


def check_input_parameters(search, X, y, split_params):
    """The search class's own checks of the data, before any split."""
    search._check_input_parameters(X=X, y=y, split_params=split_params)


def format_results(search, candidates, n_splits, out):
    """``cv_results_`` from the results of ``_fit_and_score``, candidate by candidate."""
    return search._format_results(candidates, n_splits, out)


def select_best_index(search, refit_metric, results):
    """The index of the best candidate, as ``refit`` chooses it."""
    return search._select_best_index(search.refit, refit_metric, results)


def check_refit_for_multimetric(search, scores):
    """Raise if ``refit`` names no metric of a multi-metric ``scoring``."""
    search._check_refit_for_multimetric(scores)


def init_callback_context(estimator, max_subtasks):
    """Set up the estimator's callbacks; return the root task of its fit."""
    return estimator._init_callback_context(max_subtasks=max_subtasks)


def validate_params(estimator):
    """Check an estimator's parameters against its ``_parameter_constraints``, as ``fit`` does."""
    estimator._validate_params()


def multimetric_scorers(scorer):
    """The scorers by name of a multi-metric scorer; None for a single scorer."""
    return scorer._scorers if isinstance(scorer, _MultimetricScorer) else None


def check_private_api():
    """Check that every private scikit-learn name skadam uses takes what skadam passes.

    Each name of ``USED_HERE`` and ``USED_ELSEWHERE`` must exist, accept every
    parameter skadam passes to it, and require no parameter skadam does not pass.

    Raises
    ------
    RuntimeError
        Naming every name that changed and how, and what to do.

    Examples
    --------
    >>> from skadam.model_selection._sklearn_compat import check_private_api
    >>> check_private_api()
    """
    problems = [
        f"{where}: {problem}"
        for where, passed in {**USED_HERE, **USED_ELSEWHERE}.items()
        if (problem := _check_one(where, passed)) is not None
    ]
    try:
        keeps_scorers = "_scorers" in vars(_MultimetricScorer(scorers={}))
    except TypeError:
        keeps_scorers = False  # its signature changed too, reported above
    if not keeps_scorers:
        problems.append("sklearn.metrics._scorer:_MultimetricScorer no longer keeps its "
                        "scorers by name in ._scorers")
    if problems:
        raise RuntimeError(
            f"scikit-learn {sklearn.__version__} changed private names skadam relies on "
            "(checked against 1.9.1):\n  " + "\n  ".join(problems) + "\nAdapt "
            "skadam/model_selection/_sklearn_compat.py (and the code that uses those "
            "names) before raising the scikit-learn bound in pyproject.toml."
        )


def _check_one(where, passed):
    """What changed about one name; None if it still takes what skadam passes."""
    module_name, _, qualified_name = where.partition(":")
    try:
        found = importlib.import_module(module_name)
        for part in qualified_name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return "not found"
    try:
        parameters = inspect.signature(found).parameters
    except (TypeError, ValueError):
        return "has no signature to check"
    names = [name for name in parameters if name != "self"]
    takes_any_keyword = any(parameter.kind is inspect.Parameter.VAR_KEYWORD
                            for parameter in parameters.values())
    unknown = [name for name in passed if name not in names and not takes_any_keyword]
    required = [
        name for name, parameter in parameters.items()
        if name != "self" and name not in passed
        and parameter.default is inspect.Parameter.empty
        and parameter.kind not in (inspect.Parameter.VAR_POSITIONAL,
                                   inspect.Parameter.VAR_KEYWORD)
    ]
    if not unknown and not required:
        return None
    changes = []
    if unknown:
        changes.append(f"no longer takes {', '.join(unknown)}")
    if required:
        changes.append(f"now requires {', '.join(required)}")
    return " and ".join(changes) + f" (signature: {qualified_name}{inspect.signature(found)})"
