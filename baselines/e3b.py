"""E3B: Exploration via Elliptical Episodic Bonuses (Henaff et al. 2022, NeurIPS).

The bonus of a transition is the elliptical norm of the successor's embedding under the
inverse covariance of the embeddings seen so far in this episode:

    b_t = phi(s_{t+1})^T C_t^-1 phi(s_{t+1}),    C_0^-1 = (1 / lambda) I  at each episode start,
    C_{t+1}^-1 = C_t^-1 - (C_t^-1 u u^T C_t^-1) / (1 + u^T C_t^-1 u),   u = phi(s_{t+1})

(the Sherman-Morrison rank-one update of C_{t+1} = C_t + u u^T), as the authors' actor loop
does it (``e3b_minihack/src/utils.py``): score with the current C^-1, then add u. A
successor seen once with embedding u scores ``a = u^T u / lambda``; seen k times in an episode
it scores ``a / (1 + (k - 1) a)``. lambda is the paper's ridge 0.1.

``phi`` is trained only by an inverse-dynamics loss (cross-entropy of the action predicted
from ``(phi(s_t), phi(s_{t+1}))``), as in the paper: it keeps what the agent controls. Here
``phi`` is RIDE's MiniGrid embedding net (``baselines.icm.conv_encoder``) followed by a linear
map to ``embedding_dim``, and the inverse head is RIDE's (one ``hidden``-unit ReLU layer).

``C^-1`` is a registered buffer ``(num_envs, d, d)``: checkpoints save it and a resume
continues bit for bit. It resets where ``episode_start`` says, only for that env; invalid
rows score 0 and never update it. ``reward(batch)`` (stateless: renderer, heatmaps) scores
each successor as an episode's first, ``u^T u / lambda``.
"""

from __future__ import annotations

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from baselines.icm import conv_encoder
from curiosity.intrinsic.base import IntrinsicModule, map_rows
from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch


class E3B(IntrinsicModule):
    """Inverse-dynamics embedding; reward = elliptical episodic bonus of the successor."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 ridge: float = 0.1, embedding_dim: int = 128, channels: int = 32,
                 feature_channels: int = 128, num_convs: int = 3, hidden: int = 256,
                 num_envs: int = 1):
        """
        Args:
            ridge: lambda, the covariance's regularizer: C_0 = lambda I (paper: 0.1).
            embedding_dim: size d of phi (the covariance is d x d per env).
            channels, feature_channels, num_convs: RIDE's conv embedding net before the
                linear map to ``embedding_dim``.
            hidden: width of the inverse model's hidden layer.
        """
        super().__init__(obs_space, action_space, num_envs)
        if ridge <= 0:
            raise ValueError(f"method.module.ridge={ridge}: must be > 0")
        for key, value in (("embedding_dim", embedding_dim), ("channels", channels),
                           ("feature_channels", feature_channels), ("num_convs", num_convs),
                           ("hidden", hidden)):
            if value < 1:
                raise ValueError(f"method.module.{key}={value}: must be >= 1")
        self.ridge = ridge
        h, w, _ = self.obs_shape
        convs, flat = conv_encoder(h, w, channels, feature_channels, num_convs)
        self.encoder = nn.Sequential(convs, nn.Linear(flat, embedding_dim))
        self.inverse = nn.Sequential(nn.Linear(2 * embedding_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, self.num_actions))
        eye = torch.eye(embedding_dim) / ridge
        self.register_buffer("cov_inverse", eye.expand(self.num_envs, -1, -1).clone())

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """phi of input planes ``(B, C, H, W)``, ``(B, d)``."""
        return self.encoder(x)

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        """``u^T u / lambda``: the bonus of a successor that begins its episode's memory."""
        return self.embed(batch.next_obs_input).pow(2).sum(dim=1) / self.ridge

    @torch.no_grad()
    def score_rollout(self, rollout: Rollout) -> torch.Tensor:
        t_len, n = rollout.num_steps, rollout.num_envs
        d = self.cov_inverse.shape[-1]
        device = self.cov_inverse.device
        valid = rollout.valid.to(device)
        emb = map_rows(rollout, valid, lambda b: self.embed(b.next_obs_input), shape=(d,), device=device)
        starts = rollout.episode_start.to(device)
        eye = torch.eye(d, device=device) / self.ridge
        out = torch.zeros(t_len, n, device=device)
        for t in range(t_len):
            self.cov_inverse[starts[t]] = eye  # a new episode of env n: fresh memory
            u = emb[t]  # (N, d)
            cu = torch.bmm(self.cov_inverse, u.unsqueeze(2)).squeeze(2)  # C^-1 u (C^-1 symmetric)
            bonus = (u * cu).sum(dim=1)
            keep = valid[t]
            update = torch.einsum("ni,nj->nij", cu, cu) / (1.0 + bonus)[:, None, None]
            self.cov_inverse[keep] -= update[keep]
            out[t] = torch.where(keep, bonus, torch.zeros_like(bonus))
        return out.to(rollout.action.device)

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        phi = self.embed(batch.obs_input)
        phi_next = self.embed(batch.next_obs_input)
        logits = self.inverse(torch.cat([phi, phi_next], dim=1))
        loss = F.cross_entropy(logits, batch.action.long())
        accuracy = (logits.argmax(dim=1) == batch.action).float().mean()
        return loss, {"e3b_inverse_loss": loss.detach(), "e3b_inverse_accuracy": accuracy.detach()}
