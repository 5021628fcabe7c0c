"""Normalization that lives once, outside the methods, switchable per run.

- ``RunningMeanStd``: parallel-algorithm running moments (Chan et al.), on ``device``.
- ``ObsNormalizer``: predictor inputs -> (x - mean) / std, clipped to [-5, 5] (RND).
- ``IntrinsicRewardNormalizer``: divide rewards by the running std of the *discounted
  intrinsic return*, computed along time per env (RND; not over the env axis, the bug of
  CleanRL issue #360), without subtracting a mean.
"""

from __future__ import annotations

import torch
from torch import nn


class RunningMeanStd(nn.Module):
    def __init__(self, shape=(), device=None, epsilon: float = 1e-4):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64, device=device))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float64, device=device))
        self.register_buffer("count", torch.tensor(epsilon, dtype=torch.float64, device=device))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Fold a batch (first dim = samples) into the moments."""
        x = x.double()
        batch_mean, batch_var, n = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        m2 = self.var * self.count + batch_var * n + delta.pow(2) * self.count * n / total
        self.mean += delta * n / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    @property
    def std(self) -> torch.Tensor:
        return self.var.sqrt()


class ObsNormalizer(nn.Module):
    """Per-element normalization of predictor input planes, clipped to [-clip, clip]."""

    def __init__(self, shape, device=None, clip: float = 5.0, enabled: bool = True):
        super().__init__()
        self.rms = RunningMeanStd(shape, device=device)
        self.clip = clip
        self.enabled = enabled

    def update(self, x: torch.Tensor) -> None:
        if self.enabled:
            self.rms.update(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        mean, std = self.rms.mean.float(), self.rms.std.float()
        return ((x - mean) / (std + 1e-8)).clamp(-self.clip, self.clip)


class IntrinsicRewardNormalizer(nn.Module):
    """Scales (T, N) intrinsic rewards by the running std of discounted returns along time."""

    def __init__(self, num_envs: int, gamma: float, device=None, enabled: bool = True):
        super().__init__()
        self.gamma = gamma
        self.enabled = enabled
        self.rms = RunningMeanStd((), device=device)
        self.register_buffer("returns", torch.zeros(num_envs, dtype=torch.float64, device=device))

    @torch.no_grad()
    def discounted_returns(self, rewards: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Run the filter r_t + gamma * R_{t-1} over the time axis (dim 0), one value per env."""
        out = torch.empty_like(rewards, dtype=torch.float64)
        for t in range(rewards.shape[0]):
            self.returns.mul_(self.gamma).add_(rewards[t].double() * valid[t].double())
            out[t] = self.returns
        return out

    @torch.no_grad()
    def forward(self, rewards: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return rewards
        returns = self.discounted_returns(rewards, valid)
        self.rms.update(returns[valid.bool()].reshape(-1))
        return (rewards / (self.rms.std.float() + 1e-8)) * valid
