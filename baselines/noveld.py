"""NovelD (Zhang et al. 2021, NeurIPS, "NovelD: A Simple yet Effective Exploration Criterion").

The bonus rewards crossing from familiar into novel states, once per episode:

    r_int = max(novelty(s_{t+1}) - alpha * novelty(s_t), 0) * 1[N_episode(s_{t+1}) == 1]

``novelty`` is RND's prediction error (``baselines.rnd.RND``'s target and predictor nets),
measured as in NovelD's code (``src/algos/bebold.py``) by the L2 norm ``||f(x) - f_hat(x)||_2``
(not RND's mean squared error); the predictor is trained on that same norm at s_{t+1}.
alpha is NovelD's ``scale_fac`` 0.5. The first-visit gate uses ``baselines.count.CountBonus``
(episodic), held as a submodule so its memory resets where ``episode_start`` says, only for
that env, and lives in the state_dict. Its key is ``count_key``: ``obs`` (default, a hash of
the successor grid as the method sees it) or ``state``, an exact-state hash of the whole grid,
which is what NovelD's code counts (the full-grid frame): privileged information. Invalid rows score 0 and are never counted. ``reward(batch)`` (stateless:
renderer, heatmaps) scores the novelty difference as if each successor were a first visit.
"""

from __future__ import annotations

import gymnasium as gym
import torch

from baselines.count import KEYS, CountBonus
from baselines.rnd import RND
from curiosity.intrinsic.base import map_rows
from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch


class NovelD(RND):
    """RND's networks; reward = clipped novelty difference, gated to first episodic visits."""

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 alpha: float = 0.5, channels: int = 32, embedding_dim: int = 128,
                 predictor_hidden: int = 256, count_key: str = "obs", num_envs: int = 1):
        """
        Args:
            alpha: weight of the predecessor's novelty (NovelD's ``scale_fac``, 0.5).
            channels, embedding_dim, predictor_hidden: RND's networks.
            count_key: the first-visit gate's key (``baselines.count``: obs | pose | state).
        """
        super().__init__(obs_space, action_space, channels=channels, embedding_dim=embedding_dim,
                         predictor_hidden=predictor_hidden, num_envs=num_envs)
        if alpha < 0:
            raise ValueError(f"method.module.alpha={alpha}: must be >= 0")
        self.alpha = alpha
        if count_key not in KEYS:
            raise ValueError(f"method.module.count_key={count_key}: must be one of {', '.join(KEYS)}")
        self.counts = CountBonus(obs_space, action_space, mode="episodic", key=count_key,
                                 num_envs=num_envs)

    def novelty(self, x: torch.Tensor) -> torch.Tensor:
        """RND error ``||f(x) - f_hat(x)||_2`` per input planes ``(B, C, H, W)``, ``(B,)``."""
        with torch.no_grad():
            target = self.target(x)
        return (self.predictor(x) - target).norm(dim=1)

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        """``max(novelty(s') - alpha * novelty(s), 0)`` (no episode context: no gate)."""
        gain = self.novelty(batch.next_obs_input) - self.alpha * self.novelty(batch.obs_input)
        return gain.clamp(min=0.0)

    @torch.no_grad()
    def score_rollout(self, rollout: Rollout) -> torch.Tensor:
        first_visit = self.counts.score_rollout(rollout) == 1.0  # 1/sqrt(N) == 1 iff N == 1
        return self.rollout_gain(rollout) * first_visit

    @torch.no_grad()
    def rollout_gain(self, rollout: Rollout) -> torch.Tensor:
        """``reward`` of every valid row ``(T, N)`` (0 on invalid rows), each state's novelty
        computed once: within an env's stream s_t is the row before's successor (the grids are
        compared, so an episode start, an invalid row or another successor view is computed
        afresh), as NovelD's code scores every observation once. Half the network passes of
        scoring both sides of every row; the same values up to the batch's float rounding."""
        valid = rollout.valid.bool()
        succ = map_rows(rollout, valid, lambda b: self.novelty(b.next_obs_input))
        same = torch.zeros_like(valid)  # s_t is the (valid) row before's successor, bit for bit
        same[1:] = valid[:-1] & valid[1:] & (rollout.obs[1:] == rollout.next_obs[:-1]).flatten(2).all(-1)
        state = map_rows(rollout, valid & ~same, lambda b: self.novelty(b.obs_input))
        state[1:] = torch.where(same[1:], succ[:-1], state[1:])
        return (succ - self.alpha * state).clamp(min=0.0) * valid

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        loss = self.novelty(batch.next_obs_input).mean()
        return loss, {"noveld_rnd_loss": loss.detach()}
