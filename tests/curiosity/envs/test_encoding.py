"""The one-hot planes every network reads: the scatter encoding equals one_hot per channel."""

import torch
import torch.nn.functional as F

from curiosity.envs.encoding import CHANNEL_SIZES, OBS_PLANES, onehot_planes_batched


def reference_planes(grid: torch.Tensor, channels: int) -> torch.Tensor:
    planes = [F.one_hot(grid[..., i].long(), n) for i, n in enumerate(CHANNEL_SIZES[:channels])]
    return torch.cat(planes, dim=-1).permute(0, 3, 1, 2).float()


def random_grids(batch: int, h: int, w: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.stack([torch.randint(0, n, (batch, h, w), generator=g) for n in CHANNEL_SIZES], -1).to(torch.uint8)


def test_planes_match_one_hot_per_channel_with_and_without_direction():
    grid = random_grids(8, 9, 7)
    out = onehot_planes_batched(grid)
    assert out.shape == (8, OBS_PLANES, 9, 7) and out.dtype == torch.float32
    assert torch.equal(out, reference_planes(grid, 4))
    assert torch.equal(onehot_planes_batched(grid, with_direction=False), reference_planes(grid, 3))


def test_every_cell_has_exactly_one_plane_per_channel():
    out = onehot_planes_batched(random_grids(4, 7, 7))
    bounds = [0, *torch.tensor(CHANNEL_SIZES).cumsum(0).tolist()]
    for lo, hi in zip(bounds, bounds[1:]):
        assert torch.all(out[:, lo:hi].sum(1) == 1)
