"""Preallocated (T, N) rollout storage, created once on ``device``."""

from __future__ import annotations

import torch


class RolloutStorage:
    """Holds one rollout of T steps from N envs.

    ``next_obs[t]`` is the true successor of ``obs[t]`` under ``actions[t]`` (the final
    observation where an episode ended), so forward models and value bootstrapping never
    see a reset observation as a successor. ``valid[t]`` is False for rows that are not
    real transitions (a backend's autoreset step); they are excluded from every loss.
    """

    def __init__(self, num_steps: int, num_envs: int, obs_shape, device: torch.device):
        t, n = num_steps, num_envs
        kw = {"device": device}
        self.obs = torch.zeros((t, n, *obs_shape), dtype=torch.uint8, **kw)
        self.next_obs = torch.zeros((t, n, *obs_shape), dtype=torch.uint8, **kw)
        self.actions = torch.zeros((t, n), dtype=torch.long, **kw)
        self.logprobs = torch.zeros((t, n), **kw)
        self.rewards_ext = torch.zeros((t, n), **kw)
        self.rewards_int = torch.zeros((t, n), **kw)  # normalized, filled before GAE
        self.rewards_int_raw = torch.zeros((t, n), **kw)
        self.terminated = torch.zeros((t, n), **kw)
        self.dones = torch.zeros((t, n), **kw)  # terminated or truncated
        self.valid = torch.ones((t, n), **kw)
        self.values_ext = torch.zeros((t, n), **kw)
        self.values_int = torch.zeros((t, n), **kw)
        self.next_values_ext = torch.zeros((t, n), **kw)
        self.next_values_int = torch.zeros((t, n), **kw)
        self.num_steps, self.num_envs = t, n

    def flat(self, name: str) -> torch.Tensor:
        x = getattr(self, name)
        return x.reshape(self.num_steps * self.num_envs, *x.shape[2:])
