"""Batched one-hot encoding of compact grids, on whatever device the grids live on."""

from __future__ import annotations

import functools

import torch

from curiosity.envs.wrappers import NUM_COLORS, NUM_DIRECTIONS, NUM_OBJECTS, NUM_STATES

GRID_PLANES = NUM_OBJECTS + NUM_COLORS + NUM_STATES  # 20: the cell content
OBS_PLANES = GRID_PLANES + NUM_DIRECTIONS  # 24: plus the broadcast agent direction
CHANNEL_SIZES = (NUM_OBJECTS, NUM_COLORS, NUM_STATES, NUM_DIRECTIONS)
CHANNEL_OFFSETS = tuple(sum(CHANNEL_SIZES[:i]) for i in range(len(CHANNEL_SIZES)))  # first plane of each


@functools.cache
def _offsets(device: torch.device) -> torch.Tensor:
    """CHANNEL_OFFSETS on ``device``, made once: a new tensor per call would be a host-to-device
    copy at every rollout step on a GPU."""
    with torch.inference_mode(False):  # a normal tensor even when first made in a rollout step
        return torch.tensor(CHANNEL_OFFSETS, device=device)


def onehot_planes_batched(grid: torch.Tensor, with_direction: bool = True) -> torch.Tensor:
    """uint8 ``(B, H, W, 4)`` compact grids -> float ``(B, C, H, W)`` one-hot planes.

    C = 24 with the direction planes, 20 without (the cell content only, which is what the
    forward models predict).
    """
    if grid.dim() != 4 or grid.shape[-1] != 4:
        raise ValueError(f"expected compact grids of shape (B, H, W, 4), got {tuple(grid.shape)}")
    k = 4 if with_direction else 3
    # one scatter into (B, H, W, C) instead of four one_hot + cat + cast (about half the
    # time of the encoder's first layer on CPU); channel-last planes, permuted without a copy
    planes = torch.zeros((*grid.shape[:3], sum(CHANNEL_SIZES[:k])), device=grid.device)
    planes.scatter_(-1, plane_index(grid, k), 1.0)
    return planes.permute(0, 3, 1, 2)


def plane_index(grid: torch.Tensor, k: int = 4) -> torch.Tensor:
    """The "on" plane of each of a cell's first ``k`` channels, ``(..., k)`` int64: where
    ``onehot_planes_batched`` puts its ones along the last (channel-last) axis."""
    return grid[..., :k].long() + _offsets(grid.device)[:k]
