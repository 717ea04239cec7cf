"""Warnings that point at the user's own call.

A warning raised deep in a fit is only useful at the line that started the fit: the
user's ``model.fit(...)``, ``pipe.fit(...)`` or ``search.fit(...)``, not the inside of
skadam, of scikit-learn's Pipeline or of joblib. :func:`warn` finds that frame when it
warns, however many calls lie between, so no call site counts stack levels.
"""

import sys
import warnings

# Modules whose frames stand between the user's call and the warning.
_LIBRARIES = ("skadam", "sklearn", "joblib", "threadpoolctl")


def warn(message, category):
    """Warn with ``message``, attributed to the first frame outside skadam and its hosts.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning
        The warning's class.

    Examples
    --------
    >>> import warnings
    >>> from skadam._warnings import warn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("careful", UserWarning)
    >>> caught[0].message.args[0], caught[0].category.__name__
    ('careful', 'UserWarning')
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and _is_library(frame):
        frame, level = frame.f_back, level + 1
    if frame is None:  # called from inside the libraries only: point at the caller
        level = 2
    warnings.warn(message, category, stacklevel=level)


def _is_library(frame):
    name = frame.f_globals.get("__name__", "")
    return name.partition(".")[0] in _LIBRARIES
