"""Fits on a quiet machine and on a busy one: skadam's and scikit-learn's, side by side.

Usage: python benchmarks/threads.py [--only defaults|products] [--repeats N]

A user's machine is rarely idle. This benchmark starts its own busy loop, one process
spinning on one core for a bounded time, and ends it itself, so that both conditions are
measured in one run:

- ``defaults``: each library's ``MLPClassifier()`` and ``MLPRegressor()`` at their
  defaults, StandardScaler first, one whole fit on each data set (for the classifiers
  those of the issue on fast defaults: scikit-learn's digits, ``make_classification``
  5,000 x 60 and 20,000 x 200; for the regressors ``make_friedman1`` 5,000 x 10 and
  ``make_regression`` 5,000 x 60 and 20,000 x 200), quiet and busy: each side's
  seconds, the busy / quiet ratio and the held-out score (accuracy, R²). Targets:
  skadam's fit at most scikit-learn's quiet, and at most 1.5x its own quiet time when
  busy.
- ``products``: the rule of ``skadam._threads``. One epoch of networks from small to
  large, trained with single-threaded BLAS and with BLAS's own threads, quiet and busy,
  beside the work of a step's products; the rule gives BLAS its threads from
  ``MIN_WORK_FOR_BLAS_THREADS`` on.

The thread setting is the user's (nothing is set in the environment): scikit-learn's MLP
uses BLAS's threads as in any session, skadam decides as its rule does.
"""

import argparse
import os
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.datasets import load_digits, make_classification, make_friedman1, make_regression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from skadam import MLPClassifier, MLPRegressor, _threads

# The busy loop ends itself after this long, whatever happens to this process.
BUSY_SECONDS_AT_MOST = 900
_SPIN = """
import os, sys, time
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {int(sys.argv[1])})
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    pass
"""


@contextmanager
def one_core_busy():
    """One process spinning on the last usable core while in this context."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    spinner = subprocess.Popen([sys.executable, "-c", _SPIN, str(cores[-1]),
                                str(BUSY_SECONDS_AT_MOST)])
    time.sleep(0.5)  # until it spins
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


CLASSIFICATION = {
    "digits": lambda: load_digits(return_X_y=True),
    "5k x 60": lambda: make_classification(5000, 60, n_informative=20, random_state=0),
    "20k x 200": lambda: make_classification(20000, 200, n_informative=40, n_redundant=40,
                                             random_state=0),
}
REGRESSION = {
    "friedman1": lambda: make_friedman1(5000, 10, noise=1.0, random_state=0),
    "5k x 60": lambda: make_regression(5000, 60, n_informative=30, noise=10, random_state=0),
    "20k x 200": lambda: make_regression(20000, 200, n_informative=50, noise=10,
                                         random_state=0),
}
# (skadam's class, scikit-learn's, the data sets, whether to stratify the split)
TASKS = [(MLPClassifier, SklearnMLPClassifier, CLASSIFICATION, True),
         (MLPRegressor, SklearnMLPRegressor, REGRESSION, False)]


def _fit_time(model, X, y, repeats):
    best = np.inf
    for _ in range(repeats):
        fitted = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        fitted.fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best, fitted


def defaults(repeats):
    """Each library's default MLPClassifier and MLPRegressor, quiet and with one core busy."""
    for ours, theirs, data, stratify in TASKS:
        print(f"\nDefault {ours.__name__} fits, quiet and with one core busy (best of "
              f"{repeats}; {'accuracy' if stratify else 'R²'} on a held-out quarter)")
        print(f"{'data':<10} {'library':<8} {'quiet s':>8} {'busy s':>8} {'busy/quiet':>10} "
              f"{'score':>9}  {'skadam/sklearn quiet':>20}")
        models = {"skadam": lambda ours=ours: ours(random_state=0),
                  "sklearn": lambda theirs=theirs: theirs(random_state=0)}
        for name, load in data.items():
            X, y = load()
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, random_state=0, stratify=y if stratify else None)
            quiet, busy, scores = {}, {}, {}
            for library, make in models.items():
                quiet[library], fitted = _fit_time(make(), X_train, y_train, repeats)
                scores[library] = fitted.score(X_test, y_test)
            with one_core_busy():
                for library, make in models.items():
                    busy[library], _ = _fit_time(make(), X_train, y_train, repeats)
            for library in models:
                ratio = ("" if library == "sklearn"
                         else f"{quiet['skadam'] / quiet['sklearn']:.2f}")
                print(f"{name:<10} {library:<8} {quiet[library]:>8.2f} "
                      f"{busy[library]:>8.2f} {busy[library] / quiet[library]:>10.2f} "
                      f"{scores[library]:>9.4f}  {ratio:>20}", flush=True)


