"""Batched grid and randomized searches: GridSearchCV and RandomizedSearchCV's results,
with the candidates that differ only in the optimizer trained together."""

import time

from sklearn.base import clone, is_classifier
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    check_cv,
)
from sklearn.utils import get_tags, indexable
from sklearn.utils.parallel import Parallel, delayed

from ._batching import evaluate_group, group_candidates
from ._sklearn_compat import (
    _check_method_params,
    _fit_context,
    _insert_error_scores,
    _warn_or_raise_about_fit_failures,
    check_input_parameters,
    check_refit_for_multimetric,
    format_results,
    get_scorers,
    init_callback_context,
    multimetric_scorers,
    routed_fit_params,
    select_best_index,
)


class _BatchedSearch:
    """The ``fit`` of the batched searches; a search says which candidates it tries.

    ``fit`` is ``BaseSearchCV.fit`` with the loop over candidates and folds replaced by
    one over groups and folds (:func:`~skadam.model_selection._batching.evaluate_group`).
    A subclass puts this class before a scikit-learn search and defines
    ``_candidates()``: the list of parameter dicts to evaluate.
    """

    def _candidates(self):
        raise NotImplementedError(
            f"{type(self).__name__} must define _candidates(): the list of parameter "
            "dicts to evaluate.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A search predicts with its best estimator: what targets it takes is the
        # estimator's, multi-output included (scikit-learn's searches leave that out).
        estimator_tags = get_tags(self.estimator)
        tags.target_tags.multi_output = estimator_tags.target_tags.multi_output
        tags.target_tags.single_output = estimator_tags.target_tags.single_output
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Run the search: every candidate on every fold, optimizer variations together.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets.
        **params : dict of str -> object
            Parameters for the estimator's ``fit`` (such as ``sample_weight``), the
            scorer and the splitter, as in scikit-learn's searches.

        Returns
        -------
        self : object
            The fitted search.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skadam import LinearRegression
        >>> from skadam.model_selection import BatchedGridSearchCV
        >>> X, y = load_diabetes(return_X_y=True)
        >>> pipe = make_pipeline(StandardScaler(), LinearRegression(random_state=0))
        >>> search = BatchedGridSearchCV(
        ...     pipe, {"linearregression__alpha": [0.0, 0.01, 0.1]}, cv=3).fit(X, y)
        >>> search.best_params_
        {'linearregression__alpha': 0.01}
        """
        scorers, refit_metric = get_scorers(self)
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed_params = routed_fit_params(self, params)
        sample_weight = params.get("sample_weight")
        callback_data = {"X": X, "y": y, "metadata": None if sample_weight is None
                         else {"sample_weight": sample_weight}}
        # The callbacks' task tree is scikit-learn's: the search, one task per candidate
        # and split, and the refit.
        root_context = init_callback_context(
            self, max_subtasks=1 + (self.refit is not False)
        ).call_on_fit_task_begin(estimator=self, **callback_data)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        check_input_parameters(self, X=X, y=y, split_params=routed_params.splitter.split)
        self.n_splits_ = cv.get_n_splits(X, y, **routed_params.splitter.split)
        splits = list(cv.split(X, y, **routed_params.splitter.split))
        if len(splits) != self.n_splits_:
            raise ValueError(
                f"cv.split and cv.get_n_splits return inconsistent results: expected "
                f"{self.n_splits_} splits, got {len(splits)}.")
        base_estimator = clone(self.estimator)
        candidates = self._candidates()
        groups = group_candidates(base_estimator, candidates, routed_params.estimator.fit)
        self.n_groups_ = len(groups)
        if self.verbose > 0:
            print(f"Fitting {self.n_splits_} folds for each of {len(candidates)} candidates,"
                  f" totalling {len(candidates) * self.n_splits_} fits, in {len(groups)} "
                  f"group{'' if len(groups) == 1 else 's'} trained together")

        search_context = root_context.subcontext(
            task_name="search", max_subtasks=len(candidates) * self.n_splits_,
            sequential_subtasks=False)
        search_context.call_on_fit_task_begin(estimator=self)
        evaluation_contexts = [
            search_context.subcontext(task_name="candidate-split-evaluation", task_id=task_id)
            for task_id in range(len(candidates) * self.n_splits_)
        ]
        tasks = [(group, split) for group in groups for split in range(len(splits))]
        parallel = Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch)
        group_results = parallel(
            delayed(evaluate_group)(
                clone(base_estimator), X, y, [candidates[index] for index in group],
                train=splits[split][0], test=splits[split][1], scorer=scorers,
                fit_params=routed_params.estimator.fit,
                score_params=routed_params.scorer.score,
                return_train_score=self.return_train_score, error_score=self.error_score,
                verbose=self.verbose, caller=self,
                contexts=[evaluation_contexts[index * self.n_splits_ + split]
                          for index in group],
            )
            for group, split in tasks
        )
        search_context.call_on_fit_task_end(estimator=self)
        # scikit-learn's order: candidate by candidate, each over the splits.
        out = [None] * (len(candidates) * self.n_splits_)
        for (group, split), results in zip(tasks, group_results, strict=True):
            for index, result in zip(group, results, strict=True):
                out[index * self.n_splits_ + split] = result
        if not out:
            raise ValueError("No fits were performed: there are no candidates or the CV "
                             "iterator is empty; check the search space and cv.")
        _warn_or_raise_about_fit_failures(out, self.error_score)
        if callable(self.scoring):
            _insert_error_scores(out, self.error_score)
        results = format_results(self, candidates, self.n_splits_, out)

        first_test_score = out[0]["test_scores"]
        self.multimetric_ = isinstance(first_test_score, dict)
        if callable(self.scoring) and self.multimetric_:
            check_refit_for_multimetric(self, first_test_score)
            refit_metric = self.refit
        if self.refit or not self.multimetric_:
            self.best_index_ = select_best_index(self, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(base_estimator).set_params(
                **clone(self.best_params_, safe=False))
            refit_context = root_context.subcontext(task_name="refit-with-best-params")
            with refit_context.propagate_callback_context(self.best_estimator_):
                refit_context.call_on_fit_task_begin(estimator=self, **callback_data)
                start = time.time()
                if y is not None:
                    self.best_estimator_.fit(X, y, **routed_params.estimator.fit)
                else:
                    self.best_estimator_.fit(X, **routed_params.estimator.fit)
                self.refit_time_ = time.time() - start
            refit_context.call_on_fit_task_end(estimator=self, **callback_data)
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = multimetric_scorers(scorers) or scorers
        self.cv_results_ = results
        root_context.call_on_fit_task_end(estimator=self, **callback_data)
        return self


class BatchedGridSearchCV(_BatchedSearch, GridSearchCV):
    """Exhaustive grid search that trains grid points differing only in the optimizer together.

    The same search, results and attributes as :class:`sklearn.model_selection.GridSearchCV`,
    faster where its grid varies what skadam can batch. Grid points whose skadam
    estimators (bare or the last step of a Pipeline) have valid parameters that differ
    only in ``alpha`` and in the hyperparameters of one optimizer class (learning rate or
    schedule, β1, β2, ε, weight decay, momentum...) form a group. On each fold a group
    trains as one stack of runs in one loop: every minibatch is gathered once and goes
    through all of them, and their optimizer states advance in one step. Each point
    follows the trajectory it would follow alone, bit for bit, stopping early at the same
    epoch with its own best weights, so ``cv_results_`` equals GridSearchCV's.

    Points that differ in anything else (hidden layers, batch size, loss, optimizer
    class, a transformer's parameters), points with invalid parameters, and estimators
    that are not skadam's are fitted one by one as GridSearchCV fits them, so their
    errors are reported as GridSearchCV reports them. A group's fit runs each point's own
    code on the same data, so if it raises, every point of the group records that error
    as a failed fit (``error_score``, a ``FitFailedWarning``), or the error propagates
    with ``error_score="raise"``.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune: a skadam estimator, a Pipeline ending in one, or any
        scikit-learn estimator (fitted point by point).
    param_grid : dict or list of dict
        Parameter names (as in ``set_params``, e.g. ``"solver__beta_1"``) to lists of
        values, or a list of such dicts.
    scoring : str, callable, list, tuple or dict, default=None
        As in GridSearchCV; None uses the estimator's ``score``.
    n_jobs : int, default=None
        Jobs for the (group, fold) tasks; None means 1 unless in a joblib context.
    refit : bool, str or callable, default=True
        Refit the best point on the whole data as ``best_estimator_``.
    cv : int, cross-validation generator or iterable, default=None
        The splitting, as in GridSearchCV (5-fold, stratified for classifiers).
    verbose : int, default=0
        Verbosity.
    pre_dispatch : int or str, default="2*n_jobs"
        Tasks dispatched ahead in parallel runs.
    error_score : "raise" or float, default=np.nan
        Score of a point whose fit fails.
    return_train_score : bool, default=False
        Also score each fit on its training folds.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        As GridSearchCV's. ``mean_fit_time`` of a batched point is its group's fit time
        divided by the group's size.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As GridSearchCV's.
    n_groups_ : int
        The groups the grid was trained in: a point fitted alone counts as one.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : The search this one reproduces.
    BatchedRandomizedSearchCV : The same engine over sampled candidates.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skadam import LogisticRegression
    >>> from skadam.model_selection import BatchedGridSearchCV
    >>> from skadam.optim import Adam
    >>> X, y = load_iris(return_X_y=True)
    >>> grid = {"solver__learning_rate": [0.1, 0.01], "solver__beta_1": [0.5, 0.9]}
    >>> search = BatchedGridSearchCV(
    ...     LogisticRegression(solver=Adam(), max_iter=30, random_state=0), grid, cv=3
    ... ).fit(X, y)
    >>> search.n_groups_, len(search.cv_results_["params"])
    (1, 4)
    >>> sorted(search.best_params_)
    ['solver__beta_1', 'solver__learning_rate']
    """

    def _candidates(self):
        return list(ParameterGrid(self.param_grid))


class BatchedRandomizedSearchCV(_BatchedSearch, RandomizedSearchCV):
    """Randomized search that trains sampled candidates differing only in the optimizer together.

    The same search, results and attributes as
    :class:`sklearn.model_selection.RandomizedSearchCV` with the same ``random_state``:
    ``n_iter`` candidates are drawn from ``param_distributions`` by
    :class:`~sklearn.model_selection.ParameterSampler`, then grouped and trained as
    :class:`BatchedGridSearchCV` trains the points of a grid. Continuous distributions
    suit the optimizer's hyperparameters: every draw of a learning rate, β1 or ``alpha``
    changes only what a group may differ in, so all the candidates on one architecture
    train together however many distinct values are drawn.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune: a skadam estimator, a Pipeline ending in one, or any
        scikit-learn estimator (fitted candidate by candidate).
    param_distributions : dict or list of dict
        Parameter names (as in ``set_params``, e.g. ``"solver__learning_rate"``) to
        distributions with an ``rvs`` method (such as ``scipy.stats.loguniform``) or to
        lists of values, sampled uniformly; or a list of such dicts.
    n_iter : int, default=10
        The number of candidates drawn.
    scoring : str, callable, list, tuple or dict, default=None
        As in RandomizedSearchCV; None uses the estimator's ``score``.
    n_jobs : int, default=None
        Jobs for the (group, fold) tasks; None means 1 unless in a joblib context.
    refit : bool, str or callable, default=True
        Refit the best candidate on the whole data as ``best_estimator_``.
    cv : int, cross-validation generator or iterable, default=None
        The splitting, as in RandomizedSearchCV (5-fold, stratified for classifiers).
    verbose : int, default=0
        Verbosity.
    pre_dispatch : int or str, default="2*n_jobs"
        Tasks dispatched ahead in parallel runs.
    random_state : int, RandomState instance or None, default=None
        Seeds the drawing of the candidates, as in RandomizedSearchCV; an int gives the
        same candidates on every call. The estimators' own ``random_state`` is separate.
    error_score : "raise" or float, default=np.nan
        Score of a candidate whose fit fails.
    return_train_score : bool, default=False
        Also score each fit on its training folds.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        As RandomizedSearchCV's. ``mean_fit_time`` of a batched candidate is its group's
        fit time divided by the group's size.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_, classes_, n_features_in_, feature_names_in_
        As RandomizedSearchCV's.
    n_groups_ : int
        The groups the candidates were trained in: one fitted alone counts as one.

    See Also
    --------
    sklearn.model_selection.RandomizedSearchCV : The search this one reproduces.
    BatchedGridSearchCV : The same engine over a grid.

    Examples
    --------
    The learning rate η on a log scale, with two values of β1:

    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from skadam import LogisticRegression
    >>> from skadam.model_selection import BatchedRandomizedSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"solver__learning_rate": loguniform(1e-4, 1e-1),
    ...          "solver__beta_1": [0.5, 0.9]}
    >>> search = BatchedRandomizedSearchCV(
    ...     LogisticRegression(max_iter=30, random_state=0), space, n_iter=6, cv=3,
    ...     random_state=0).fit(X, y)
    >>> search.n_groups_, len(search.cv_results_["params"])
    (1, 6)
    >>> best = search.best_params_
    >>> f"beta_1={best['solver__beta_1']}, learning_rate={best['solver__learning_rate']:.3f}"
    'beta_1=0.9, learning_rate=0.035'
    """

    def _candidates(self):
        return list(ParameterSampler(self.param_distributions, self.n_iter,
                                     random_state=self.random_state))
