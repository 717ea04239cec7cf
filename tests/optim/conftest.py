"""Fixtures of the optimizer tests."""

import pytest
from matrix import OPTIMIZERS
from sklearn.base import clone


@pytest.fixture(params=list(OPTIMIZERS), ids=list(OPTIMIZERS))
def optimizer(request):
    """A fresh copy of every optimizer configuration in turn."""
    return clone(OPTIMIZERS[request.param])
