"""
The optimizers on one tabular problem
=====================================

Every optimizer of :mod:`skadam.optim` trains the same logistic regression on the
standardised breast-cancer data: same initial weights, same shuffled minibatches, 30
epochs. Each estimator records the training objective after every epoch in
``loss_curve_``.
"""

import warnings

import matplotlib.pyplot as plt
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

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name, solver in solvers.items():
    model = LogisticRegression(solver=solver, batch_size=32, max_iter=30, tol=0,
                               random_state=0).fit(X, y)
    ax.plot(range(1, model.n_iter_ + 1), model.loss_curve_, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training objective (log-loss + penalty)")
ax.set_yscale("log")
ax.set_title("Logistic regression on breast cancer, batch 32")
ax.legend()
plt.show()
