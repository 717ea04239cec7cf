"""
The optimizers on one tabular problem
=====================================

Every optimizer of :mod:`skadam.optim` trains the same logistic regression on the
standardised breast-cancer data: same initial weights, same shuffled minibatches, 30
epochs. Each estimator records the training objective after every epoch in
``loss_curve_``.

On this convex, well-scaled problem Adam's relatives land within a fraction of a
percent of Adam: AMSGrad's running maximum of ``v`` only ever shrinks a step, and
AdamW's decay of ``η λ = 1e-4`` per step is small beside the penalty. The left panel
shows all six; the right one zooms in on the three that coincide there, as the
percentage by which their objective exceeds Adam's.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skadam import LogisticRegression
from skadam.optim import SGD, Adagrad, Adam, AdamW, RMSprop

# A fixed budget of epochs, not a convergence criterion: no warning wanted.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)

solvers = {
    "Adam": Adam(learning_rate=0.01),
    "AMSGrad": Adam(learning_rate=0.01, amsgrad=True),
    "AdamW": AdamW(learning_rate=0.01, weight_decay=0.01),
    "SGD + momentum": SGD(learning_rate=0.05, momentum=0.9),
    "RMSprop": RMSprop(learning_rate=0.01),
    "Adagrad": Adagrad(learning_rate=0.1),
}

styles = {"Adam": "-", "AMSGrad": "--", "AdamW": ":", "SGD + momentum": "-",
          "RMSprop": "-", "Adagrad": "-"}
curves = {}
for name, solver in solvers.items():
    model = LogisticRegression(solver=solver, batch_size=32, max_iter=30, tol=0,
                               random_state=0).fit(X, y)
    curves[name] = np.array(model.loss_curve_)

fig, (ax, zoom) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
epochs = np.arange(1, 31)
for name, curve in curves.items():
    ax.plot(epochs, curve, styles[name], label=name, linewidth=2)
ax.set_xlabel("epoch")
ax.set_ylabel("training objective (log-loss + penalty)")
ax.set_yscale("log")
ax.set_title("All six optimizers")
ax.legend()
for name in ("AMSGrad", "AdamW"):
    zoom.plot(epochs, 100 * (curves[name] / curves["Adam"] - 1), styles[name], label=name,
              linewidth=2, color=ax.lines[list(curves).index(name)].get_color())
zoom.axhline(0, color=ax.lines[0].get_color(), label="Adam")
zoom.set_xlabel("epoch")
zoom.set_ylabel("objective above Adam's (%)")
zoom.set_title("Adam's relatives, relative to Adam")
zoom.legend()
fig.suptitle("Logistic regression on breast cancer, batch 32")
plt.show()
