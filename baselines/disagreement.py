"""Ensemble disagreement (Pathak et al. 2019, "Self-Supervised Exploration via Disagreement";
cf. Shyam et al. 2019, model-based active exploration).

K forward models predict the embedding of s_{t+1} from (embedding of s_t, a_t). Where the
ensemble has seen enough data its members agree; where it has not they disagree, and the
variance of their predictions is the intrinsic reward. Unlike a prediction error, the
variance does not stay high on transitions that are inherently unpredictable (noisy TV),
because every member converges to the same mean there.

- K = 5 members, each a 2-hidden-layer MLP with its own initialisation;
- each member trains on its own bootstrap resample of every batch (B indices drawn with
  replacement, as bootstrapped ensembles do), so members see different data;
- embedding: a fixed random conv network shared by the members (the paper's random
  features), on the normalized observation planes;
- reward = variance across members of the predicted embedding, averaged over dimensions.

MiniGrid fit: the random-feature network is RND-sized for grids (3x3 convs, two strided,
LeakyReLU, orthogonal init) with a 64-d embedding; members are 256-unit MLPs.
"""

from __future__ import annotations

import math

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.envs.encoding import OBS_PLANES
from curiosity.intrinsic import IntrinsicModule, TransitionBatch


def _orthogonal(layer: nn.Module, gain: float = math.sqrt(2)) -> nn.Module:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class EnsembleLinear(nn.Module):
    """K independent linear layers applied in one batched matmul: ``(K, B, i) -> (K, B, o)``."""

    def __init__(self, members: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(members, 1, out_features))
        bound = 1.0 / math.sqrt(in_features)  # nn.Linear's default init, drawn per member
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class Disagreement(IntrinsicModule):
    """Bootstrapped ensemble of forward models in a random-feature space; reward = variance."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 ensemble_size: int = 5, embedding_dim: int = 64, channels: int = 32,
                 hidden: int = 256, bootstrap: bool = True, num_envs: int = 1):
        """
        Args:
            ensemble_size: number of forward models K (5 in the paper).
            embedding_dim: size of the fixed random embedding the members predict.
            channels: width of the first conv of the random embedding (the next two use twice it).
            hidden: width of each member's two hidden layers.
            bootstrap: train each member on its own bootstrap resample (False: all on the batch).
        """
        super().__init__(obs_space, action_space, num_envs)
        if ensemble_size < 2:
            raise ValueError(f"method.module.ensemble_size={ensemble_size}: must be >= 2 (a variance)")
        for key, value in (("embedding_dim", embedding_dim), ("channels", channels), ("hidden", hidden)):
            if value < 1:
                raise ValueError(f"method.module.{key}={value}: must be >= 1")
        self.ensemble_size = ensemble_size
        self.bootstrap = bootstrap
        h, w, _ = self.obs_shape

        convs = nn.Sequential(
            _orthogonal(nn.Conv2d(OBS_PLANES, channels, 3, stride=1, padding=1)), nn.LeakyReLU(),
            _orthogonal(nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1)), nn.LeakyReLU(),
            _orthogonal(nn.Conv2d(2 * channels, 2 * channels, 3, stride=2, padding=1)), nn.LeakyReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = convs(torch.zeros(1, OBS_PLANES, h, w)).shape[1]
        self.embedding = nn.Sequential(convs, _orthogonal(nn.Linear(flat, embedding_dim)))
        self.embedding.requires_grad_(False)  # fixed random features, kept in state_dict

        self.members = nn.Sequential(
            EnsembleLinear(ensemble_size, embedding_dim + self.num_actions, hidden), nn.ReLU(),
            EnsembleLinear(ensemble_size, hidden, hidden), nn.ReLU(),
            EnsembleLinear(ensemble_size, hidden, embedding_dim),
        )

    def train(self, mode: bool = True) -> Disagreement:
        super().train(mode)
        self.embedding.eval()
        return self

    def predictions(self, batch: TransitionBatch) -> torch.Tensor:
        """Every member's predicted embedding of s_{t+1}, ``(K, B, embedding_dim)``."""
        with torch.no_grad():
            z = self.embedding(batch.obs_input)
        action = F.one_hot(batch.action.long(), self.num_actions).float()
        x = torch.cat([z, action], dim=1)
        return self.members(x.unsqueeze(0).expand(self.ensemble_size, -1, -1))

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        return self.predictions(batch).var(dim=0, unbiased=False).mean(dim=1)

    def bootstrap_weights(self, batch_size: int, device) -> torch.Tensor:
        """``(K, B)`` resample counts / B: how often each member draws each transition."""
        if not self.bootstrap:
            return torch.full((self.ensemble_size, batch_size), 1.0 / batch_size, device=device)
        draws = torch.randint(batch_size, (self.ensemble_size, batch_size), device=device)
        counts = torch.zeros(self.ensemble_size, batch_size, device=device)
        counts.scatter_add_(1, draws, torch.ones_like(draws, dtype=counts.dtype))
        return counts / batch_size

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            target = self.embedding(batch.next_obs_input)
        pred = self.predictions(batch)
        errors = (pred - target.unsqueeze(0)).pow(2).mean(dim=2)  # (K, B)
        weights = self.bootstrap_weights(len(batch), errors.device)
        per_member = (weights * errors).sum(dim=1)
        loss = per_member.sum()  # members are independent: summing keeps each one's gradient
        return loss, {"disagreement_forward_loss": per_member.mean().detach(),
                      "disagreement_variance": pred.detach().var(dim=0, unbiased=False).mean().detach()}
