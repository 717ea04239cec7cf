"""skadam: scikit-learn estimators trained by Adam and its relatives.

:class:`LinearRegression`, :class:`LogisticRegression`, :class:`MLPRegressor` and
:class:`MLPClassifier` share one training loop and take any optimizer of
:mod:`skadam.optim` as ``solver``.
"""

from .linear_model import LinearRegression, LogisticRegression
from .neural_network import MLPClassifier, MLPRegressor

__version__ = "0.1.0.dev0"

__all__ = ["LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor",
           "__version__"]
