"""``forward_resnet``: residual conv blocks predicting the change of the next grid.

A 3x3 stem, ``num_blocks`` residual blocks (conv-ReLU-conv + identity skip, FiLM on the
second conv when ``action_cond=film``) and a 1x1 output conv. Each block widens the
receptive field by 4 cells, so 4 blocks see the whole 7x7 egocentric view from any cell
while the skips keep the deep stack easy to train. Same target and options as
``forward_conv`` (see ``grid_predictor.py``).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn

from curiosity.intrinsic.grid_predictor import GridForwardModel, apply_film
from curiosity.intrinsic.targets import check_positive


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, film=None) -> torch.Tensor:
        h = self.conv2(torch.relu(self.conv1(x)))
        return torch.relu(x + apply_film(h, film))


class ResNetBody(nn.Module):
    def __init__(self, in_channels: int, hidden: int, out_channels: int, num_blocks: int):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(ResidualBlock(hidden) for _ in range(num_blocks))
        self.out = nn.Conv2d(hidden, out_channels, 1)
        nn.init.zeros_(self.out.weight)  # start from "no change" (delta) / uniform logits (next)
        nn.init.zeros_(self.out.bias)
        self.num_film_sites = num_blocks

    def forward(self, x: torch.Tensor, film=None) -> torch.Tensor:
        x = torch.relu(self.stem(x))
        for i, block in enumerate(self.blocks):
            x = block(x, None if film is None else film[i])
        return self.out(x)


class ForwardResNet(GridForwardModel):
    """ResNet forward model; ``num_blocks``: number of residual blocks (2 convs each)."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 num_blocks: int = 4, **options):
        check_positive("num_blocks", num_blocks)
        self.num_blocks = num_blocks
        super().__init__(obs_space, action_space, **options)

    def build_body(self, in_channels: int, hidden_channels: int, out_channels: int) -> nn.Module:
        return ResNetBody(in_channels, hidden_channels, out_channels, self.num_blocks)
