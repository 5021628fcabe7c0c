"""``forward_conv``: a plain conv stack predicting the change of the next grid.

``num_layers`` 3x3 convs (padding keeps the grid) then a 1x1 output conv. The receptive
field is ``2 * num_layers + 1`` cells: enough for local changes (the agent steps one cell,
a door toggles), not for the egocentric view's 90-degree rotation on a turn, which is what
the ResNet (deeper) and the transformer (global attention) are compared against.
See ``grid_predictor.py`` for the options (target, loss, features, action conditioning).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from curiosity.intrinsic.grid_predictor import GridForwardModel, apply_film
from curiosity.intrinsic.targets import check_positive


class ConvBody(nn.Module):
    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_layers: int):
        super().__init__()
        widths = [in_channels] + [hidden] * num_layers
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:]))
        self.out = nn.Conv2d(hidden, out_channels, 1)
        nn.init.zeros_(self.out.weight)  # start from "no change" (delta) / uniform logits (next)
        nn.init.zeros_(self.out.bias)
        self.num_film_sites = num_layers

    def forward(self, x: torch.Tensor, film=None) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            x = torch.relu(apply_film(conv(x), None if film is None else film[i]))
        return self.out(x)


class ForwardConv(GridForwardModel):
    """Conv forward model; ``num_layers``: number of 3x3 conv layers (receptive field 2n+1)."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 num_layers: int = 3, **options):
        check_positive("num_layers", num_layers)
        self.num_layers = num_layers
        super().__init__(obs_space, action_space, **options)

    def build_body(self, in_channels: int, hidden_channels: int, out_channels: int) -> nn.Module:
        return ConvBody(in_channels, hidden_channels, out_channels, self.num_layers)
