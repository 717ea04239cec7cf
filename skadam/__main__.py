"""``python -m skadam``: skadam against scikit-learn, a search over Adam, the optimizers.

``python -m skadam --plot curves.png`` also draws the optimizers' loss curves.
"""

import argparse
import importlib.util

from skadam._demo import compare_optimizers, compare_with_sklearn, grid_search, plot_loss_curves


def main(argv=None):
    """Print the three reports; with ``--plot FILE``, draw the loss curves too."""
    parser = argparse.ArgumentParser(prog="python -m skadam", description=__doc__)
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw the optimizers' loss curves side by side into this file")
    args = parser.parse_args(argv)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        # Said before the minute the reports take, not after.
        parser.error('--plot needs matplotlib: pip install matplotlib (or the docs extra, '
                     'pip install -e ".[docs]").')

    print("1. skadam and scikit-learn, both with default settings, StandardScaler first,")
    print("   5-fold cross-validation (mean test score; seconds for all 5 fits)")
    print(f"{'estimator':<20} {'data':<14} {'metric':<9} {'skadam':>7} {'sklearn':>8} "
          f"{'skadam s':>9} {'sklearn s':>10}")
    for name, data, metric, ours, theirs, ours_s, theirs_s in compare_with_sklearn():
        print(f"{name:<20} {data:<14} {metric:<9} {ours:>7.4f} {theirs:>8.4f} "
              f"{ours_s:>9.2f} {theirs_s:>10.2f}")

    report = grid_search()
    print()
    print(f"2. Tuning Adam for LogisticRegression on digits: beta_1 x beta_2 x learning_rate, "
          f"{report['n_points']} points, 3-fold")
    best = ", ".join(f"{name}={value}" for name, value in report["best_params"].items())
    print(f"   best setting: {best}")
    print(f"   its cross-validated accuracy {report['best_score']:.4f}, held-out accuracy "
          f"{report['test_score']:.4f}")
    print(f"   BatchedGridSearchCV {report['batched_seconds']:.1f} s, GridSearchCV "
          f"{report['grid_seconds']:.1f} s "
          f"({report['grid_seconds'] / report['batched_seconds']:.1f}x); largest difference "
          f"between their mean test scores {report['max_score_difference']:.1g}")

    rows = compare_optimizers()
    print()
    print("3. The optimizers on logistic regression (breast cancer, standardised), 10 epochs of")
    print("   batch 32, same initial weights and batches for all")
    print(f"{'optimizer':<54} {'train log-loss':>14} {'seconds':>8}")
    for name, loss, seconds, _ in rows:
        print(f"{name:<54} {loss:>14.4f} {seconds:>8.3f}")
    if args.plot:
        plot_loss_curves(rows, args.plot)
        print(f"\nLoss curves drawn into {args.plot}")


if __name__ == "__main__":
    main()
