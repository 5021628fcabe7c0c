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

from curiosity.envs.encoding import onehot_planes_batched, plane_index


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
        self.update_moments(x.mean(0), x.var(0, unbiased=False), x.shape[0])

    @torch.no_grad()
    def update_moments(self, batch_mean: torch.Tensor, batch_var: torch.Tensor, n: int) -> None:
        """Fold a batch known by its mean, (population) variance and size into the moments."""
        batch_mean, batch_var = batch_mean.double(), batch_var.double()
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

    @torch.no_grad()
    def update_onehot(self, grid: torch.Tensor) -> None:
        """``update(onehot_planes_batched(grid))`` from the compact grids ``(B, H, W, 4)``
        by counting: a 0/1 plane's mean is the share of ones (the same double as the planes'
        mean) and its variance ``mean * (1 - mean)`` (equal to the planes' up to rounding in the
        last bits), without building and converting the B x 24 x H x W planes (~10x faster)."""
        if not self.enabled or grid.shape[0] == 0:
            return
        _, h, w, _ = grid.shape
        channels = self.rms.mean.shape[0]
        cell = torch.arange(h * w, device=grid.device).view(1, h, w, 1) * channels
        counts = torch.bincount((plane_index(grid) + cell).reshape(-1), minlength=h * w * channels)
        mean = counts.double().view(h, w, channels).permute(2, 0, 1) / grid.shape[0]
        self.rms.update_moments(mean, mean * (1.0 - mean), grid.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        mean, std = self.rms.mean.float(), self.rms.std.float()
        return ((x - mean) / (std + 1e-8)).clamp(-self.clip, self.clip)

    @torch.no_grad()
    def _levels(self, value: float) -> torch.Tensor:
        """``forward`` of a plane that is ``value`` everywhere, ``(C, H, W)``: the same float ops."""
        mean, std = self.rms.mean.float(), self.rms.std.float()
        return ((value - mean) / (std + 1e-8)).clamp(-self.clip, self.clip)

    def onehot(self, grid: torch.Tensor) -> torch.Tensor:
        """``forward(onehot_planes_batched(grid))`` for compact grids ``(B, H, W, 4)``, bit for
        bit (same values, same channel-last layout), built without the one-hot planes: a
        one-hot input takes only two values per element, ``forward`` of 0 and of 1, so the
        "off" level is copied out and the "on" level scattered in (~3x faster than one-hot,
        subtract, divide, clamp: the predictors' inputs were a fifth of their scoring)."""
        if not self.enabled:
            return onehot_planes_batched(grid)
        if grid.dim() != 4 or grid.shape[-1] != 4 or tuple(grid.shape[1:3]) != tuple(self.rms.mean.shape[1:]):
            raise ValueError(f"expected compact grids of shape (B, {', '.join(map(str, self.rms.mean.shape[1:]))}, 4), "
                             f"got {tuple(grid.shape)}")
        off = self._levels(0.0).permute(1, 2, 0)  # (H, W, C): the planes' channel-last layout
        on = self._levels(1.0).permute(1, 2, 0)
        shape = (grid.shape[0], *off.shape)
        index = plane_index(grid)
        planes = off.expand(shape).contiguous()
        planes.scatter_(-1, index, on.expand(shape).gather(-1, index))
        return planes.permute(0, 3, 1, 2)


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
