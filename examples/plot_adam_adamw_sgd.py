"""
Adam, AdamW and SGD on test error
=================================

Three optimizers train the same network on the digits, epoch by epoch (each
``partial_fit`` call is one epoch and carries the weights and the optimizer's state to the
next, so the calls make one continuous run), and the test error is recorded after each.
AdamW decouples its weight decay from the gradient: the decay shrinks the weights
directly, by ``η λ`` per step, instead of passing through Adam's per-coordinate scaling as
an L2 penalty would.
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

solvers = {
    "Adam": Adam(learning_rate=0.002),
    "AdamW (weight decay 0.05)": AdamW(learning_rate=0.002, weight_decay=0.05),
    "SGD, momentum 0.9": SGD(learning_rate=0.02, momentum=0.9),
}
n_epochs = 40
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name, solver in solvers.items():
    model = MLPClassifier(hidden_layer_sizes=(64,), solver=solver, batch_size=32,
                          random_state=0)
    errors = []
    for _ in range(n_epochs):
        model.partial_fit(X_train, y_train, classes=np.arange(10))
        errors.append(1 - model.score(X_test, y_test))
    ax.plot(np.arange(1, n_epochs + 1), errors, label=f"{name}: {errors[-1]:.3f}")
ax.set_xlabel("epoch")
ax.set_ylabel("test error")
ax.set_yscale("log")
ax.set_title("MLP (64 units) on digits, batch 32")
ax.legend()
plt.show()
