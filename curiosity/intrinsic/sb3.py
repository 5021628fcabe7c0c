"""Stable-Baselines3 integration: a VecEnv wrapper that adds a method's intrinsic reward.

Needs the optional ``sb3`` extra (``pip install -e ".[sb3]"``). Wrap SB3's vector env of
:func:`curiosity.intrinsic.library.make_env` envs; a ``VecMonitor`` *inside* records the
extrinsic episode returns (outside, it would sum the intrinsic reward in). Wrappers that change
observations (``VecNormalize``, frame stacking) belong outside: the method must see the grids.
The predictor's grids after a reset come from the innermost env's ``reset_infos``::

    method = compose_method("rnd")
    venv = VecMonitor(DummyVecEnv([lambda: make_env("MiniGrid-DoorKey-5x5-v0", method)] * 8))
    venv = IntrinsicRewardVecEnv(venv, method, train_every=128)  # = PPO's n_steps
    PPO("MlpPolicy", venv, n_steps=128, policy_kwargs={"normalize_images": False}).learn(100_000)

Each step the wrapper scores the transitions (grid acted in, action, true successor: the
terminal observation where an episode ended, never the reset one) as the trainer scores a
rollout, through the method's ``score_rollout`` with one episodic memory per env (an env's
restarts on the first step after it reset), normalizes the raw reward per env, and hands SB3
``ext_coef * extrinsic + int_coef * intrinsic`` (the method's coefficients unless given).
Every ``train_every`` steps (set it to PPO's ``n_steps``, so once per rollout) the method
trains on the transitions gathered since, with the trainer's schedule.

Differences from this testbed's trainer, which SB3's single value head imposes: the two
rewards are summed before GAE (the trainer keeps two value heads and sums advantages), so the
intrinsic stream shares the extrinsic discount and is cut at episode ends even for
non-episodic methods (RND); rewards and inputs are normalized step by step with the
statistics so far (the trainer normalizes a rollout after folding all of it in). Methods with
``predictor_full_obs`` read ``info["full_grid"]``/``info["full_grid_succ"]`` that
:func:`make_env` adds; with ``predictor_full_obs=false`` they read the observation.
"""

from __future__ import annotations

import numpy as np
import torch
from omegaconf import DictConfig
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from curiosity.intrinsic.library import IntrinsicReward, predictor_grids


