"""
Early stopping while streaming with partial_fit
===============================================

scikit-learn's ``MLPClassifier`` refuses early stopping with ``partial_fit``. Here chunks of
the digits arrive one at a time; after each call the model is scored on a validation set,
the best weights are kept, and ``patience_exhausted_`` tells the loop when to stop.
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

model = MLPClassifier(hidden_layer_sizes=(64,), batch_size=16, early_stopping=True,
                      n_iter_no_change=10, random_state=0)
chunks = np.array_split(np.arange(len(y_train)), 10)
for calls in range(1, 501):
    chunk = chunks[calls % len(chunks)]
    model.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10),
                      X_val=X_val, y_val=y_val)
    if model.patience_exhausted_:
        break

print(f"stopped after {calls} chunks; test accuracy {model.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, calls + 1), model.validation_scores_, marker="o", ms=3)
ax.axvline(np.argmax(model.validation_scores_) + 1, color="grey", ls="--",
           label="best weights, restored")
ax.set(xlabel="partial_fit call (one chunk)", ylabel="validation score (negative log-loss)")
ax.legend()
fig.tight_layout()
plt.show()
