"""Actor-critic for compact MiniGrid grids: conv encoder, policy head, two value heads."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from curiosity.envs.encoding import OBS_PLANES, onehot_planes_batched

POOLED_SIZE = 7  # grids larger than the 7x7 egocentric view are pooled down to this


def layer_init(layer: nn.Module, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Module:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class GridEncoder(nn.Module):
    """One-hot planes -> two 3x3 convs (padding keeps the grid) -> pool to <= 7x7 -> MLP.

    The egocentric 7x7 view is used at full resolution; full-observability grids (up to
    25x25 for MultiRoom) are max-pooled to 7x7 so the flattened size stays small.
    """

    def __init__(self, obs_shape: tuple[int, int, int], channels: int, hidden: int):
        super().__init__()
        h, w, _ = obs_shape
        out_h, out_w = min(h, POOLED_SIZE), min(w, POOLED_SIZE)
        self.conv = nn.Sequential(
            layer_init(nn.Conv2d(OBS_PLANES, channels, 3, padding=1)),
            nn.ReLU(),
            layer_init(nn.Conv2d(channels, channels, 3, padding=1)),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d((out_h, out_w)) if (h, w) != (out_h, out_w) else nn.Identity(),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(layer_init(nn.Linear(channels * out_h * out_w, hidden)), nn.ReLU())

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(onehot_planes_batched(grid)))


class ActorCritic(nn.Module):
    """Policy logits plus extrinsic and intrinsic value estimates from one shared encoder."""

    def __init__(self, obs_shape, num_actions: int, channels: int = 32, hidden: int = 256):
        super().__init__()
        self.encoder = GridEncoder(tuple(obs_shape), channels, hidden)
        self.policy = layer_init(nn.Linear(hidden, num_actions), std=0.01)
        self.value_ext = layer_init(nn.Linear(hidden, 1), std=1.0)
        self.value_int = layer_init(nn.Linear(hidden, 1), std=1.0)

    def forward(self, grid: torch.Tensor):
        z = self.encoder(grid)
        return self.policy(z), self.value_ext(z).squeeze(-1), self.value_int(z).squeeze(-1)

    def values(self, grid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(grid)
        return self.value_ext(z).squeeze(-1), self.value_int(z).squeeze(-1)

    def components(self) -> dict[str, list[nn.Parameter]]:
        """Parameter groups whose gradient norms are logged separately."""
        return {
            "encoder": list(self.encoder.parameters()),
            "policy": list(self.policy.parameters()),
            "value_ext": list(self.value_ext.parameters()),
            "value_int": list(self.value_int.parameters()),
        }
