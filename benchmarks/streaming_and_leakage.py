"""Two correctness figures side by side with scikit-learn's peers.

1. A stream that opens with one class: digits (standardised), a first ``partial_fit``
   chunk of only zeros, then five shuffled passes in 9 chunks each; accuracy on all of
   digits, next to the same stream opened by a chunk of all classes.
2. Held-out targets and the training: early stopping holds out ``validation_fraction``
   of diabetes; adding 1000 to the held-out targets must not change the predictions on
   the training rows. The early-stopping scorer rates later epochs higher, so that both
   fits keep their last epoch and any difference comes from the held-out targets
   reaching the training.

Run ``python benchmarks/streaming_and_leakage.py``.
"""

import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.preprocessing import StandardScaler

from skadam import LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor


def stream_accuracy(model, X, y, opening):
    rng = np.random.RandomState(0)
    first = np.flatnonzero(y == 0) if opening == "zeros" else rng.permutation(len(y))[:178]
    model.partial_fit(X[first], y[first], classes=np.arange(10))
    for _ in range(5):
        for chunk in np.array_split(rng.permutation(len(y)), 9):
            model.partial_fit(X[chunk], y[chunk])
    return model.score(X, y)


def held_out_effect(model, X, y):
    held_out = []

    def later_epochs_score_higher(estimator, X_val, y_val):
        held_out.append(X_val)
        return float(estimator.n_iter_)

    model.set_params(early_stopping=True, scoring=later_epochs_score_higher, random_state=0)
    before = model.fit(X, y).predict(X)
    is_held_out = (X[:, None, :] == held_out[0][None, :, :]).all(axis=2).any(axis=1)
    after = model.fit(X, np.where(is_held_out, y + 1000.0, y)).predict(X)
    return np.abs(after - before)[~is_held_out].max()


def main():
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    print("1. digits stream, accuracy after a first chunk of ...   only zeros   all classes")
    for name, make in [
        ("skadam MLPClassifier", lambda: MLPClassifier(random_state=0)),
        ("sklearn MLPClassifier", lambda: SklearnMLPClassifier(random_state=0)),
        ("skadam LogisticRegression", lambda: LogisticRegression(random_state=0)),
        ("sklearn SGDClassifier(log_loss)",
         lambda: SGDClassifier(loss="log_loss", random_state=0)),
    ]:
        print(f"   {name:52s} {stream_accuracy(make(), X, y, 'zeros'):11.3f}"
              f" {stream_accuracy(make(), X, y, 'mixed'):13.3f}")
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    print("\n2. diabetes, +1000 on the held-out targets: largest change of a training "
          "row's prediction")
    for name, model in [("LinearRegression", LinearRegression(max_iter=200)),
                        ("MLPRegressor", MLPRegressor(max_iter=200))]:
        print(f"   {name:20s} {held_out_effect(model, X, y):.3g}")


if __name__ == "__main__":
    main()
