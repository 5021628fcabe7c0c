"""A batch of transitions, the stateless unit every method scores and trains on."""

from __future__ import annotations

from dataclasses import dataclass

import torch

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