NETWORKS = [  # (columns, hidden layers, batch)
    (20, (100,), 128), (100, (100,), 128), (400, (100,), 128), (800, (100,), 128),
    (100, (256, 256), 128), (400, (256, 256), 128), (100, (512, 512), 128),
    (200, (512, 512), 256), (784, (512, 256), 256),
]


def _epoch_time(X, y, hidden, batch, threads, repeats):
    best = np.inf
    for _ in range(repeats):
        model = MLPClassifier(hidden, batch_size=batch, numeric_embedding=None,
                              early_stopping=False, weight_averaging=0, max_iter=1,
                              random_state=0)
        with threadpool_limits(threads, user_api="blas"), \
                _forced(_threads, "MIN_WORK_FOR_BLAS_THREADS", 0 if threads > 1 else np.inf):
            start = time.perf_counter()
            model.fit(X, y)
            best = min(best, time.perf_counter() - start)
    return best


@contextmanager
def _forced(module, name, value):
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def products(repeats):
    """One epoch per network on one BLAS thread and on BLAS's threads, quiet and busy."""
    blas = max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
    print(f"\nOne epoch of 8,192 rows, single-threaded BLAS against BLAS's {blas} threads "
          f"(best of {repeats}); the rule gives BLAS its threads from "
          f"{_threads.MIN_WORK_FOR_BLAS_THREADS:,} multiply-adds a step")
    print(f"{'columns':>7} {'hidden':<11} {'batch':>5} {'work/step':>10}  {'quiet 1':>8} "
          f"{'quiet N':>8} {'busy 1':>8} {'busy N':>8}  rule")
    rng = np.random.default_rng(0)
    cases = []
    for columns, hidden, batch in NETWORKS:
        X = rng.normal(size=(8192, columns))
        y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
        sizes = (columns, *hidden, 1)
        work = batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        cases.append((columns, hidden, batch, work, X, y))
    quiet = {case[:3]: [_epoch_time(case[4], case[5], case[1], case[2], threads, repeats)
                        for threads in (1, blas)] for case in cases}
    with one_core_busy():
        busy = {case[:3]: [_epoch_time(case[4], case[5], case[1], case[2], threads, repeats)
                           for threads in (1, blas)] for case in cases}
    for columns, hidden, batch, work, _, _ in cases:
        key = (columns, hidden, batch)
        rule = f"{blas} threads" if _threads.blas_threads_pay(work) else "1 thread"
        print(f"{columns:>7} {str(hidden):<11} {batch:>5} {work / 1e6:>9.1f}M  "
              f"{quiet[key][0]:>8.3f} {quiet[key][1]:>8.3f} {busy[key][0]:>8.3f} "
              f"{busy[key][1]:>8.3f}  {rule}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["defaults", "products"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{os.cpu_count()} cores, {_threads.N_THREADS} usable by skadam")
    if args.only in (None, "defaults"):
        defaults(args.repeats)
    if args.only in (None, "products"):
        products(args.repeats)


if __name__ == "__main__":
    main()
