"""What the predictor sees when it is not what the policy sees (``method.predictor_full_obs``).

``PredictorView`` keeps a ``(T, N, W, H, 4)`` copy of the fully observed grid beside the
rollout storage: ``obs[t]`` is the full grid the policy acted in at step t, ``next_obs[t]``
its true successor (the final grid where an episode ended, from
``info["next_full_grid"]``), so autoreset jumps never appear here either. The env must be
built with ``full_grid_info=True`` (``curiosity.envs.full_grid``).
"""

from __future__ import annotations

import numpy as np
import torch


class PredictorView:
    def __init__(self, num_steps: int, num_envs: int, grid_shape, device: torch.device):
        shape = (num_steps, num_envs, *grid_shape)
        self.obs = torch.zeros(shape, dtype=torch.uint8, device=device)
        self.next_obs = torch.zeros(shape, dtype=torch.uint8, device=device)
        self.current = torch.zeros(shape[1:], dtype=torch.uint8, device=device)
        self.num_steps, self.num_envs, self.device = num_steps, num_envs, device

    def start(self, info: dict) -> None:
        """After a reset: the full grids the next actions are taken in."""
        self.current.copy_(torch.as_tensor(info["full_grid"], device=self.device))

    def advance(self, info: dict) -> torch.Tensor:
        """After a step outside the rollout (obs-norm warm-up): the successors' full grids."""
        nxt = torch.as_tensor(info["next_full_grid"], device=self.device)
        self.current.copy_(torch.as_tensor(info["full_grid"], device=self.device))
        return nxt

    def record(self, step: int, info: dict) -> None:
        """After rollout step ``step``: store (grid acted in, successor), move to the next grid."""
        self.obs[step] = self.current
        self.next_obs[step] = torch.as_tensor(info["next_full_grid"], device=self.device)
        self.current.copy_(torch.as_tensor(info["full_grid"], device=self.device))

    def flat(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.num_steps * self.num_envs
        return self.obs.reshape(n, *self.obs.shape[2:]), self.next_obs.reshape(n, *self.next_obs.shape[2:])

    def state(self) -> np.ndarray:
        return self.current.cpu().numpy()

    def load(self, current: np.ndarray) -> None:
        self.current.copy_(torch.as_tensor(current, device=self.device))
