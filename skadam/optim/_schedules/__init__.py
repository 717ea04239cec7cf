"""Learning-rate schedules: estimators that give each update its step size.

The protocol every schedule follows is :class:`LearningRateSchedule`'s (``_protocol``);
the schedules are grouped by shape. A new schedule is a class in one of these modules
(or a module of its own here) and its tests: the optimizers, the training loop and the
persistence of a fitted model read schedules through the protocol alone.
"""

from ._cosines import CosineEpochSchedule, CosineLogSchedule, WarmupCosineSchedule
from ._decays import ConstantSchedule, ExponentialDecaySchedule, InverseScalingSchedule
from ._plateau import ReduceOnPlateauSchedule
from ._protocol import LearningRateSchedule

__all__ = [
    "ConstantSchedule",
    "CosineEpochSchedule",
    "CosineLogSchedule",
    "ExponentialDecaySchedule",
    "InverseScalingSchedule",
    "LearningRateSchedule",
    "ReduceOnPlateauSchedule",
    "WarmupCosineSchedule",
]
