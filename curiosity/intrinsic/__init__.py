"""Intrinsic rewards: the shared contract, normalization, and the forward-model predictors."""

from curiosity.intrinsic.base import IntrinsicModule, TransitionBatch
from curiosity.intrinsic.normalization import (
    IntrinsicRewardNormalizer,
    ObsNormalizer,
    RunningMeanStd,
)

__all__ = [
    "IntrinsicModule",
    "IntrinsicRewardNormalizer",
    "ObsNormalizer",
    "RunningMeanStd",
    "TransitionBatch",
]
