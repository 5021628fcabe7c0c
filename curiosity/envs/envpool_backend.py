"""``env.backend=envpool``: envpool's C++ MiniGrid behind ``GridVectorEnv``'s step interface.

envpool ships the MiniGrid tasks with partial (egocentric 7x7) observations and steps them
about 20x faster than the Python env. This backend returns exactly what
``curiosity.envs.vector.GridVectorEnv.step`` returns (compact uint8 ``(N, 7, 7, 4)`` grids
and the same flat info dict), with one difference the trainer already handles:

envpool autoresets on the *next* step (gymnasium's ``NEXT_STEP``). The step that ends an
episode returns the final observation (so ``next_obs`` is the true successor); the step
after it ignores the action and returns the reset observation with reward 0. That row is
not a transition: it is reported with ``valid=False`` and the trainer drops it from GAE and
every loss. Its pose is the new episode's start, so the done row reports
``reset_x/y/dir = -1`` (not known yet) and the exploration tracker records the start from
the invalid row instead.

What envpool lacks falls back to the Python backend with a logged warning (never
silently): a task id envpool does not register (e.g. the extra MultiRoom variants),
``full_obs``, the full grid a full-grid predictor needs, envpool not importable, and any
env option this backend does not know how to reproduce (an ``EnvConfig`` field it does not
handle, set away from its default: e.g. a noisy TV or ``train_levels``). Sticky actions are
layered on here with their own RNG, as the Python wrapper does. ``env.vectorization`` does
not apply (envpool steps in its own C++ threads: ``env.envpool_threads``), and checkpoints
cannot hold envpool's env state, so a resumed run restarts its episodes.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np

from curiosity.envs.schema import EnvConfig, EnvSpecSummary
from curiosity.envs.wrappers import NUM_COLORS, NUM_DIRECTIONS, NUM_OBJECTS, NUM_STATES
from curiosity.seeding import RunStreams

# EnvConfig fields this backend reproduces; any other field away from its default forces
# the Python backend (so options added later are never silently dropped).
HANDLED_FIELDS = frozenset({"id", "num_envs", "vectorization", "backend", "max_episode_steps",
                            "sticky_action_prob", "envpool_threads"})


def envpool_task_ids() -> frozenset[str]:
    """The MiniGrid task ids envpool registers (empty when envpool is not importable)."""
    try:
        import envpool
    except ImportError:
        return frozenset()
    return frozenset(t for t in envpool.list_all_envs() if t.startswith("MiniGrid-"))


def envpool_unsupported(env_cfg, full_grid_info: bool = False) -> str | None:
    """Why ``env_cfg`` cannot run on envpool, or None when it can."""
    try:
        import envpool  # noqa: F401
    except ImportError as err:
        return f"envpool is not importable ({err}); install the 'fast' extra"
    if env_cfg.id not in envpool_task_ids():
        return f"envpool has no task env.id={env_cfg.id}"
    if env_cfg.full_obs:
        return "envpool has no full observability (env.full_obs=true)"
    if full_grid_info:
        return "envpool cannot report the full grid a full-grid predictor needs"
    for f in dataclasses.fields(EnvConfig):
        if f.name in HANDLED_FIELDS or f.name not in env_cfg:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if env_cfg[f.name] != default:
            return f"the envpool backend cannot reproduce env.{f.name}={env_cfg[f.name]}"
    return None


def compact_grid_space(view: int) -> gym.spaces.Box:
    """The Box of compact ``(view, view, 4)`` grids, identical to ``CompactGridObs``'s."""
    high = np.empty((view, view, 4), dtype=np.uint8)
    high[...] = (NUM_OBJECTS - 1, NUM_COLORS - 1, NUM_STATES - 1, NUM_DIRECTIONS - 1)
    return gym.spaces.Box(0, high, dtype=np.uint8)


