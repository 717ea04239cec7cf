"""
Adam, AdamW and SGD on test error
=================================

Four ways to train the same network on the digits, epoch by epoch (each ``partial_fit``
call is one epoch and carries the weights and the optimizer's state to the next, so the
calls make one continuous run). After each epoch we record the test error and the size
of the weights, ``||W||``.

Adam with an L2 penalty (``alpha``) and AdamW with decoupled weight decay both keep the
weights small, but not in the same way. The penalty's gradient goes through Adam's
per-coordinate scaling, so weights with large gradients are barely held back; AdamW
shrinks every weight by ``η λ`` per step, outside that scaling. Without either, Adam's
and SGD's weights keep growing as the training loss falls.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam import MLPClassifier
from skadam.optim import SGD, Adam, AdamW

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0,
                                                    stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

runs = {
    "Adam, no penalty": (Adam(learning_rate=0.002), 0.0),
    "Adam, L2 penalty alpha=0.01": (Adam(learning_rate=0.002), 0.01),
    "AdamW, weight decay 0.5": (AdamW(learning_rate=0.002, weight_decay=0.5), 0.0),
    "SGD, momentum 0.9": (SGD(learning_rate=0.02, momentum=0.9), 0.0),
}
n_epochs = 40
epochs = np.arange(1, n_epochs + 1)
fig, (ax_error, ax_norm) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
for name, (solver, alpha) in runs.items():
    # Pixels are wide numeric data: an embedding would only slow this down.
    model = MLPClassifier(hidden_layer_sizes=(64,), solver=solver, alpha=alpha,
                          numeric_embedding=None, batch_size=32, random_state=0)
    errors, norms = [], []
    for _ in range(n_epochs):
        model.partial_fit(X_train, y_train, classes=np.arange(10))
        errors.append(1 - model.score(X_test, y_test))
        norms.append(np.sqrt(sum(np.sum(coef**2) for coef in model.coefs_)))
    ax_error.plot(epochs, errors, label=f"{name}: {errors[-1]:.3f}")
    ax_norm.plot(epochs, norms, label=name)
ax_error.set(xlabel="epoch", ylabel="test error", yscale="log",
             title="Test error (final value in the legend)")
ax_error.legend()
ax_norm.set(xlabel="epoch", ylabel="||W|| of all weight matrices", title="Size of the weights")
ax_norm.legend()
fig.suptitle("MLP (64 units) on digits, batch 32")
plt.show()
