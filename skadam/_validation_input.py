"""The checks of a validation set given to ``fit``, with errors that name ``X_val``.

Most wrong ``X_val`` come from one mistake: in a Pipeline, ``X_val`` goes to the model as
it was given, without the preprocessing steps that ``X`` went through. The data then
fail to convert, or have the wrong width or column names, and the errors scikit-learn's
own checks give speak of ``X`` and say nothing of the fix. These checks say both.
"""

import warnings

from sklearn.utils.validation import _get_feature_names, _num_features, validate_data

from ._warnings import warn

PIPELINE_RECIPE = (
    "In a Pipeline, X_val reaches the model untransformed unless the pipeline transforms "
    "it too: enable metadata routing (sklearn.set_config(enable_metadata_routing=True)), "
    "request them from the model (model.set_fit_request(X_val=True, y_val=True)), build "
    "the pipeline with transform_input=['X_val'] and pass X_val and y_val to its fit "
    "(the user guide's 'Validation data in a Pipeline' shows it)."
)


def check_validation_data(estimator, X_val, y_val, dtype):
    """``X_val, y_val`` validated as the model's input, for a model whose input is known.

    Parameters
    ----------
    estimator : BaseAdamEstimator
        The model, whose ``n_features_in_`` (and ``feature_names_in_``, if any) this
        call's ``X`` has set or matched.
    X_val : array-like or sparse matrix
        The validation features.
    y_val : array-like
        The validation targets.
    dtype : dtype
        The training data's dtype.

    Returns
    -------
    X_val, y_val : ndarray or sparse matrix, ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skadam import MLPRegressor
    >>> from skadam._validation_input import check_validation_data
    >>> model = MLPRegressor(max_iter=2).fit(np.ones((4, 3)), np.arange(4.0))
    >>> try:
    ...     check_validation_data(model, np.ones((2, 5)), np.zeros(2), np.float64)
    ... except ValueError as error:
    ...     print(str(error)[:52])
    X_val has 5 features, but the model was trained on 3
    """
    name = type(estimator).__name__
    try:
        n_features = _num_features(X_val)
    except TypeError:
        n_features = None  # not a 2-D table: validate_data below says so
    if n_features is not None and n_features != estimator.n_features_in_:
        raise ValueError(
            f"X_val has {n_features} features, but the model was trained on "
            f"{estimator.n_features_in_} (the columns of X): {name} can only score "
            f"validation data with the same columns as X. {PIPELINE_RECIPE}"
        )
    fitted_names = getattr(estimator, "feature_names_in_", None)
    given_names = _get_feature_names(X_val)
    if fitted_names is None and given_names is not None:
        warn(f"X_val has column names but {name} was trained on X without them: the "
             f"columns are matched by position. {PIPELINE_RECIPE}", UserWarning)
    elif fitted_names is not None and (given_names is None
                                       or list(given_names) != list(fitted_names)):
        raise ValueError(
            f"The columns of X_val ({None if given_names is None else list(given_names)[:10]})"
            f" differ from those of X ({list(fitted_names)[:10]}): pass X_val with the "
            "columns of X, in the same order."
        )
    try:
        with warnings.catch_warnings():
            # The names were checked above, with a message that names X_val.
            warnings.filterwarnings("ignore", message=".*feature names", category=UserWarning)
            return validate_data(
                estimator, X_val, y_val, reset=False, accept_sparse="csr", dtype=dtype,
                multi_output=True, y_numeric=estimator._y_numeric,
            )
    except ValueError as error:
        raise ValueError(f"X_val or y_val cannot be used as {name}'s validation data: "
                         f"{error} {PIPELINE_RECIPE}") from error
