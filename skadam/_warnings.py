"""Warnings that point at the user's own call.

A warning raised deep in a fit is only useful at the line that started the fit: the
user's ``model.fit(...)``, ``pipe.fit(...)`` or ``search.fit(...)``, not the inside of
skadam, of scikit-learn's Pipeline or of joblib. :func:`warn` finds that frame when it
warns, however many calls lie between, so no call site counts stack levels.

In a worker of a parallel search (``n_jobs``) no frame of the user's code exists: the
warning then points at the host library's call of the estimator (scikit-learn's
cross-validation, say), the frame below skadam's outermost one, rather than at skadam's
insides or at the worker's process machinery.
"""

import sys
import warnings
from pathlib import Path

# Modules whose frames stand between the user's call and the warning.
_LIBRARIES = ("skadam", "sklearn", "joblib", "threadpoolctl", "multiprocessing", "concurrent",
              "threading", "loky", "runpy")
_LIBRARIES_PARTS = frozenset(_LIBRARIES)


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
    host_call = 2  # the level of the frame that called skadam's outermost frame
    while frame is not None and _is_library(frame):
        if _is_skadam(frame):
            host_call = level + 1
        frame, level = frame.f_back, level + 1
    if frame is None:  # no user code on the stack, as in a worker process
        level = host_call
    warnings.warn(message, category, stacklevel=level)


def _is_library(frame):
    if frame.f_globals.get("__name__") == "__main__":
        # A worker process runs its pool's bootstrap as its main module (loky's does).
        return not _LIBRARIES_PARTS.isdisjoint(Path(frame.f_code.co_filename).parts)
    return _package(frame) in _LIBRARIES


def _is_skadam(frame):
    return _package(frame) == "skadam"


def _package(frame):
    return frame.f_globals.get("__name__", "").partition(".")[0]
