"""Intrinsic rewards: the shared contract, normalization, and the forward-model predictors."""

from curiosity.intrinsic.base import IntrinsicModule
from curiosity.intrinsic.normalization import (
    IntrinsicRewardNormalizer,
    ObsNormalizer,
    RunningMeanStd,
)
from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch

__all__ = [
    "IntrinsicModule",
    "IntrinsicRewardNormalizer",
    "ObsNormalizer",
    "Rollout",
    "RunningMeanStd",
    "TransitionBatch",
]
