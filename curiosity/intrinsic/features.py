"""Feature spaces in which the conv / ResNet forward models predict the next state.

- ``raw``: the one-hot planes themselves; the target is the next grid (categorical loss,
  see ``targets.grid_error``).
- ``random``: a fixed, randomly initialised conv encoder (Burda et al. 2018, "Large-scale
  study of curiosity"): stable features that never drift or collapse.
- ``inverse``: a conv encoder trained only by an inverse-dynamics head that predicts the
  action from (phi(s), phi(s')) (ICM, Pathak et al. 2017): features keep what the agent
  controls and drop what it does not (a noisy TV).

Encoders keep the spatial layout (3x3 convs, padding 1, no striding) so the ``delta``
target stays local in feature space too. Each cell's feature vector is layer-normalized
(no affine), so a learned encoder cannot inflate or shrink the forward error by rescaling
its features. The forward model sees phi(s) and predicts phi(s') with both detached, so
the forward loss never shapes the features.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.envs.encoding import OBS_PLANES

FEATURE_SPACES = ("raw", "random", "inverse")


def _conv_encoder(in_channels: int, feature_dim: int) -> nn.Sequential:
    layers = nn.Sequential(
        nn.Conv2d(in_channels, feature_dim, 3, padding=1),
        nn.LeakyReLU(),
        nn.Conv2d(feature_dim, feature_dim, 3, padding=1),
    )
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            nn.init.orthogonal_(layer.weight, np.sqrt(2))
            nn.init.zeros_(layer.bias)
    return layers


def _per_cell_norm(features: torch.Tensor) -> torch.Tensor:
    """Layer norm over the channels of each cell: ``(B, C, H, W)`` in and out."""
    return F.layer_norm(features.movedim(1, -1), features.shape[1:2]).movedim(-1, 1)


class RawPlanes(nn.Module):
    """Identity: the (normalized) one-hot planes are the features."""

    out_channels = OBS_PLANES

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        return planes

    def aux_loss(self, phi: torch.Tensor, phi_next: torch.Tensor, action: torch.Tensor):
        return None, {}


class RandomFeatures(nn.Module):
    """A frozen random conv encoder (its parameters never receive gradients)."""

    def __init__(self, feature_dim: int):
        super().__init__()
        self.encoder = _conv_encoder(OBS_PLANES, feature_dim)
        self.encoder.requires_grad_(False)
        self.out_channels = feature_dim

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return _per_cell_norm(self.encoder(planes))

    def aux_loss(self, phi: torch.Tensor, phi_next: torch.Tensor, action: torch.Tensor):
        return None, {}


class InverseDynamicsFeatures(nn.Module):
    """A conv encoder trained by predicting the action from (phi(s), phi(s'))."""

    def __init__(self, feature_dim: int, num_actions: int):
        super().__init__()
        self.encoder = _conv_encoder(OBS_PLANES, feature_dim)
        self.inverse_head = nn.Sequential(
            nn.Conv2d(2 * feature_dim, feature_dim, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Linear(feature_dim, num_actions),
        )
        self.out_channels = feature_dim

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        return _per_cell_norm(self.encoder(planes))

    def aux_loss(self, phi: torch.Tensor, phi_next: torch.Tensor, action: torch.Tensor):
        logits = self.inverse_head(torch.cat([phi, phi_next], dim=1))
        loss = F.cross_entropy(logits, action)
        accuracy = (logits.argmax(1) == action).float().mean()
        return loss, {"inverse_loss": loss.detach(), "inverse_accuracy": accuracy.detach()}


def make_feature_space(name: str, feature_dim: int, num_actions: int) -> nn.Module:
    if name == "raw":
        return RawPlanes()
    if name == "random":
        return RandomFeatures(feature_dim)
    return InverseDynamicsFeatures(feature_dim, num_actions)
