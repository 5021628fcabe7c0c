"""Random Network Distillation (Burda et al. 2018, "Exploration by Random Network Distillation").

A fixed, randomly initialised *target* network embeds the next observation; a trained
*predictor* regresses that embedding. The prediction error is high on observations unlike
those the predictor was trained on, and it is the intrinsic reward.

What the paper prescribes and where it lives here:

- reward = squared error of predictor vs target on the normalized next observation
  (this module; mean over embedding dimensions: the scale is irrelevant once the trainer
  divides by the running std of intrinsic returns);
- observation normalization, clip [-5, 5], statistics initialised from random-agent steps,
  intrinsic-return normalization, non-episodic intrinsic stream with gamma_int 0.99,
  int/ext coefficients 1/2, update proportion: the trainer, set in ``conf/method/rnd.yaml``.

MiniGrid fit: the Atari nets (8x8/4x4 strided convs on 84x84 frames, 512-d output) become
3x3 convs on the one-hot grid planes (7x7 egocentric view, up to 25x25 full view), two of
them strided so a full-view grid still flattens to a few hundred units, and a 128-d output.
As in the paper, the target and the predictor share the conv trunk shape, the predictor
has two extra fully connected layers, all layers use orthogonal init (gain sqrt(2)), and
the convs use LeakyReLU.
"""

from __future__ import annotations

import math

import gymnasium as gym
import torch
from torch import nn

from curiosity.envs.encoding import OBS_PLANES
from curiosity.intrinsic import IntrinsicModule, TransitionBatch


def _orthogonal(layer: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _conv_trunk(in_planes: int, height: int, width: int, channels: int) -> tuple[nn.Sequential, int]:
    """3x3 convs (stride 1, 2, 2) with LeakyReLU; returns the trunk and its flat output size."""
    trunk = nn.Sequential(
        _orthogonal(nn.Conv2d(in_planes, channels, 3, stride=1, padding=1)),
        nn.LeakyReLU(),
        _orthogonal(nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1)),
        nn.LeakyReLU(),
        _orthogonal(nn.Conv2d(2 * channels, 2 * channels, 3, stride=2, padding=1)),
        nn.LeakyReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        flat = trunk(torch.zeros(1, in_planes, height, width)).shape[1]
    return trunk, flat


class RND(IntrinsicModule):
    """Fixed random target, trained predictor; reward = their squared error on s_{t+1}."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 channels: int = 32, embedding_dim: int = 128, predictor_hidden: int = 256,
                 num_envs: int = 1):
        """
        Args:
            channels: width of the first conv of both networks (the next two use twice it).
            embedding_dim: size of the target embedding the predictor regresses.
            predictor_hidden: width of the predictor's two extra fully connected layers.
        """
        super().__init__(obs_space, action_space, num_envs)
        for key, value in (("channels", channels), ("embedding_dim", embedding_dim),
                           ("predictor_hidden", predictor_hidden)):
            if value < 1:
                raise ValueError(f"method.module.{key}={value}: must be >= 1")
        h, w, _ = self.obs_shape

        trunk, flat = _conv_trunk(OBS_PLANES, h, w, channels)
        self.target = nn.Sequential(trunk, _orthogonal(nn.Linear(flat, embedding_dim)))
        # The target is never trained: no gradients, so the trainer's optimizer skips it;
        # it stays in state_dict so a resumed run keeps the same target.
        self.target.requires_grad_(False)

        trunk, flat = _conv_trunk(OBS_PLANES, h, w, channels)
        self.predictor = nn.Sequential(
            trunk,
            _orthogonal(nn.Linear(flat, predictor_hidden)),
            nn.ReLU(),
            _orthogonal(nn.Linear(predictor_hidden, predictor_hidden)),
            nn.ReLU(),
            _orthogonal(nn.Linear(predictor_hidden, embedding_dim)),
        )

    def train(self, mode: bool = True) -> RND:
        super().train(mode)
        self.target.eval()  # frozen in every mode
        return self

    def _errors(self, batch: TransitionBatch) -> torch.Tensor:
        """Per-transition mean squared error of the predictor against the target, ``(B,)``."""
        x = batch.next_obs_input
        with torch.no_grad():
            target = self.target(x)
        return (self.predictor(x) - target).pow(2).mean(dim=1)

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        return self._errors(batch)

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        loss = self._errors(batch).mean()
        return loss, {"rnd_forward_loss": loss.detach()}