class EnvpoolGridVectorEnv:
    """N copies of an envpool MiniGrid task with ``GridVectorEnv``'s reset/step interface
    (a ``curiosity.envs.interface.VectorEnv``)."""

    backend = "envpool"
    full_grid_space = None  # envpool cannot report the predictor's grid (the factory falls back)
    snapshottable = False  # the C++ envs' state cannot be saved: a resume restarts episodes

    def __init__(self, env_cfg, seed: int, generation: int = 0):
        import envpool

        kwargs = {"num_threads": int(getattr(env_cfg, "envpool_threads", 0))}
        if env_cfg.max_episode_steps is not None:
            kwargs["max_episode_steps"] = int(env_cfg.max_episode_steps)
        streams = RunStreams(seed)
        # envpool seeds env i with base + i: a base drawn from the run's stream, never the
        # run seed itself (runs s and s+1 would share all but one env)
        self.pool_seed = streams.envpool_seed(generation)
        self.pool = envpool.make(env_cfg.id, env_type="gymnasium", num_envs=env_cfg.num_envs,
                                 seed=self.pool_seed, **kwargs)
        self.num_envs = env_cfg.num_envs
        self.seed = seed
        self.sticky_p = float(env_cfg.sticky_action_prob)
        view = int(self.pool.spec.config.agent_view_size)
        self.single_observation_space = compact_grid_space(view)
        self.single_action_space = gym.spaces.Discrete(int(self.pool.action_space.n))
        self._grid = np.zeros((self.num_envs, view, view, 4), dtype=np.uint8)
        self._episode_return = np.zeros(self.num_envs)
        self._episode_length = np.zeros(self.num_envs, dtype=np.int64)
        self._reset_next = np.zeros(self.num_envs, dtype=bool)  # envpool resets these rows on this step
        self._last_action = np.zeros(self.num_envs, dtype=np.int64)
        self._has_last = np.zeros(self.num_envs, dtype=bool)
        self._sticky_rng = streams.envpool_sticky_rng(generation)
        self.pool.reset()
        states = self.pool.debug_states()
        self.summary = EnvSpecSummary(
            obs_shape=(view, view, 4),
            num_actions=self.single_action_space.n,
            grid_width=max(int(s.width) for s in states),
            grid_height=max(int(s.height) for s in states),
            max_steps=int(self.pool.spec.config.max_episode_steps),
        )

    def _compact(self, obs: dict) -> np.ndarray:
        """envpool's dict obs -> a fresh uint8 ``(N, H, W, 4)`` compact grid."""
        grid = self._grid.copy()
        grid[..., :3] = obs["image"]
        grid[..., 3] = obs["direction"][:, None, None]
        return grid

    @staticmethod
    def _pose(obs: dict, info: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.asarray(info["agent_pos"], dtype=np.int64)
        return pos[:, 0].copy(), pos[:, 1].copy(), np.asarray(obs["direction"], dtype=np.int64)

    def reset(self) -> tuple[np.ndarray, dict]:
        obs, info = self.pool.reset()
        self._episode_return[:] = 0.0
        self._episode_length[:] = 0
        self._reset_next[:] = False
        self._has_last[:] = False
        x, y, d = self._pose(obs, info)
        return self._compact(obs), {"agent_x": x, "agent_y": y, "agent_dir": d}

    def _sticky(self, actions: np.ndarray) -> np.ndarray:
        """Repeat each env's previous action with probability p (never on an episode's first step)."""
        if self.sticky_p <= 0:
            return actions
        repeat = (self._sticky_rng.random(self.num_envs) < self.sticky_p) & self._has_last
        executed = np.where(repeat, self._last_action, actions)
        self._last_action[:] = executed
        self._has_last[:] = ~self._reset_next  # the reset step ignores its action
        return executed

    def step(self, actions: np.ndarray):
        actions = self._sticky(np.asarray(actions, dtype=np.int64))
        obs, reward, terminated, truncated, info = self.pool.step(actions.astype(np.int32))
        valid = ~self._reset_next
        reward = np.where(valid, reward, 0.0).astype(np.float32)
        terminated = np.asarray(terminated, dtype=bool) & valid
        truncated = np.asarray(truncated, dtype=bool) & valid
        done = terminated | truncated

        self._episode_return = np.where(valid, self._episode_return + reward, 0.0)
        self._episode_length = np.where(valid, self._episode_length + 1, 0)
        grid = self._compact(obs)
        x, y, d = self._pose(obs, info)
        out = {"agent_x": x, "agent_y": y, "agent_dir": d}
        nan = np.full(self.num_envs, np.nan)
        out["episode_return"] = np.where(done, self._episode_return, nan)
        out["episode_length"] = np.where(done, self._episode_length, nan)
        out["episode_success"] = np.where(done, (terminated & (reward > 0)).astype(float), nan)
        # the reset pose of an episode that ended here arrives with the next (invalid) row
        for key, value in (("reset_x", x), ("reset_y", y), ("reset_dir", d)):
            out[key] = np.where(done, -1, value)
        out["next_obs"] = grid  # the final obs where done (envpool has not reset yet)
        out["valid"] = valid
        self._reset_next = done
        return grid, reward, terminated, truncated, out

    def snapshot(self) -> bytes:
        raise RuntimeError("env.backend=envpool: the C++ envs' state cannot be saved")

    def restore(self, blob: bytes) -> None:
        raise RuntimeError("env.backend=envpool: the C++ envs' state cannot be restored")

    def close(self) -> None:
        close = getattr(self.pool, "close", None)
        if close is not None:
            close()
