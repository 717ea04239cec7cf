"""
Mixed-type tabular data in a ColumnTransformer pipeline
=======================================================

A pandas DataFrame with numeric and categorical columns goes through a
``ColumnTransformer`` (scaling the numbers, one-hot encoding the categories) into a
:class:`~skadam.LogisticRegression`. The fitted model's coefficients, named after the
transformer's output features, show what it learnt.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skadam import LogisticRegression

# A synthetic loan book: whether a loan is repaid depends on income, debt, the contract
# and the region, with noise.
rng = np.random.default_rng(0)
n = 3000
data = pd.DataFrame({
    "income": rng.lognormal(10, 0.5, n),
    "debt_ratio": rng.uniform(0, 1, n),
    "age": rng.integers(20, 70, n),
    "contract": rng.choice(["fixed", "variable", "interest-only"], n, p=[0.6, 0.3, 0.1]),
    "region": rng.choice(["north", "south", "east", "west"], n),
})
logit = (1.5 * (np.log(data["income"]) - 10) - 3 * (data["debt_ratio"] - 0.5)
         + data["contract"].map({"fixed": 0.5, "variable": 0.0, "interest-only": -1.0})
         + data["region"].map({"north": 0.3, "south": -0.3, "east": 0.0, "west": 0.0}))
repaid = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))

X_train, X_test, y_train, y_test = train_test_split(data, repaid, random_state=0)
preprocess = ColumnTransformer([
    ("numbers", StandardScaler(), ["income", "debt_ratio", "age"]),
    ("categories", OneHotEncoder(), ["contract", "region"]),
])
model = make_pipeline(preprocess, LogisticRegression(random_state=0)).fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

names = model[0].get_feature_names_out()
coef = model[-1].coef_.ravel()
order = np.argsort(coef)
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.barh(np.array(names)[order], coef[order],
        color=np.where(coef[order] > 0, "tab:green", "tab:red"))
ax.set_xlabel("coefficient (log-odds of repayment per unit)")
ax.set_title("What the model learnt from mixed-type columns")
plt.show()
