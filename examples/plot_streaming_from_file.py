"""
Streaming from a file in chunks
===============================

Data too large for memory can be read chunk by chunk, for instance with pandas'
``read_csv(chunksize=...)``, and fed to ``partial_fit``: each call trains one epoch over the
chunk and carries Adam's state on. Here a 60,000-row CSV file is written first, then read
back in chunks of 5,000 rows for two passes; a held-out set scores the model after every
chunk, and the best weights are kept.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from skadam import LogisticRegression

X, y = make_classification(n_samples=65_000, n_features=20, n_informative=10, n_classes=3,
                           random_state=0)
X_val, y_val = X[:5_000], y[:5_000]
path = Path(tempfile.mkdtemp()) / "train.csv"
pd.DataFrame(X[5_000:]).assign(label=y[5_000:]).to_csv(path, index=False)
print(f"wrote {path.stat().st_size / 2**20:.1f} MiB")

model = LogisticRegression(early_stopping=True, n_iter_no_change=5, random_state=0)
seen = []
for _ in range(2):  # two passes over the file
    for chunk in pd.read_csv(path, chunksize=5_000):
        X_chunk = chunk.drop(columns="label").to_numpy()
        model.partial_fit(X_chunk, chunk["label"].to_numpy(), classes=[0, 1, 2],
                          X_val=X_val, y_val=y_val)
        seen.append(len(chunk) + (seen[-1] if seen else 0))
        if model.patience_exhausted_:
            break
    if model.patience_exhausted_:
        break
print(f"{model.n_iter_} chunks, best validation score {model.best_validation_score_:.4f}")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.plot(np.array(seen) / 1000, -np.array(model.validation_scores_), marker="o")
best = int(np.argmax(model.validation_scores_))
ax.plot(seen[best] / 1000, -model.validation_scores_[best], "r*", markersize=14,
        label="best: weights kept")
ax.set_xlabel("rows read (thousands)")
ax.set_ylabel("validation log-loss")
ax.set_title("LogisticRegression.partial_fit over a CSV file,\n5,000 rows a chunk")
ax.legend()
plt.show()
