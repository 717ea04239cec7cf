"""skadam: scikit-learn estimators trained by Adam and its relatives.

The optimizers live in :mod:`skadam.optim`.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
