"""Whether a stack of networks trains faster on one thread or on one part per core.

Usage: python benchmarks/parts.py

A fit that trains several networks (an ensemble, the grid points of a batched search)
can cut them into one part per core, each part on its own thread. That pays only when
a part's step has enough work to cover the GIL's hand-offs between the threads: the
loop splits a stack only where each part gets ``skadam._threads.MIN_WORK_PER_PART``
multiply-adds a step. For each shape below this prints the time of the same fit
on one part and on one part per core (the best of three, the two layouts in turn),
how many parts the rule chooses, and whether it chose the faster layout. The two
layouts train the same networks bit for bit; only the time differs. Synthetic data:
this measures speed, not quality.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from skadam import LogisticRegression, MLPClassifier, MLPRegressor, _loop, _threads
from skadam._threads import N_THREADS
from skadam.model_selection import BatchedGridSearchCV

GRID = {"solver__learning_rate": [1e-3, 3e-3, 1e-2], "solver__beta_1": [0.8, 0.9, 0.95]}


def _regression(n_features):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, n_features))
    return X, np.sin(X).sum(axis=1) + 0.1 * rng.normal(size=X.shape[0])


def _cases():
    numeric, wide = _regression(9), _regression(20)
    short = {"max_iter": 15, "early_stopping": False, "n_iter_no_change": 100,
             "random_state": 0}
    for k in (2, 4):
        yield (f"MLPRegressor ensemble_size={k}, 9 embedded columns",
               lambda k=k: MLPRegressor(ensemble_size=k, **short).fit(*numeric))
        yield (f"MLPRegressor ensemble_size={k}, 20 columns, no embedding",
               lambda k=k: MLPRegressor(ensemble_size=k, numeric_embedding=None,
                                        **short).fit(*wide))
        yield (f"MLPRegressor ensemble_size={k}, (256, 256), 9 embedded",
               lambda k=k: MLPRegressor(ensemble_size=k, hidden_layer_sizes=(256, 256),
                                        **short).fit(*numeric))
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for name, model in [("LogisticRegression", LogisticRegression(max_iter=100)),
                        ("MLPClassifier", MLPClassifier(max_iter=30))]:
        yield (f"BatchedGridSearchCV {name}, 9 points, cv=5, breast cancer",
               lambda model=model: BatchedGridSearchCV(model, GRID, cv=5).fit(X, y))


def _times(function, repeats=3):
    """The best time of ``function`` on one part and on one part per core, the two
    taken in turn so that a slow spell of the machine hits both alike, and the number
    of parts the rule gives the stack of its fit."""
    saved, split = _threads.MIN_WORK_PER_PART, _threads.split_rows
    stacks = []  # (rows, work per row, work of a step's products) of each stack trained

    def spy(rows, work_per_row, blas_work):
        stacks.append((len(rows), work_per_row, blas_work))
        return split(rows, work_per_row, blas_work)

    best = {np.inf: np.inf, 1: np.inf}
    _loop.split_rows = spy
    try:
        for _ in range(repeats):
            for threshold in best:
                _threads.MIN_WORK_PER_PART = threshold
                start = time.perf_counter()
                function()
                best[threshold] = min(best[threshold], time.perf_counter() - start)
    finally:
        _threads.MIN_WORK_PER_PART, _loop.split_rows = saved, split
    parts = max(len(split(list(range(rows)), work, blas)) for rows, work, blas in stacks)
    return best[np.inf], best[1], parts


def main():
    warnings.simplefilter("ignore")
    if N_THREADS == 1:
        print("One usable core: every stack trains on one part; nothing to compare.")
        return
    print(f"{N_THREADS} cores; MIN_WORK_PER_PART = {_threads.MIN_WORK_PER_PART:,}")
    print(f"{'fit':<62} {'1 part s':>9} {'per core s':>10} {'rule':>5}  faster chosen")
    agree = 0
    cases = list(_cases())
    for name, function in cases:
        one, every, parts = _times(function)
        right = (parts == 1) == (one <= every)
        close = abs(one - every) <= 0.05 * min(one, every)
        agree += right or close
        verdict = "yes" if right else ("tie" if close else "NO")
        print(f"{name:<62} {one:>9.3f} {every:>10.3f} {parts:>5}  {verdict}", flush=True)
    print(f"the rule chose the faster layout, or one within 5 % of it (a tie), for {agree} "
          f"of {len(cases)} fits")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"{time.perf_counter() - start:.0f} s")
