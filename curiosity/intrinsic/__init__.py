"""Intrinsic rewards: the shared contract, normalization, and the forward-model predictors.

What runs a method (module, optimizer, normalizers, scoring, update schedule, state) is
``curiosity.intrinsic.runtime.IntrinsicRuntime``, imported from there: it builds on the agent
package's minibatch helper, which this package's own modules never need.
"""

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
