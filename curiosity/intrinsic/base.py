"""The contract every intrinsic-reward method implements.

Forward models (``curiosity.intrinsic``) and baselines (``baselines/``) are ``nn.Module``
subclasses of :class:`IntrinsicModule`, built by ``hydra.utils.instantiate`` from
``method.module`` with ``obs_space`` and ``action_space`` passed in. The trainer owns
normalization (observation and reward), the optimizer and the update schedule; a method
only maps transitions to a raw reward and to its own loss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import gymnasium as gym
import torch
from torch import nn

from curiosity.envs.encoding import onehot_planes_batched


@dataclass
class TransitionBatch:
    """B transitions, all on one device.

    ``obs``/``next_obs`` are the compact uint8 grids ``(B, H, W, 4)`` (targets for models
    that predict the grid); ``obs_input``/``next_obs_input`` are float one-hot planes
    ``(B, C, H, W)``, normalized by the trainer when ``method.obs_norm`` is on (inputs).
    """

    obs: torch.Tensor
    action: torch.Tensor
    next_obs: torch.Tensor
    obs_input: torch.Tensor
    next_obs_input: torch.Tensor

    def __len__(self) -> int:
        return self.action.shape[0]

    @classmethod
    def from_grids(cls, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor,
                   normalize=None) -> TransitionBatch:
        """The batch the trainer, renderer and diagnostic all score: one-hot planes of the
        grids as inputs, passed through ``normalize`` (an ObsNormalizer) when given."""
        norm = normalize if normalize is not None else (lambda x: x)
        return cls(obs=obs, action=action, next_obs=next_obs,
                   obs_input=norm(onehot_planes_batched(obs)),
                   next_obs_input=norm(onehot_planes_batched(next_obs)))

    def index(self, idx: torch.Tensor) -> TransitionBatch:
        return TransitionBatch(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


class IntrinsicModule(nn.Module, ABC):
    """Maps transitions to a raw intrinsic reward and trains itself on them."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete):
        super().__init__()
        self.obs_shape = tuple(obs_space.shape)  # (H, W, 4) compact grid
        self.num_actions = int(action_space.n)

    @abstractmethod
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        """Raw (unnormalized) intrinsic reward per transition, shape ``(B,)``; no grad."""

    @abstractmethod
    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """The method's own training loss on ``batch`` and scalar metrics to log."""
