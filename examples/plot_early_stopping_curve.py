"""
Early stopping, with the best epoch marked
==========================================

With ``early_stopping=True`` a tenth of the training data is held out (stratified), the
model is scored on it after every epoch, and training stops once ``n_iter_no_change``
epochs in a row failed to improve the best score by ``tol``. The model keeps the weights of
the best epoch, not those of the last.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skadam import MLPClassifier
from skadam.optim import Adam

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = MLPClassifier(hidden_layer_sizes=(128,), solver=Adam(learning_rate=0.003),
                      early_stopping=True, scoring="accuracy", n_iter_no_change=8,
                      max_iter=300, random_state=0).fit(X_train, y_train)
best = int(np.argmax(model.validation_scores_)) + 1
print(f"stopped after {model.n_iter_} epochs; best epoch {best}; "
      f"test accuracy {model.score(X_test, y_test):.3f}")

epochs = np.arange(1, model.n_iter_ + 1)
fig, loss_axis = plt.subplots(figsize=(6, 4), layout="constrained")
loss_axis.plot(epochs, model.loss_curve_, color="tab:blue", label="training objective")
loss_axis.set_yscale("log")
loss_axis.set_xlabel("epoch")
loss_axis.set_ylabel("training objective", color="tab:blue")
score_axis = loss_axis.twinx()
score_axis.plot(epochs, model.validation_scores_, color="tab:orange",
                label="validation accuracy")
score_axis.set_ylabel("validation accuracy", color="tab:orange")
loss_axis.axvline(best, color="gray", linestyle="--")
score_axis.annotate(f"best epoch {best}: weights kept", (best, max(model.validation_scores_)),
                    xytext=(10, -30), textcoords="offset points",
                    arrowprops={"arrowstyle": "->"})
loss_axis.set_title(f"Stopped after {model.n_iter_} epochs (n_iter_no_change=8)")
plt.show()
