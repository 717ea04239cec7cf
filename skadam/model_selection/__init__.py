"""Model selection for skadam estimators: searches that batch optimizer settings."""

from ._search import BatchedGridSearchCV, BatchedRandomizedSearchCV

__all__ = ["BatchedGridSearchCV", "BatchedRandomizedSearchCV"]
