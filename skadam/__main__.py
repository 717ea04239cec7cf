"""``python -m skadam``: skadam's estimators against scikit-learn's, then the optimizers."""

from skadam._demo import compare_optimizers, compare_with_sklearn


def main():
    """Print both comparison tables."""
    print("skadam and scikit-learn, both with default settings, StandardScaler first,")
    print("5-fold cross-validation (mean test score; seconds for all 5 fits)")
    header = (f"{'estimator':<20} {'data':<14} {'metric':<9} {'skadam':>7} {'sklearn':>8} "
              f"{'skadam s':>9} {'sklearn s':>10}")
    print(header)
    for name, data, metric, ours, theirs, ours_s, theirs_s in compare_with_sklearn():
        print(f"{name:<20} {data:<14} {metric:<9} {ours:>7.4f} {theirs:>8.4f} "
              f"{ours_s:>9.2f} {theirs_s:>10.2f}")
    print()
    print("The optimizers on logistic regression (breast cancer, standardised), 10 epochs of")
    print("batch 32, same initial weights and batches for all")
    print(f"{'optimizer':<54} {'train log-loss':>14} {'seconds':>8}")
    for name, loss, seconds in compare_optimizers():
        print(f"{name:<54} {loss:>14.4f} {seconds:>8.3f}")


if __name__ == "__main__":
    main()
