"""Speed of skadam against scikit-learn and torch, as ratios measured in one run.

Usage: python benchmarks/run.py [--only mlp|logistic|adam|memory|search] [--quick]
"""

import argparse
import gc
import os
import sys
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(__file__))
from _timing import best_time, print_table  # noqa: E402

from skadam import LogisticRegression, MLPClassifier  # noqa: E402
from skadam.model_selection import BatchedGridSearchCV  # noqa: E402
from skadam.optim import Adam  # noqa: E402

try:
    import torch
except ImportError:  # torch is the optional `bench` extra
    torch = None

warnings.filterwarnings("ignore", category=ConvergenceWarning)
HIDDEN = (256, 128)
BATCH = 256


def _mlp_data(n_samples, dtype):
    X, y = make_classification(n_samples=n_samples, n_features=100, n_informative=30,
                               n_classes=10, random_state=0)
    return StandardScaler().fit_transform(X).astype(dtype), y


def _epoch_of(model, X, y):
    """Time one more epoch of an already initialised model (partial_fit on all of X)."""
    classes = np.arange(10)
    model.partial_fit(X, y, classes=classes)
    return lambda: model.partial_fit(X, y)


def _torch_epoch(X, y, dtype):
    torch.manual_seed(0)
    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    net = torch.nn.Sequential(
        torch.nn.Linear(100, HIDDEN[0]), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[0], HIDDEN[1]), torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], 10),
    ).to(torch_dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(len(y_t))
        X_p, y_p = X_t[order], y_t[order]
        for start in range(0, len(y_t), BATCH):
            optimizer.zero_grad(set_to_none=False)
            loss = loss_fn(net(X_p[start:start + BATCH]), y_p[start:start + BATCH])
            loss.backward()
            optimizer.step()

    return epoch


def _matmul_floor(X, dtype):
    """The matrix products of one epoch alone, at the real batch shapes, preallocated."""
    sizes = (100, *HIDDEN, 10)
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((a, b)).astype(dtype)
         for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    gW = [np.empty_like(w) for w in W]

    def epoch():
        for start in range(0, X.shape[0], BATCH):
            A = [X[start:start + BATCH]]
            for w in W:
                A.append(np.empty((A[-1].shape[0], w.shape[1]), dtype))
                np.matmul(A[-2], w, out=A[-1])
            delta = A[-1]
            for layer in range(len(W) - 1, -1, -1):
                np.matmul(A[layer].T, delta, out=gW[layer])
                if layer:
                    delta = delta @ W[layer].T

    return epoch


# The network scikit-learn's MLP trains, on all the rows: without skadam's tabular
# defaults (the numeric embedding widens the first layer, early stopping holds out a tenth).
# The network and training scikit-learn's MLP makes: no embedding, no early stopping, the
# last step's weights (benchmarks/README.md gives the cost of the averaged ones).
SAME_NETWORK = {"numeric_embedding": None, "early_stopping": False, "weight_averaging": 0.0}


def bench_mlp(n_samples):
    rows = []
    for dtype, sklearn_target, name in ((np.float64, 0.5, "float64"), (np.float32, 0.3,
                                                                       "float32")):
        X, y = _mlp_data(n_samples, dtype)
        ours = _epoch_of(MLPClassifier(HIDDEN, batch_size=BATCH, random_state=0,
                                       **SAME_NETWORK), X, y)
        theirs = _epoch_of(SklearnMLPClassifier(HIDDEN, batch_size=BATCH, random_state=0),
                           X, y)
        ours_time = best_time(ours)
        rows.append((f"MLP epoch {name} vs sklearn", ours_time, best_time(theirs),
                     sklearn_target))
        torch_time = best_time(_torch_epoch(X, y, dtype)) if torch else None
        rows.append((f"MLP epoch {name} vs torch Adam(fused)", ours_time, torch_time, 1.0))
        rows.append((f"MLP epoch {name} vs matmul floor", ours_time,
                     best_time(_matmul_floor(X, dtype)), 1.3))
    print_table(f"1. MLP classifier epoch: {n_samples} x 100, hidden {HIDDEN}, 10 classes, "
                f"batch {BATCH}", rows)


def bench_logistic(n_samples):
    X, y = make_classification(n_samples=2 * n_samples, n_features=100, n_informative=40,
                               random_state=0)
    X = StandardScaler().fit_transform(X)
    X, X_test, y, y_test = X[:n_samples], X[n_samples:], y[:n_samples], y[n_samples:]
    sgd = SGDClassifier(loss="log_loss", random_state=0)
    sgd.partial_fit(X, y, classes=[0, 1])
    sgd_time = best_time(lambda: sgd.partial_fit(X, y))
    rows = []
    for batch_size in (200, 2000):
        ours = LogisticRegression(batch_size=batch_size, random_state=0)
        ours.partial_fit(X, y, classes=[0, 1])
        rows.append((f"logistic epoch, batch {batch_size}, vs SGDClassifier",
                     best_time(lambda model=ours: model.partial_fit(X, y)), sgd_time, 0.5))

    start = time.perf_counter()
    lbfgs = SklearnLogisticRegression(max_iter=1000).fit(X, y)
    lbfgs_time = time.perf_counter() - start
    goal = log_loss(y_test, lbfgs.predict_proba(X_test)) * 1.005
    # The same objective as lbfgs's C=1: alpha = 1 / n_samples.
    model = LogisticRegression(solver=Adam(learning_rate=0.01), batch_size=2000,
                               alpha=1 / n_samples, random_state=0)
    elapsed, reached = 0.0, np.inf
    for _ in range(50):
        start = time.perf_counter()
        model.partial_fit(X, y, classes=[0, 1])
        elapsed += time.perf_counter() - start
        reached = log_loss(y_test, model.predict_proba(X_test))
        if reached <= goal:
            break
    rows.append((f"to lbfgs's test log-loss +0.5% ({model.n_iter_} epochs)", elapsed,
                 lbfgs_time, 1.0))
    print_table(f"2. Logistic regression: {n_samples} x 100 (test log-loss: lbfgs "
                f"{goal / 1.005:.5f}, skadam {reached:.5f}; Adam(learning_rate=0.01), "
                "batch 2000, training time only)", rows)


def bench_adam(n_params):
    rng = np.random.default_rng(0)
    params, grad = rng.standard_normal(n_params), rng.standard_normal(n_params)
    optimizer = Adam()
    state = optimizer.init_state(params)
    ours = best_time(lambda: optimizer.step(params, grad, state), repeats=10)

    m, v, scratch = np.zeros(n_params), np.zeros(n_params), np.empty(n_params)

    def whole_buffer():
        # The plain in-place numpy form over the whole buffer, for reference.
        np.multiply(m, 0.9, out=m)
        np.multiply(grad, 0.1, out=scratch)
        np.add(m, scratch, out=m)
        np.multiply(v, 0.999, out=v)
        np.multiply(grad, grad, out=scratch)
        np.multiply(scratch, 0.001, out=scratch)
        np.add(v, scratch, out=v)
        np.sqrt(v, out=scratch)
        np.add(scratch, 1e-8, out=scratch)
        np.divide(m, scratch, out=scratch)
        np.multiply(scratch, -1e-3, out=scratch)
        np.add(params, scratch, out=params)

    rows = [("Adam step vs plain whole-buffer numpy", ours, best_time(whole_buffer, repeats=10),
             None)]
    if torch:
        p = torch.from_numpy(rng.standard_normal(n_params)).requires_grad_()
        p.grad = torch.from_numpy(rng.standard_normal(n_params))
        torch_opt = torch.optim.Adam([p], lr=1e-3, fused=True)
        rows.append(("Adam step vs torch Adam(fused)", ours,
                     best_time(torch_opt.step, repeats=10), 2.0))
    else:
        rows.append(("Adam step vs torch Adam(fused)", ours, None, 2.0))
    print_table(f"3. One Adam step over {n_params:,} float64 parameters", rows)


def _peak_memory(fit):
    gc.collect()
    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_memory(n_samples):
    X, y = _mlp_data(n_samples, np.float64)
    ours = _peak_memory(lambda: MLPClassifier(HIDDEN, batch_size=BATCH, max_iter=2,
                                              random_state=0, **SAME_NETWORK).fit(X, y))
    theirs = _peak_memory(lambda: SklearnMLPClassifier(HIDDEN, batch_size=BATCH, max_iter=2,
                                                       random_state=0).fit(X, y))
    print(f"\n4. Peak memory allocated during an MLP fit (2 epochs, {n_samples} x 100, "
          f"float64, data {X.nbytes / 2**20:.1f} MiB not counted)")
    print(f"{'':<46} {'skadam MiB':>10} {'sklearn MiB':>11} {'ratio':>7} {'target':>7}  ok")
    ratio = ours / theirs
    print(f"{'MLP fit peak traced allocation':<46} {ours / 2**20:>10.1f} {theirs / 2**20:>11.1f}"
          f" {ratio:>7.2f} {'<=1':>7}  {'yes' if ratio <= 1 else 'NO'}")


SEARCH_GRID = {
    "solver__beta_1": [0.5, 0.9, 0.99],
    "solver__beta_2": [0.9, 0.99, 0.999],
    "solver__learning_rate": [0.1, 0.01, 0.001],
}


def _search_data(n_samples, n_features, n_informative, n_classes):
    X, y = make_classification(n_samples=n_samples, n_features=n_features,
                               n_informative=n_informative, n_classes=n_classes,
                               random_state=0)
    return StandardScaler().fit_transform(X), y


def bench_search(n_samples):
    wide = _search_data(n_samples // 3, 22, 12, 2)
    narrow = _search_data(n_samples, 40, 20, 3)
    cases = [
        ("LogisticRegression", narrow,
         LogisticRegression(solver=Adam(), max_iter=30, random_state=0), 1 / 8),
        ("MLPClassifier (32,)", narrow,
         MLPClassifier((32,), solver=Adam(), max_iter=10, random_state=0), 1 / 3),
        (f"MLP (32,), {n_samples // 3} x 22", wide,
         MLPClassifier((32,), solver=Adam(), max_iter=10, random_state=0), 1 / 2),
    ]
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    title = (f"5. Grid search, 27 points (beta_1 x beta_2 x learning_rate), cv=3, {n_samples} "
             f"x 40, 3 classes unless said, batch 200, n_jobs=None, BLAS threads {threads}; "
             "one run each")
    rows, notes = [], []
    for name, (X, y), model, target in cases:
        start = time.perf_counter()
        batched = BatchedGridSearchCV(model, SEARCH_GRID, cv=3).fit(X, y)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        reference = GridSearchCV(model, SEARCH_GRID, cv=3).fit(X, y)
        theirs = time.perf_counter() - start
        rows.append((f"{name}: Batched vs GridSearchCV", ours, theirs, target))
        same = all(np.array_equal(batched.cv_results_[key], reference.cv_results_[key])
                   for key in reference.cv_results_ if key.endswith("test_score"))
        notes.append(f"{name}: {batched.n_groups_} group(s), test scores identical: {same}, "
                     f"same best_params_: {batched.best_params_ == reference.best_params_}, "
                     f"speed-up {theirs / ours:.1f}x")
    print_table(title, rows, "\n".join(notes))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["mlp", "logistic", "adam", "memory", "search"])
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke test")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    if torch is None:
        print("torch is not installed: its columns are skipped (pip install -e '.[bench]').")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy "
              f"{np.__version__}")
    benches = {
        "mlp": lambda: bench_mlp(int(50_000 * scale)),
        "logistic": lambda: bench_logistic(int(200_000 * scale)),
        "adam": lambda: bench_adam(int(10_000_000 * scale)),
        "memory": lambda: bench_memory(int(50_000 * scale)),
        "search": lambda: bench_search(int(30_000 * scale)),
    }
    for name, bench in benches.items():
        if args.only in (None, name):
            bench()


if __name__ == "__main__":
    main()
