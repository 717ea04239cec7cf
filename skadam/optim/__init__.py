"""Pluggable optimizers for skadam's estimators: Adam and its relatives.

Each optimizer is a scikit-learn ``BaseEstimator`` holding hyperparameters only; the
moving parts of a run live in the :class:`OptimizerState` that :meth:`Optimizer.init_state`
returns and :meth:`Optimizer.step` advances in place on one flat parameter buffer.
"""

from ._adam import Adam, AdamW
from ._adaptive import Adagrad, RMSprop
from ._base import Optimizer, OptimizerState
from ._schedules import (
    ConstantSchedule,
    CosineEpochSchedule,
    CosineLogSchedule,
    ExponentialDecaySchedule,
    InverseScalingSchedule,
    LearningRateSchedule,
    ReduceOnPlateauSchedule,
    WarmupCosineSchedule,
)
from ._sgd import SGD

__all__ = [
    "Adagrad",
    "Adam",
    "AdamW",
    "ConstantSchedule",
    "CosineEpochSchedule",
    "CosineLogSchedule",
    "ExponentialDecaySchedule",
    "InverseScalingSchedule",
    "LearningRateSchedule",
    "Optimizer",
    "OptimizerState",
    "RMSprop",
    "ReduceOnPlateauSchedule",
    "SGD",
    "WarmupCosineSchedule",
]
