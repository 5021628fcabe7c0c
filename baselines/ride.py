"""RIDE: Rewarding Impact-Driven Exploration (Raileanu & Rocktaschel 2020, ICLR).

The bonus of a transition is the change it makes to a learned state embedding, discounted
by how often the successor was already seen in this episode:

    r_int = || phi(s_{t+1}) - phi(s_t) ||_2 / sqrt(N_episode(s_{t+1}))

``phi`` is ICM's embedding (``baselines.icm.ICM``: RIDE's MiniGrid embedding net, with ICM's
forward and inverse heads), trained as in RIDE's code (``src/algos/ride.py``) by

    loss = forward_coef * mean ||phi_hat(s_{t+1}) - phi(s_{t+1})||_2 + inverse_coef * CE

with forward_coef 10 and inverse_coef 0.1, the L2 norm (not ICM's squared error) in the
forward term. The episodic count is ``baselines.count.CountBonus`` (episodic), held as a
submodule so its memory resets where ``episode_start`` says, only for that env, and lives in
the state_dict. Its key is ``count_key``: ``obs`` (default, a hash of the successor grid as
the method sees it) or ``state``, an exact-state hash of the whole grid, which is what RIDE's
code counts (``src/utils.py``: the env's full-grid ``frame``, while the policy and the
embedding read the partial view): privileged information, used by the reproduction preset. Invalid rows score 0 and are never counted.
``reward(batch)`` (stateless: renderer, heatmaps) scores the impact alone, as if each
successor were the episode's first visit (count 1).
"""

from __future__ import annotations

import gymnasium as gym
import torch
import torch.nn.functional as F

from baselines.count import KEYS, CountBonus
from baselines.icm import ICM
from curiosity.intrinsic.base import IntrinsicModule
from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch


class RIDE(ICM):
    """ICM's embedding and heads; reward = embedding change / sqrt(episodic count of s')."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 forward_coef: float = 10.0, inverse_coef: float = 0.1, channels: int = 32,
                 feature_channels: int = 128, num_convs: int = 3, hidden: int = 256,
                 count_key: str = "obs", num_envs: int = 1):
        """
        Args:
            forward_coef: weight of the forward loss (RIDE's code: 10).
            inverse_coef: weight of the inverse loss (RIDE's code: 0.1).
            channels, feature_channels, num_convs, hidden: ICM's encoder and heads.
            count_key: the episodic count's key (``baselines.count``: obs | pose | state).
        """
        super().__init__(obs_space, action_space, channels=channels,
                         feature_channels=feature_channels, num_convs=num_convs, hidden=hidden,
                         num_envs=num_envs)
        for key, value in (("forward_coef", forward_coef), ("inverse_coef", inverse_coef)):
            if value < 0:
                raise ValueError(f"method.module.{key}={value}: must be >= 0")
        if forward_coef == 0 and inverse_coef == 0:
            raise ValueError("method.module.forward_coef and inverse_coef: one must be > 0")
        self.forward_coef, self.inverse_coef = forward_coef, inverse_coef
        if count_key not in KEYS:
            raise ValueError(f"method.module.count_key={count_key}: must be one of {', '.join(KEYS)}")
        self.counts = CountBonus(obs_space, action_space, mode="episodic", key=count_key,
                                 num_envs=num_envs)

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        """The impact ``||phi(s') - phi(s)||_2`` (count 1: no episode context here)."""
        phi = self.encoder(batch.obs_input)
        phi_next = self.encoder(batch.next_obs_input)
        return (phi_next - phi).norm(dim=1)

    @torch.no_grad()
    def score_rollout(self, rollout: Rollout) -> torch.Tensor:
        impact = IntrinsicModule.score_rollout(self, rollout)  # stateless, 0 on invalid rows
        return impact * self.counts.score_rollout(rollout)  # times 1/sqrt(N_episode(s'))

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        phi_next, phi_next_pred, action_logits = self._heads(batch)
        forward = (phi_next_pred - phi_next).norm(dim=1).mean()
        inverse = F.cross_entropy(action_logits, batch.action.long())
        loss = self.forward_coef * forward + self.inverse_coef * inverse
        accuracy = (action_logits.argmax(dim=1) == batch.action).float().mean()
        return loss, {"ride_forward_loss": forward.detach(), "ride_inverse_loss": inverse.detach(),
                      "ride_inverse_accuracy": accuracy.detach()}
