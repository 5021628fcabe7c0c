"""A run's policy and its method's runtime, and the per-transition values they give.

The renderer and the heatmaps load a run once (from a checkpoint, or borrowed from a live
``Trainer`` for periodic rendering) and then ask it the same questions the trainer asks
during a rollout: action probabilities, both value estimates, the raw intrinsic reward
(predictor inputs normalized exactly as in ``Trainer._transitions``), the normalized
intrinsic reward (divided by the running std of intrinsic returns) and the predictor's
own loss on the transition. The method is the run's ``IntrinsicRuntime``
(``curiosity/intrinsic/runtime.py``), built as the trainer builds it (with the run's
``env.num_envs``, so the episodic memory of a checkpoint fits). Nothing here updates any
statistic, nor leaves a trace in the method's episodic memory.

Two ways to score: :meth:`RunState.intrinsic_episode` scores one episode's transitions in
order with the method's episodic memory (fresh at the episode's start), as the trainer
scores an env's episode: the renderer's panel. :meth:`RunState.intrinsic_raw` scores probe
transitions out of any episode with the stateless ``reward`` (an episodic method: as an
episode's first step): the heatmaps.

With ``method.predictor_full_obs`` the predictor scores the fully observed grid while the
policy keeps its own view: ``predictor_grid(env, obs)`` gives whichever the predictor sees.

A recurrent policy (``agent.recurrent``) carries a state through an episode: callers that
play episodes start from ``initial_memory()`` and pass what ``policy_step`` returns to the
next step, with ``episode_start=True`` on an episode's first observation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from curiosity.agent import ActorCritic
from curiosity.envs import make_single_env
from curiosity.envs.full_grid import compact_full_grid, full_grid_space
from curiosity.intrinsic import (
    IntrinsicModule,
    IntrinsicRewardNormalizer,
    ObsNormalizer,
    TransitionBatch,
)
from curiosity.intrinsic.runtime import IntrinsicRuntime, eval_mode, predictor_sees_full_grid
from curiosity.run.checkpoint import CHECKPOINT_DIR, LATEST

__all__ = ["RunState", "eval_mode"]


@dataclass
class RunState:
    """Everything needed to act in and score transitions of one run."""

    cfg: DictConfig
    agent: ActorCritic
    runtime: IntrinsicRuntime  # the method: module, normalizers (curiosity/intrinsic/runtime.py)
    device: torch.device
    frames: int | None  # training frames behind these weights (None: untrained)

    @property
    def intrinsic(self) -> IntrinsicModule | None:
        return self.runtime.module

    @property
    def obs_norm(self) -> ObsNormalizer:
        return self.runtime.obs_norm

    @property
    def rew_norm(self) -> IntrinsicRewardNormalizer:
        return self.runtime.rew_norm

    @property
    def acts_randomly(self) -> bool:
        return bool(self.cfg.method.acts_randomly)

    @property
    def predictor_full_obs(self) -> bool:
        """Whether the predictor reads its own grid, as the trainer decides (a method with a module)."""
        return predictor_sees_full_grid(self.cfg.method)

    @property
    def predictor_crop(self) -> int:
        return int(self.cfg.method.get("predictor_crop", 0))

    @property
    def num_actions(self) -> int:
        return self.agent.policy.out_features

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_trainer(cls, trainer) -> RunState:
        """Borrow a live trainer's policy and runtime (no copy: scoring leaves them as they were)."""
        return cls(trainer.cfg, trainer.agent, trainer.runtime, trainer.device,
                   trainer.iteration * trainer.batch_size)

    @classmethod
    def load(cls, run_dir: Path, checkpoint: Path | None = None, device: str = "cpu") -> RunState:
        """Load ``checkpoint`` (default RUN_DIR/checkpoints/latest.pt).

        Without any checkpoint, builds freshly initialised modules from RUN_DIR/config.yaml
        (an untrained policy and predictor, seeded by the run's seed).
        """
        run_dir = Path(run_dir)
        path = Path(checkpoint) if checkpoint is not None else run_dir / CHECKPOINT_DIR / LATEST
        state = None
        if path.exists():
            state = torch.load(path, map_location=device, weights_only=False)
            cfg = OmegaConf.create(state["config"])
        elif checkpoint is not None:
            raise FileNotFoundError(f"--checkpoint {path}: no such file")
        elif (run_dir / "config.yaml").exists():
            cfg = OmegaConf.load(run_dir / "config.yaml")
            torch.manual_seed(int(cfg.seed))
        else:
            raise FileNotFoundError(f"{run_dir}: neither {CHECKPOINT_DIR}/{LATEST} nor config.yaml found")
        dev = torch.device(device)
        probe = make_single_env(cfg.env)
        obs_space, action_space = probe.observation_space, probe.action_space
        a, m = cfg.agent, cfg.method
        pred_space = (full_grid_space(probe, int(m.get("predictor_crop", 0)))
                      if predictor_sees_full_grid(m) else obs_space)
        probe.close()
        agent = ActorCritic(obs_space.shape, int(action_space.n), a.conv_channels, a.hidden_size,
                            recurrent=a.get("recurrent", "none")).to(dev)
        # as the trainer builds it: one episodic-memory stream per training env (the checkpoint's)
        runtime = IntrinsicRuntime(m, pred_space, action_space, int(cfg.env.num_envs), dev)
        frames = None
        if state is not None:
            agent.load_state_dict(state["agent"])
            runtime.load_state_dict(state)
            frames = int(state["frames"])
        return cls(cfg, agent, runtime, dev, frames)

    # ------------------------------------------------------------------ questions
    def predictor_grid(self, env, obs: np.ndarray, centre=None) -> np.ndarray:
        """The grid the predictor sees in ``env``'s current state (``obs``: the policy's view).

        ``centre``: for a successor, the agent's cell the step was taken from. As in training
        (``RolloutStorage``), a forward model (``same_window_successor``) reads the successor
        in the window the step was taken in (``method.predictor_crop``), every other method
        the window re-centred on the agent's cell now (what it acts from next).
        """
        if not self.predictor_full_obs:
            return obs
        return compact_full_grid(env, self.predictor_crop, centre if self.runtime.same_window_successor else None)

    def _grids(self, x) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(x), device=self.device)
        return t.unsqueeze(0) if t.dim() == 3 else t

    def _actions(self, action) -> torch.Tensor:
        return torch.as_tensor(np.asarray(action), dtype=torch.long, device=self.device).reshape(-1)

    def transitions(self, obs, action, next_obs) -> TransitionBatch:
        """A batch exactly as the trainer builds it (one-hot planes, then obs_norm)."""
        return self.runtime.transitions(self._grids(obs), self._actions(action), self._grids(next_obs))

    def initial_memory(self, batch: int = 1) -> torch.Tensor:
        """The policy's state before an episode's first step, (batch, S) (S = 0: feed-forward)."""
        return self.agent.initial_state(batch, self.device)

    def policy(self, obs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(action probabilities (B, A), V_ext (B,), V_int (B,)); NaN values for the random agent.

        A recurrent policy reads each ``obs`` as an episode's first observation (fresh
        state); to carry the state through an episode use :meth:`policy_step`."""
        grids = self._grids(obs)
        start = torch.ones(grids.shape[0], dtype=torch.bool, device=self.device)
        return self.policy_step(grids, self.initial_memory(grids.shape[0]), start)[:3]

    @torch.no_grad()
    def policy_step(self, obs, memory: torch.Tensor, episode_start) -> tuple:
        """``policy`` for one step of an episode: (probs, V_ext, V_int, next memory).

        ``memory`` is what the previous step returned (or ``initial_memory``);
        ``episode_start`` (bool or (B,) bools) marks observations that begin an episode."""
        grids = self._grids(obs)
        b = grids.shape[0]
        if self.acts_randomly:
            nan = np.full(b, np.nan)
            return np.full((b, self.num_actions), 1.0 / self.num_actions), nan, nan.copy(), memory
        start = torch.as_tensor(np.broadcast_to(np.asarray(episode_start, dtype=bool), (b,)).copy(),
                                device=self.device)
        with eval_mode(self.agent):
            logits, v_ext, v_int, memory = self.agent.step(grids, memory, start)
        return (torch.softmax(logits, -1).cpu().numpy(), v_ext.cpu().numpy(), v_int.cpu().numpy(), memory)

    @torch.no_grad()
    def intrinsic_raw(self, obs, action, next_obs) -> np.ndarray:
        """The stateless raw intrinsic reward per probe transition (zeros without a predictor):
        the module's ``reward``, for an episodic method as if each began an episode."""
        n = len(np.asarray(action).reshape(-1))
        if self.intrinsic is None:
            return np.zeros(n)
        return self.runtime.reward(self.transitions(obs, action, next_obs)).cpu().numpy()

    @torch.no_grad()
    def intrinsic_episode(self, obs, action, next_obs) -> np.ndarray:
        """The raw intrinsic reward of one episode's transitions, in order from its first step,
        as the trainer scores them (``score_rollout`` with the method's episodic memory, fresh
        at the episode's start; the run's memory is left as it was). Zeros without a predictor."""
        n = len(np.asarray(action).reshape(-1))
        if self.intrinsic is None or n == 0:
            return np.zeros(n)
        return self.runtime.score_episode(self._grids(obs), self._actions(action), self._grids(next_obs)).cpu().numpy()

    def normalize_intrinsic(self, raw: np.ndarray) -> np.ndarray:
        """Raw reward divided by the running std of intrinsic returns (as the trainer does)."""
        if not self.rew_norm.enabled:
            return np.asarray(raw, dtype=np.float64)
        return np.asarray(raw) / (float(self.rew_norm.rms.std) + 1e-8)

    @torch.no_grad()
    def predictor_error(self, obs, action, next_obs) -> float:
        """The predictor's own training loss on this one transition (NaN without a predictor)."""
        if self.intrinsic is None:
            return float("nan")
        return self.runtime.eval_loss(self.transitions(obs, action, next_obs))
