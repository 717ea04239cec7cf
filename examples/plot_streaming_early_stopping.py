"""
Early stopping while streaming with partial_fit
===============================================

scikit-learn's ``MLPClassifier`` refuses early stopping with ``partial_fit``. Here chunks of
the digits arrive one at a time; after each call the model is scored on a validation set,
the best weights are kept, and ``patience_exhausted_`` tells the loop when to stop.

The validation loss falls fast over the first chunks and slowly after: the left panel
shows it on a log scale, the right one the last calls, where the model stops after
``n_iter_no_change`` calls without progress and goes back to its best weights.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam import MLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.2,
                                                  random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))

# Pixels are wide numeric data: no numeric embedding.
model = MLPClassifier(hidden_layer_sizes=(64,), batch_size=16, early_stopping=True,
                      n_iter_no_change=10, numeric_embedding=None, random_state=0)
chunks = np.array_split(np.arange(len(y_train)), 10)
for calls in range(1, 501):
    chunk = chunks[calls % len(chunks)]
    model.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10),
                      X_val=X_val, y_val=y_val)
    if model.patience_exhausted_:
        break

print(f"stopped after {calls} chunks; test accuracy {model.score(X_test, y_test):.3f}")

losses = -np.array(model.validation_scores_)
calls_made = np.arange(1, calls + 1)
best = int(np.argmin(losses)) + 1
fig, (ax, tail) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax.plot(calls_made, losses, marker="o", ms=3)
ax.set(xlabel="partial_fit call (one chunk)", ylabel="validation log-loss", yscale="log",
       title="Every call")
last = calls_made > calls - 40
tail.plot(calls_made[last], losses[last], marker="o", ms=4)
tail.axvspan(best, calls, color="tab:orange", alpha=0.15,
             label=f"{model.n_iter_no_change} calls without progress")
for panel in (ax, tail):
    panel.axvline(best, color="grey", ls="--", label="best weights, restored")
tail.set(xlabel="partial_fit call (one chunk)", ylabel="validation log-loss",
         title=f"The last 40 calls: stopped after call {calls}")
tail.legend()
plt.show()
