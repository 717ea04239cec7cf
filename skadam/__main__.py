"""``python -m skadam``: skadam against scikit-learn at their defaults, streaming with early
stopping, a batched search over Adam, where a closed-form solver wins, the optimizers.

``python -m skadam --plot curves.png`` also draws the optimizers' loss curves.
"""

import argparse
import importlib.util

from skadam._demo import (
    LINEAR_PAIRS,
    MLP_PAIRS,
    compare_optimizers,
    compare_with_sklearn,
    grid_search,
    plot_loss_curves,
    stream_with_early_stopping,
)


def _print_comparison(rows):
    print(f"{'estimator':<20} {'data':<14} {'metric':<9} {'skadam':>7} {'sklearn':>8} "
          f"{'skadam s':>9} {'sklearn s':>10} {'speed-up':>9}")
    for name, data, metric, ours, theirs, ours_s, theirs_s in rows:
        print(f"{name:<20} {data:<14} {metric:<9} {ours:>7.4f} {theirs:>8.4f} "
              f"{ours_s:>9.2f} {theirs_s:>10.2f} {theirs_s / ours_s:>8.1f}x")


def main(argv=None):
    """Print the five reports; with ``--plot FILE``, draw the loss curves too."""
    parser = argparse.ArgumentParser(prog="python -m skadam", description=__doc__)
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw the optimizers' loss curves side by side into this file")
    args = parser.parse_args(argv)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        # Said before the seconds the reports take, not after.
        parser.error('--plot needs matplotlib: pip install matplotlib (or the docs extra, '
                     'pip install -e ".[docs]").')

    print("1. The MLPs: skadam's and scikit-learn's, both at their defaults, StandardScaler")
    print("   first, 5-fold cross-validation (mean test score; seconds for all 5 fits)")
    rows = compare_with_sklearn(MLP_PAIRS)
    _print_comparison(rows)
    ours_s, theirs_s = sum(row[5] for row in rows), sum(row[6] for row in rows)
    ahead = sum(row[3] >= row[4] for row in rows)
    print(f"   skadam: {ours_s:.1f} s in all against {theirs_s:.1f} s "
          f"({theirs_s / ours_s:.1f}x as fast), a score at least as good on {ahead} of "
          f"{len(rows)}.")
    if any(row[0] == "MLPRegressor" for row in rows):
        print("   scikit-learn's MLPRegressor fits the target as it comes (diabetes: 25 to 346)")
        print("   and ends its 200 epochs far from a fit; skadam's regressors standardise the")
        print("   target and report predictions in its units.")

    report = stream_with_early_stopping()
    print()
    print(f"2. Streaming digits in chunks of 200 rows with partial_fit, up to "
          f"{report['n_chunks']} chunks:")
    print(f"   skadam scores held-out data after each chunk and stopped after "
          f"{report['calls']} (patience {report['patience']}),")
    print(f"   its best weights restored: accuracy {report['accuracy']['skadam']:.4f} in "
          f"{report['seconds']['skadam']:.2f} s.")
    print(f"   scikit-learn's partial_fit cannot stop early: after all {report['n_chunks']} "
          f"chunks, accuracy {report['accuracy']['sklearn']:.4f} in "
          f"{report['seconds']['sklearn']:.2f} s.")

    report = grid_search()
    print()
    print(f"3. Tuning Adam for LogisticRegression on digits: beta_1 x beta_2 x learning_rate, "
          f"{report['n_points']} points, 3-fold")
    best = ", ".join(f"{name}={value}" for name, value in report["best_params"].items())
    print(f"   best setting: {best}")
    print(f"   its cross-validated accuracy {report['best_score']:.4f}, held-out accuracy "
          f"{report['test_score']:.4f}")
    print(f"   BatchedGridSearchCV {report['batched_seconds']:.1f} s, GridSearchCV "
          f"{report['grid_seconds']:.1f} s "
          f"({report['grid_seconds'] / report['batched_seconds']:.1f}x); largest difference "
          f"between their mean test scores {report['max_score_difference']:.1g}")

    print()
    print("4. The linear models against scikit-learn's closed-form least squares and L-BFGS,")
    print("   same protocol as 1")
    rows = compare_with_sklearn(LINEAR_PAIRS)
    _print_comparison(rows)
    slower = [row for row in rows if row[5] > row[6]]
    if slower:
        print(f"   On problems this small a closed-form or second-order solver wins: "
              f"scikit-learn was faster on {len(slower)} of {len(rows)}.")
        print("   Adam's minibatches pay where those cannot go: data that come as a stream")
        print("   (partial_fit, with early stopping as in 2), and many fits at once (3).")

    rows = compare_optimizers()
    print()
    print("5. The optimizers on logistic regression (breast cancer, standardised), 10 epochs of")
    print("   batch 32, same initial weights and batches for all")
    print(f"{'optimizer':<54} {'train log-loss':>14} {'seconds':>8}")
    for name, loss, seconds, _ in rows:
        print(f"{name:<54} {loss:>14.4f} {seconds:>8.3f}")
    if args.plot:
        plot_loss_curves(rows, args.plot)
        print(f"\nLoss curves drawn into {args.plot}")


if __name__ == "__main__":
    main()
