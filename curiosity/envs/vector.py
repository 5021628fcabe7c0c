"""Batched MiniGrid envs with one flat, backend-independent step interface.

``GridVectorEnv.step`` returns numpy arrays only:

- ``obs``: uint8 ``(N, H, W, 4)``, the observation to act on next (already reset where an
  episode ended: gymnasium's ``SAME_STEP`` autoreset);
- ``reward``, ``terminated``, ``truncated``: ``(N,)``;
- ``info``: a dict of ``(N,)`` arrays (plus ``final_obs``, ``(N, H, W, 4)``):
  ``next_obs`` is the true successor of this step's action (the final obs where an episode
  ended, else ``obs``), ``agent_x/agent_y/agent_dir`` the agent's pose after the action
  (before any reset), ``reset_x/reset_y/reset_dir`` the pose in ``obs`` (after any
  reset), ``episode_return/length/success`` (NaN where no episode ended), and
  ``valid`` (True where the row is a real transition; always True here, a backend that
  autoresets on the next step marks its reset rows False); with a noisy TV also
  ``tv_action/tv_in_view`` (bool, of the step taken, not of a reset that followed it).

Using ``SAME_STEP`` means no "terminal -> reset" pseudo-transition ever exists, so nothing
downstream can train on one (gymnasium's default ``NEXT_STEP`` trap).
"""

from __future__ import annotations

import importlib
import pickle

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from curiosity.envs.fast_view import install_fast_view
from curiosity.envs.full_grid import FullGridInfo
from curiosity.envs.levels import FixedLevels, train_level_seeds
from curiosity.envs.noisy_tv import TV_KEYS, task_id, wrap_noisy_tv_compact, wrap_noisy_tv_raw
from curiosity.envs.registration import register_extra_envs
from curiosity.envs.schema import EnvSpecSummary
from curiosity.envs.state_key import StateKey
from curiosity.envs.wrappers import CompactGridObs, StepInfo, StickyActions, grid_size
from curiosity.seeding import RunStreams

STEP_KEYS = ("agent_x", "agent_y", "agent_dir")
CARRY_KEYS = ("carrying",)  # the carried object's type index after the action, -1 for none
EPISODE_KEYS = ("episode_return", "episode_length", "episode_success")


def resolve_env_id(env_id: str) -> str:
    """Check that ``env_id`` (a registered id or ``module:Id``) exists; return it.

    Raises ValueError with the id in the message instead of gymnasium's deep traceback.
    """
    register_extra_envs()
    name = env_id
    if ":" in env_id:
        module, name = env_id.split(":", 1)
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"env.id={env_id}: cannot import module '{module}' ({err})") from None
    if name not in gym.registry:
        raise ValueError(f"env.id={env_id}: no such gymnasium environment is registered")
    return env_id


def make_single_env(env_cfg, render_mode: str | None = None, full_grid_info: bool = False,
                    grid_crop: int = 0, level_seeds=None, state_keys: bool = False) -> gym.Env:
    """One wrapped env: task -> sticky actions -> step info -> compact grid obs (+ noisy TV).

    ``level_seeds`` pins the layouts to those seeds (the held-out evaluator passes one
    level per env, so the reset seed only seeds the wrappers' streams). ``state_keys`` adds
    ``info["state_key"]``, an exact-state hash (``curiosity.envs.state_key``).
    """
    kwargs = {}
    if env_cfg.max_episode_steps is not None:
        kwargs["max_steps"] = int(env_cfg.max_episode_steps)
    env = gym.make(task_id(env_cfg), render_mode=render_mode, **kwargs)  # a noisy-TV id -> its task
    install_fast_view(env)  # MiniGrid's egocentric view, same numbers, ~3x cheaper (fast_view.py)
    if level_seeds is not None:
        env = FixedLevels(env, level_seeds)
    elif getattr(env_cfg, "train_levels", 0) > 0:  # pin layouts to a finite training set
        env = FixedLevels(env, train_level_seeds(env_cfg.train_levels))
    env = wrap_noisy_tv_raw(env, env_cfg)  # in-world TV: outside level pinning, sees executed actions
    if env_cfg.sticky_action_prob > 0:
        env = StickyActions(env, env_cfg.sticky_action_prob)
    env = StepInfo(env)
    if state_keys:  # after every wrapper that changes the grid: it hashes the state the step left
        env = StateKey(env)
    env = CompactGridObs(env, full_obs=env_cfg.full_obs)
    env = wrap_noisy_tv_compact(env, env_cfg)  # remote TV: scrambles the compact grid
    if full_grid_info:  # the whole grid for the predictor (method.predictor_full_obs)
        env = FullGridInfo(env, crop=grid_crop)
    return env


