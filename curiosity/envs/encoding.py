"""Batched one-hot encoding of compact grids, on whatever device the grids live on."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from curiosity.envs.wrappers import NUM_COLORS, NUM_DIRECTIONS, NUM_OBJECTS, NUM_STATES

GRID_PLANES = NUM_OBJECTS + NUM_COLORS + NUM_STATES  # 20: the cell content
OBS_PLANES = GRID_PLANES + NUM_DIRECTIONS  # 24: plus the broadcast agent direction
CHANNEL_SIZES = (NUM_OBJECTS, NUM_COLORS, NUM_STATES, NUM_DIRECTIONS)


def onehot_planes_batched(grid: torch.Tensor, with_direction: bool = True) -> torch.Tensor:
    """uint8 ``(B, H, W, 4)`` compact grids -> float ``(B, C, H, W)`` one-hot planes.

    C = 24 with the direction planes, 20 without (the cell content only, which is what the
    forward models predict).
    """
    if grid.dim() != 4 or grid.shape[-1] != 4:
        raise ValueError(f"expected compact grids of shape (B, H, W, 4), got {tuple(grid.shape)}")
    g = grid.long()
    sizes = CHANNEL_SIZES if with_direction else CHANNEL_SIZES[:3]
    planes = [F.one_hot(g[..., i], n) for i, n in enumerate(sizes)]
    return torch.cat(planes, dim=-1).permute(0, 3, 1, 2).float()
