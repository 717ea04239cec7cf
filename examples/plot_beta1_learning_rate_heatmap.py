"""
A β1 × learning-rate grid search, as a heatmap
==============================================

:class:`~skadam.model_selection.BatchedGridSearchCV` tunes Adam's β1 and learning rate η
for a small network on the digits: the 20 grid points of each fold train side by side, in
one loop over the minibatches, and score as GridSearchCV would score them one by one.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skadam import MLPClassifier
from skadam.model_selection import BatchedGridSearchCV
from skadam.optim import Adam

# A fixed budget of epochs, not a convergence criterion: no warning wanted.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
beta_1 = [0.0, 0.5, 0.8, 0.9, 0.99]
learning_rate = [1e-4, 1e-3, 1e-2, 1e-1]
model = make_pipeline(StandardScaler(),
                      MLPClassifier(hidden_layer_sizes=(32,), solver=Adam(), max_iter=15,
                                    tol=0, numeric_embedding=None, early_stopping=False,
                                    random_state=0))
search = BatchedGridSearchCV(
    model,
    {"mlpclassifier__solver__beta_1": beta_1,
     "mlpclassifier__solver__learning_rate": learning_rate},
    cv=3,
).fit(X, y)
print(f"{search.n_groups_} group; best: {search.best_params_}, "
      f"accuracy {search.best_score_:.3f}")

# ParameterGrid orders the points by key name, the last key varying fastest.
scores = search.cv_results_["mean_test_score"].reshape(len(beta_1), len(learning_rate))
fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
# The scale spans every score: the rate too small for 15 epochs is a column of its own.
low, high = scores.min(), scores.max()
image = ax.imshow(scores, cmap="viridis", vmin=low, vmax=high)
ax.set_xticks(range(len(learning_rate)), [f"{value:g}" for value in learning_rate])
ax.set_yticks(range(len(beta_1)), [f"{value:g}" for value in beta_1])
ax.set_xlabel("learning rate η")
ax.set_ylabel("β1")
for (row, column), value in np.ndenumerate(scores):
    ax.text(column, row, f"{value:.3f}", ha="center", va="center",
            color="black" if value > low + 0.6 * (high - low) else "white", fontsize=8)
fig.colorbar(image, label="mean cross-validated accuracy")
ax.set_title("MLP (32 units) on digits, 15 epochs")
plt.show()
