"""Model selection for skadam estimators: a grid search that batches optimizer settings."""

from ._search import BatchedGridSearchCV

__all__ = ["BatchedGridSearchCV"]
