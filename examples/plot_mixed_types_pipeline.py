"""
Mixed-type tabular data in a ColumnTransformer pipeline
=======================================================

A pandas DataFrame with numeric and categorical columns goes through a
``ColumnTransformer`` (scaling the numbers, one-hot encoding the categories) into a
:class:`~skadam.LogisticRegression` and, in the same pipeline, an
:class:`~skadam.MLPClassifier`. The logistic model's coefficients, named after the
transformer's output features, show what it learnt; the MLP also picks up the effect of
age, which rises and falls again and which no single coefficient can hold.

The MLP monitors validation data of our choosing, passed to the pipeline's ``fit``: with
metadata routing and ``transform_input=["X_val"]`` the pipeline transforms them with the
preprocessing fitted on the training rows, as it does ``X``.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skadam import LogisticRegression, MLPClassifier

# A synthetic loan book: whether a loan is repaid depends on income, debt, age (best in
# mid-life), the contract and the region, with noise.
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
         + 1.5 - 0.006 * (data["age"] - 45) ** 2
         + data["contract"].map({"fixed": 0.5, "variable": 0.0, "interest-only": -1.0})
         + data["region"].map({"north": 0.3, "south": -0.3, "east": 0.0, "west": 0.0}))
repaid = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))

X_train, X_test, y_train, y_test = train_test_split(data, repaid, random_state=0)
X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.2, random_state=0)
preprocess = ColumnTransformer([
    ("numbers", StandardScaler(), ["income", "debt_ratio", "age"]),
    ("categories", OneHotEncoder(), ["contract", "region"]),
])
linear = make_pipeline(preprocess, LogisticRegression(random_state=0)).fit(X_train, y_train)

sklearn.set_config(enable_metadata_routing=True)
mlp = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, random_state=0)
network = Pipeline([("preprocess", preprocess),
                    ("mlp", mlp.set_fit_request(X_val=True, y_val=True))],
                   transform_input=["X_val"])
network.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
sklearn.set_config(enable_metadata_routing=False)

for name, model in (("LogisticRegression", linear), ("MLPClassifier", network)):
    print(f"{name:<19} test accuracy {model.score(X_test, y_test):.3f}, log-loss "
          f"{log_loss(y_test, model.predict_proba(X_test)):.3f}")

fig, (ax, curve) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
names = linear[0].get_feature_names_out()
coef = linear[-1].coef_.ravel()
order = np.argsort(coef)
ax.barh(np.array(names)[order], coef[order],
        color=np.where(coef[order] > 0, "tab:green", "tab:red"))
ax.set_xlabel("coefficient (log-odds of repayment per unit)")
ax.set_title("What the logistic model learnt")

scores = -np.array(network[-1].validation_scores_)
curve.plot(np.arange(1, len(scores) + 1), scores, label="MLP, validation log-loss")
best = int(np.argmin(scores))
curve.plot(best + 1, scores[best], "k*", ms=12, label=f"best epoch ({best + 1}), kept")
linear_loss = log_loss(y_val, linear.predict_proba(X_val))
curve.axhline(linear_loss, color="tab:gray", ls="--",
              label="logistic model (trained on these rows too)")
curve.set_xlabel("epoch")
curve.set_ylabel("validation log-loss")
curve.set_title("The MLP on validation data\nrouted through the pipeline")
curve.legend()
plt.show()