class GridVectorEnv:
    """N copies of a wrapped MiniGrid task on gymnasium's sync or async vector env
    (a ``curiosity.envs.interface.VectorEnv``)."""

    backend = "python"

    def __init__(self, env_cfg, seed: int, full_grid_info: bool = False, grid_crop: int = 0,
                 generation: int = 0, state_keys: bool = False):
        resolve_env_id(env_cfg.id)
        fns = [lambda: make_single_env(env_cfg, full_grid_info=full_grid_info, grid_crop=grid_crop,
                                       state_keys=state_keys)
               for _ in range(env_cfg.num_envs)]
        cls = AsyncVectorEnv if env_cfg.vectorization == "async" else SyncVectorEnv
        self.venv = cls(fns, autoreset_mode=AutoresetMode.SAME_STEP)
        self.vectorization = env_cfg.vectorization
        self.num_envs = env_cfg.num_envs
        self.seed = seed
        # one reset seed per env from the run's SeedSequence (never seed + i: see curiosity.seeding)
        self.env_seeds = RunStreams(seed).env_seeds(self.num_envs, generation)
        self.tv_keys = TV_KEYS if getattr(env_cfg, "noisy_tv", "none") != "none" else ()
        self.full_grid_info = full_grid_info
        self.carry_keys = CARRY_KEYS + (("state_key",) if state_keys else ())
        probe = make_single_env(env_cfg, full_grid_info=full_grid_info, grid_crop=grid_crop)
        width, height = grid_size(probe)
        self.summary = EnvSpecSummary(
            obs_shape=tuple(probe.observation_space.shape),
            num_actions=int(probe.action_space.n),
            grid_width=width,
            grid_height=height,
            max_steps=int(probe.unwrapped.max_steps),
        )
        self.single_observation_space = probe.observation_space
        self.single_action_space = probe.action_space
        self.full_grid_space = probe.full_grid_space if full_grid_info else None
        probe.close()
        self._last_agent = None

    def reset(self) -> tuple[np.ndarray, dict]:
        obs, info = self.venv.reset(seed=self.env_seeds)
        keys = STEP_KEYS + (("full_grid",) if self.full_grid_info else ())
        return obs, {k: np.asarray(info[k]) for k in keys}

    def step(self, actions: np.ndarray):
        obs, reward, terminated, truncated, info = self.venv.step(actions)
        done = np.logical_or(terminated, truncated)
        out = {k: np.asarray(info[k]).copy() for k in STEP_KEYS + self.carry_keys + self.tv_keys}
        next_obs = obs.copy()
        for k in EPISODE_KEYS:
            out[k] = np.full(self.num_envs, np.nan)
        if done.any():
            final_info = info["final_info"]
            for i in np.flatnonzero(done):
                next_obs[i] = info["final_obs"][i]
                for k in STEP_KEYS + self.carry_keys + self.tv_keys + EPISODE_KEYS:  # the ended step's, not the reset's
                    out[k][i] = final_info[k][i]
        # pose in the observation to act on next (after any reset), for episode starts
        out["reset_x"], out["reset_y"], out["reset_dir"] = (np.asarray(info[k]) for k in STEP_KEYS)
        out["next_obs"] = next_obs
        out["valid"] = np.ones(self.num_envs, dtype=bool)
        if self.full_grid_info:  # the grid to act in next (after any reset), and the successors:
            # next_full_grid, the grid acted from next (re-centred window, the final one where an
            # episode ended); next_full_grid_fixed, cut from the window the step was taken in
            out["full_grid"] = np.asarray(info["full_grid"])
            out["next_full_grid"] = np.asarray(info["full_grid"]).copy()
            out["next_full_grid_fixed"] = np.asarray(info["full_grid_succ"]).copy()
            for i in np.flatnonzero(done):
                out["next_full_grid"][i] = info["final_info"]["full_grid"][i]
                out["next_full_grid_fixed"][i] = info["final_info"]["full_grid_succ"][i]
        return obs, reward.astype(np.float32), terminated, truncated, out

    @property
    def snapshottable(self) -> bool:
        """The sync envs live in this process and can be pickled; async workers cannot."""
        return self.vectorization == "sync"

    def snapshot(self) -> bytes:
        """The pickled envs (raises what pickling raises: a user task may hold a lambda)."""
        if not self.snapshottable:
            raise RuntimeError(f"env.vectorization={self.vectorization}: the envs live in worker processes")
        return pickle.dumps(self.venv.envs)

    def restore(self, blob: bytes) -> None:
        """The envs of a :meth:`snapshot`, in the state they were saved in."""
        if not self.snapshottable:
            raise RuntimeError(f"env.vectorization={self.vectorization}: the envs live in worker processes")
        self.venv.envs = pickle.loads(blob)

    def close(self) -> None:
        self.venv.close()
