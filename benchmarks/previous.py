"""A plain fit (one run) against an earlier commit: the two checkouts timed in turn.

Usage: python benchmarks/previous.py REVISION [--rounds 5] [--quick]

Installs ``REVISION`` of this repository into a temporary directory (``pip install
--target``, which compiles its kernels), then times one epoch of each workload with the
working tree's skadam and with the earlier one in turn, in fresh processes, round after
round: each side's best epoch over all rounds, and their ratio (now / then). Workloads:
an MLP epoch (50k x 100, hidden (256, 128), 10 classes, batch 256, float64) and a
logistic-regression epoch (200k x 100, batch 200).
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WORKER = r"""
import sys, time, warnings
import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler
import skadam

warnings.simplefilter("ignore")
workload, scale = sys.argv[1], float(sys.argv[2])
if workload == "mlp":
    X, y = make_classification(n_samples=int(50_000 * scale), n_features=100,
                               n_informative=30, n_classes=10, random_state=0)
    model = skadam.MLPClassifier((256, 128), batch_size=256, random_state=0)
    # The same network on every revision: without the tabular defaults of later ones.
    same = {"numeric_embedding": None, "early_stopping": False, "weight_averaging": 0.0}
    model.set_params(**{k: v for k, v in same.items() if k in model.get_params()})
    classes = np.arange(10)
else:
    X, y = make_classification(n_samples=int(200_000 * scale), n_features=100,
                               n_informative=40, random_state=0)
    model = skadam.LogisticRegression(batch_size=200, random_state=0)
    classes = np.arange(2)
X = StandardScaler().fit_transform(X)
model.partial_fit(X, y, classes=classes)  # the warm-up epoch
times = []
for _ in range(3):
    start = time.perf_counter()
    model.partial_fit(X, y)
    times.append(time.perf_counter() - start)
print(min(times))
"""


def _install(revision, target):
    source = os.path.join(target, "source")
    os.makedirs(source)
    archive = subprocess.run(["git", "-C", ROOT, "archive", revision], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", source], input=archive, check=True)
    site = os.path.join(target, "site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", site, source], check=True)
    return site


def _epoch(path, workload, scale):
    env = {**os.environ, "PYTHONPATH": path}
    # From a neutral directory, so that the working tree is not imported by accident.
    result = subprocess.run([sys.executable, "-c", WORKER, workload, str(scale)],
                            env=env, cwd=tempfile.gettempdir(), check=True,
                            capture_output=True, text=True)
    return float(result.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="the earlier commit, e.g. HEAD~3")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    with tempfile.TemporaryDirectory() as target:
        then = _install(args.revision, target)
        now = ROOT
        print(f"one epoch, best of 3 per process, {args.rounds} rounds in turn; "
              f"now = working tree, then = {args.revision}")
        print(f"{'workload':<24} {'now s':>8} {'then s':>8} {'now/then':>9}")
        for workload in ("mlp", "logistic"):
            best = {"now": float("inf"), "then": float("inf")}
            for _ in range(args.rounds):
                for side, path in (("now", now), ("then", then)):
                    best[side] = min(best[side], _epoch(path, workload, scale))
            print(f"{workload + ' epoch':<24} {best['now']:>8.4f} {best['then']:>8.4f} "
                  f"{best['now'] / best['then']:>9.3f}")


if __name__ == "__main__":
    main()
