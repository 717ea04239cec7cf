"""Warnings point at the user's call, or, where no user code is on the stack, at the
host library's call of the estimator."""

import threading
import warnings

from skadam._warnings import warn


def _library_function(module, source, name):
    """A function ``name`` defined in ``source`` as if in the library module ``module``."""
    namespace = {"__name__": module, "warn": warn}
    exec(compile(source, f"<{module}>", "exec"), namespace)
    return namespace[name]


def test_a_warning_from_a_library_call_points_at_the_user_line():
    fit = _library_function("sklearn.fake_pipeline", "def fit():\n    warn('x', UserWarning)\n",
                            "fit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    assert caught[0].filename == __file__


def test_without_user_code_the_warning_points_at_the_hosts_call_not_at_skadam():
    # A worker thread: threading's bootstrap, a pool's machinery, scikit-learn's call of
    # the estimator, skadam. No frame of it is the user's.
    estimator_fit = _library_function("skadam.fake_estimator",
                                      "def fit():\n    warn('x', UserWarning)\n", "fit")
    host = _library_function("sklearn.fake_validation", "def fit_and_score(fit):\n    fit()\n",
                             "fit_and_score")
    worker = _library_function("concurrent.fake_worker", """
import warnings
def run(host, fit, caught):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        host(fit)
    caught.extend(seen)
""", "run")
    caught = []
    thread = threading.Thread(target=worker, args=(host, estimator_fit, caught))
    thread.start()
    thread.join()
    assert [warning.filename for warning in caught] == ["<sklearn.fake_validation>"]
