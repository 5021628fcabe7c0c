"""Intrinsic Curiosity Module (Pathak et al. 2017, "Curiosity-driven Exploration by
Self-supervised Prediction").

An encoder phi maps observations to features; an *inverse* model predicts the action a_t
from (phi(s_t), phi(s_{t+1})), which shapes phi to keep what the agent controls and drop
what it does not; a *forward* model predicts phi(s_{t+1}) from (phi(s_t), a_t).

- loss = (1 - beta) * inverse + beta * forward, beta = 0.2 (the paper's 0.8 / 0.2 split);
  as in the authors' code, both losses train the encoder (phi(s_{t+1}) is not detached);
- forward loss and reward use L_F = 1/2 ||phi_hat(s_{t+1}) - phi(s_{t+1})||^2 summed over
  features; reward = eta * L_F per transition.

MiniGrid fit: the paper's four stride-2 3x3 convs (32 channels, ELU) on 42x42 frames become
three on the one-hot grid planes, as in the encoder RIDE (Raileanu & Rocktaschel 2020) used
for its MiniGrid ICM baseline (channels 32, 32, 128; orthogonal init): a 7x7 view becomes
128 features (a 25x25 full view, 4x4x128), where the paper had 288 on 42x42 frames. Forward
and inverse heads keep the paper's single 256-unit hidden layer.
"""

from __future__ import annotations

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.envs.encoding import OBS_PLANES
from curiosity.intrinsic import IntrinsicModule, TransitionBatch


def conv_encoder(height: int, width: int, channels: int, feature_channels: int,
                 num_convs: int) -> tuple[nn.Sequential, int]:
    """RIDE's MiniGrid state-embedding net on one-hot grid planes: ``num_convs`` stride-2 3x3
    convs (``channels``, ..., ``feature_channels``), ELU, orthogonal init, flattened.
    Returns the encoder and its feature size (RIDE and E3B reuse it)."""
    layers: list[nn.Module] = []
    in_planes = OBS_PLANES
    for i in range(num_convs):
        out_planes = feature_channels if i == num_convs - 1 else channels
        conv = nn.Conv2d(in_planes, out_planes, 3, stride=2, padding=1)
        nn.init.orthogonal_(conv.weight, nn.init.calculate_gain("relu"))
        nn.init.zeros_(conv.bias)
        layers += [conv, nn.ELU()]
        in_planes = out_planes
    encoder = nn.Sequential(*layers, nn.Flatten())
    with torch.no_grad():
        feature_dim = encoder(torch.zeros(1, OBS_PLANES, height, width)).shape[1]
    return encoder, feature_dim


class ICM(IntrinsicModule):
    """Inverse-dynamics features, forward model in feature space; reward = eta * forward error."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 eta: float = 0.01, beta: float = 0.2, channels: int = 32, feature_channels: int = 128,
                 num_convs: int = 3, hidden: int = 256, num_envs: int = 1):
        """
        Args:
            eta: reward scale, eta * L_F (0.01 in the paper's code; cancels when the trainer's
                reward normalization is on, sets the reward's size when it is off).
            beta: weight of the forward loss; the inverse loss gets 1 - beta.
            channels: channels of the encoder convs before the last.
            feature_channels: channels of the last encoder conv (features per remaining cell).
            num_convs: number of stride-2 3x3 encoder convs.
            hidden: width of the forward and inverse models' hidden layer.
        """
        super().__init__(obs_space, action_space, num_envs)
        if eta <= 0:
            raise ValueError(f"method.module.eta={eta}: must be > 0")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"method.module.beta={beta}: must be in [0, 1]")
        for key, value in (("channels", channels), ("feature_channels", feature_channels),
                           ("num_convs", num_convs), ("hidden", hidden)):
            if value < 1:
                raise ValueError(f"method.module.{key}={value}: must be >= 1")
        self.eta = eta
        self.beta = beta
        h, w, _ = self.obs_shape

        self.encoder, self.feature_dim = conv_encoder(h, w, channels, feature_channels, num_convs)

        self.inverse = nn.Sequential(
            nn.Linear(2 * self.feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, self.num_actions))
        self.forward_model = nn.Sequential(
            nn.Linear(self.feature_dim + self.num_actions, hidden), nn.ReLU(),
            nn.Linear(hidden, self.feature_dim))

    def _heads(self, batch: TransitionBatch):
        """Features of s_t and s_{t+1}, predicted phi(s_{t+1}) and inverse-model logits."""
        phi = self.encoder(batch.obs_input)
        phi_next = self.encoder(batch.next_obs_input)
        action = F.one_hot(batch.action.long(), self.num_actions).float()
        phi_next_pred = self.forward_model(torch.cat([phi, action], dim=1))
        action_logits = self.inverse(torch.cat([phi, phi_next], dim=1))
        return phi_next, phi_next_pred, action_logits

    @staticmethod
    def _forward_error(phi_next: torch.Tensor, phi_next_pred: torch.Tensor) -> torch.Tensor:
        """L_F per transition: 1/2 squared L2 distance in feature space, ``(B,)``."""
        return 0.5 * (phi_next_pred - phi_next).pow(2).sum(dim=1)

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        phi_next, phi_next_pred, _ = self._heads(batch)
        return self.eta * self._forward_error(phi_next, phi_next_pred)

    @torch.no_grad()
    def predict_action(self, batch: TransitionBatch) -> torch.Tensor:
        """The inverse model's most likely action per transition, ``(B,)``."""
        return self._heads(batch)[2].argmax(dim=1)

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        phi_next, phi_next_pred, action_logits = self._heads(batch)
        forward = self._forward_error(phi_next, phi_next_pred).mean()
        inverse = F.cross_entropy(action_logits, batch.action.long())
        loss = (1.0 - self.beta) * inverse + self.beta * forward
        accuracy = (action_logits.argmax(dim=1) == batch.action).float().mean()
        return loss, {"icm_forward_loss": forward.detach(), "icm_inverse_loss": inverse.detach(),
                      "icm_inverse_accuracy": accuracy.detach()}
