"""``python -m skadam``: train a logistic model with each optimizer and compare them.

Minibatch training of binary logistic regression on scikit-learn's breast-cancer data
(standardised), the same batches and initial weights for every optimizer; prints each
one's training log-loss after a few epochs and its test accuracy.
"""

import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam.optim import SGD, Adagrad, Adam, AdamW, RMSprop


def _logistic_loss_and_grad(params, X, y):
    """Mean log-loss of a linear model with intercept, and its gradient."""
    raw = X @ params[:-1] + params[-1]
    # log(1 + exp(-s * raw)) for labels s in {-1, 1}, computed without overflow
    signed = np.where(y == 1, raw, -raw)
    loss = np.mean(np.logaddexp(0.0, -signed))
    residual = (1.0 / (1.0 + np.exp(-raw)) - y) / X.shape[0]
    grad = np.empty_like(params)
    grad[:-1] = X.T @ residual
    grad[-1] = residual.sum()
    return loss, grad


def compare_optimizers(n_epochs=10, batch_size=32, random_state=0):
    """Train with every optimizer on the same batches; return one result row each.

    Parameters
    ----------
    n_epochs : int, default=10
        Passes over the training set.
    batch_size : int, default=32
        Samples per update.
    random_state : int, default=0
        Seed of the split, the initial weights and the batch order.

    Returns
    -------
    rows : list of tuple
        ``(optimizer, train log-loss, test accuracy, seconds)`` per optimizer.

    Examples
    --------
    >>> from skadam.__main__ import compare_optimizers
    >>> rows = compare_optimizers(n_epochs=2)
    >>> [name for name, *_ in rows][:2]
    ['Adam()', 'Adam(amsgrad=True)']
    >>> all(accuracy > 0.9 for _, _, accuracy, _ in rows)
    True
    """
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=random_state, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    rng = np.random.default_rng(random_state)
    initial = rng.normal(scale=0.01, size=X.shape[1] + 1)
    orders = [rng.permutation(len(y_train)) for _ in range(n_epochs)]
    optimizers = [
        Adam(),
        Adam(amsgrad=True),
        Adam(learning_rate=0.01),
        AdamW(learning_rate=0.01),
        SGD(learning_rate=0.05, momentum=0.9),
        SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        RMSprop(learning_rate=0.01),
        Adagrad(learning_rate=0.1),
    ]
    rows = []
    for optimizer in optimizers:
        params = initial.copy()
        state = optimizer.init_state(params, n_decayed=X.shape[1])
        start = time.perf_counter()
        for order in orders:
            for batch in np.array_split(order, max(1, len(order) // batch_size)):
                _, grad = _logistic_loss_and_grad(params, X_train[batch], y_train[batch])
                optimizer.step(params, grad, state)
        seconds = time.perf_counter() - start
        loss, _ = _logistic_loss_and_grad(params, X_train, y_train)
        accuracy = np.mean(((X_test @ params[:-1] + params[-1]) > 0) == y_test)
        rows.append((repr(optimizer), loss, accuracy, seconds))
    return rows


def main():
    """Print the optimizers' comparison table."""
    n_epochs = 10
    print(
        f"Logistic regression on breast cancer (standardised), {n_epochs} epochs, "
        "batch 32, same batches for all"
    )
    print(f"{'optimizer':<54} {'train log-loss':>14} {'test accuracy':>13} {'seconds':>8}")
    for name, loss, accuracy, seconds in compare_optimizers(n_epochs=n_epochs):
        print(f"{name:<54} {loss:>14.4f} {accuracy:>13.3f} {seconds:>8.3f}")


if __name__ == "__main__":
    main()
