"""scikit-learn's estimator parameters that skadam spells differently, with the spelling.

``set_params`` (and so every search) refuses an unknown parameter; for these it says what
to write instead, since a user coming from scikit-learn tries them first.
"""

SKLEARN_PARAMETERS = {
    "learning_rate_init": "use solver__learning_rate (or solver=Adam(learning_rate=...))",
    "learning_rate": "give a schedule of skadam.optim as solver__learning_rate",
    "power_t": "use solver__learning_rate=InverseScalingSchedule(..., power_t=...)",
    "beta_1": "use solver__beta_1",
    "beta_2": "use solver__beta_2",
    "epsilon": "use solver__epsilon",
    "momentum": "use solver=SGD(momentum=...)",
    "nesterovs_momentum": "use solver=SGD(momentum=..., nesterov=True)",
    "eta0": "use solver__learning_rate",
    "max_fun": "it belongs to the lbfgs solver, which skadam does not have",
    "C": "use alpha=1 / (C * n_samples), a penalty on the mean loss",
    "penalty": "use alpha, the strength of an L2 penalty (skadam has no L1)",
}


def sklearn_name_error(estimator, name, error=ValueError):
    """The error for ``name``, a scikit-learn parameter ``estimator`` lacks, or None.

    Parameters
    ----------
    estimator : estimator instance or class
        The skadam estimator that was given ``name``.
    name : str
        The parameter's name.
    error : type of Exception, default=ValueError
        The error's type: ``set_params`` raises a ValueError, a constructor a TypeError.

    Examples
    --------
    >>> from skadam import MLPClassifier
    >>> from skadam._sklearn_names import sklearn_name_error
    >>> error = sklearn_name_error(MLPClassifier(), "beta_1")
    >>> str(error).split(": ")[1].split(".")[0]
    'use solver__beta_1'
    """
    hint = SKLEARN_PARAMETERS.get(name)
    if hint is None:
        return None
    cls = estimator if isinstance(estimator, type) else type(estimator)
    return error(
        f"{cls.__name__} has no parameter {name!r} (scikit-learn's): {hint}. "
        "The user guide's 'Coming from scikit-learn' lists every difference."
    )