class IntrinsicRewardVecEnv(VecEnvWrapper):
    """Adds ``method``'s normalized intrinsic reward to ``venv``'s rewards and trains it.

    ``method``: a composed method config (:func:`compose_method`) or a ready
    :class:`IntrinsicReward` (e.g. one loaded from a file). Per-step info gains
    ``intrinsic_reward_raw`` and ``intrinsic_reward`` (normalized); ``last_train_metrics``
    holds the latest training step's averaged metrics.
    """

    def __init__(self, venv: VecEnv, method: DictConfig | IntrinsicReward, train_every: int,
                 int_coef: float | None = None, ext_coef: float | None = None, num_minibatches: int = 4,
                 device: str | torch.device = "cpu", seed: int | None = None):
        super().__init__(venv)
        if train_every < 1:
            raise ValueError(f"train_every={train_every}: must be >= 1 (PPO's n_steps)")
        if isinstance(method, IntrinsicReward):
            self.intrinsic = method
        else:
            self.intrinsic = IntrinsicReward(method, self._predictor_space(venv, method), venv.action_space,
                                             num_envs=venv.num_envs, device=device)
        if self.intrinsic.num_envs != venv.num_envs:
            raise ValueError(f"the IntrinsicReward keeps {self.intrinsic.num_envs} reward streams, "
                             f"the VecEnv has {venv.num_envs} envs: they must match")
        cfg = self.intrinsic.method
        self.int_coef = float(cfg.int_coef if int_coef is None else int_coef)
        self.ext_coef = float(cfg.ext_coef if ext_coef is None else ext_coef)
        self.train_every, self.num_minibatches = int(train_every), int(num_minibatches)
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.rng = np.random.default_rng(seed)  # the obs-statistics warm-up's random actions
        self.last_train_metrics: dict[str, float] = {}
        self._current = None  # the predictor's grids the next actions are taken in
        self._actions = None
        self._rollout: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._obs_stats_ready = False
        self._episode_start = np.ones(self.num_envs, dtype=bool)  # the next step's obs begins an episode

    @staticmethod
    def _predictor_space(venv: VecEnv, method: DictConfig):
        if not method.predictor_full_obs:
            return venv.observation_space
        spaces = venv.get_attr("full_grid_space", [0])
        if not spaces or spaces[0] is None:
            raise ValueError(f"method {method.name} has predictor_full_obs=true: build the envs with "
                             "make_env(env_id, method), or pass the override predictor_full_obs=false")
        return spaces[0]

    def _grids(self, obs: np.ndarray, infos, which: str) -> np.ndarray:
        return np.stack([predictor_grids(obs[i], infos[i], self.intrinsic.method, which)
                         for i in range(self.num_envs)])

    def _reset_infos(self) -> list[dict]:
        return list(self.venv.unwrapped.reset_infos)

    def _init_obs_stats(self) -> None:
        """The trainer's obs-norm warm-up: ``obs_norm_init_steps`` uniform-random steps per env
        fold their successors into the input statistics (not training frames), then a reset."""
        cfg = self.intrinsic.method
        for _ in range(cfg.obs_norm_init_steps if cfg.obs_norm else 0):
            actions = self.rng.integers(self.action_space.n, size=self.num_envs)
            obs, _, dones, infos = self.venv.step(actions)
            self.intrinsic.update_obs_stats(self._successors(obs, dones, infos))
        self._obs_stats_ready = True

    def _successors(self, obs, dones, infos) -> np.ndarray:
        if self.intrinsic.method.predictor_full_obs:
            return self._grids(obs, infos, "successor")
        nxt = np.array(obs, copy=True)
        for i in np.flatnonzero(dones):
            nxt[i] = infos[i]["terminal_observation"]
        return nxt

    def reset(self):
        if not self._obs_stats_ready:
            self.venv.reset()
            self._init_obs_stats()
        obs = self.venv.reset()
        self._current = self._grids(obs, self._reset_infos(), "current")
        self._episode_start[:] = True
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).copy()
        self.venv.step_async(actions)

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        if self._current is None:
            raise RuntimeError("IntrinsicRewardVecEnv: step before reset")
        nxt = self._successors(obs, dones, infos)
        # one step of each env: episodic memory restarts where an env's episode began
        raw = self.intrinsic.score(self._current, self._actions, nxt, episode_start=self._episode_start)
        self._episode_start = np.asarray(dones, dtype=bool).copy()  # SB3 resets those envs: the next obs begins one
        norm = self.intrinsic.normalize(raw).cpu().numpy()
        raw = raw.cpu().numpy()
        for i, info in enumerate(infos):
            info["intrinsic_reward_raw"], info["intrinsic_reward"] = float(raw[i]), float(norm[i])
        self._rollout.append((self._current, self._actions, nxt))
        if len(self._rollout) >= self.train_every:
            cur, act, succ = (np.concatenate(x) for x in zip(*self._rollout))
            self._rollout.clear()
            self.last_train_metrics = self.intrinsic.train(cur, act, succ, self.num_minibatches, self.generator)
        if self.intrinsic.method.predictor_full_obs:
            resets = self._reset_infos()
            self._current = np.stack([
                predictor_grids(obs[i], resets[i] if dones[i] else infos[i], self.intrinsic.method, "current")
                for i in range(self.num_envs)])
        else:
            self._current = np.array(obs, copy=True)
        total = self.ext_coef * np.asarray(rewards, np.float32) + self.int_coef * norm.astype(np.float32)
        return obs, total, dones, infos
