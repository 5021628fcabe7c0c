"""Single-env wrappers: compact grid observations, sticky actions, per-step info.

The policy and the intrinsic modules both consume a *compact* grid: a uint8 array
``(H, W, 4)`` holding (object idx, colour idx, state idx, agent direction) per cell. It is
8x smaller than one-hot planes in storage, and one-hot encoding happens on ``device`` in
one batched op (``curiosity.envs.encoding``). The fourth channel repeats the agent's
direction in every cell so the observation is a single array.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX
from minigrid.wrappers import FullyObsWrapper

from curiosity.seeding import STICKY, wrapper_rng

NUM_OBJECTS = 11  # MiniGrid object indices 0..10
NUM_COLORS = 6
NUM_STATES = 3  # open, closed, locked
NUM_DIRECTIONS = 4
AGENT_IDX = OBJECT_TO_IDX["agent"]


class CompactGridObs(gym.ObservationWrapper):
    """MiniGrid dict observation -> uint8 ``(H, W, 4)`` grid (object, colour, state, direction).

    ``full_obs=True`` shows the whole grid with the agent written in (FullyObsWrapper); its
    agent cell stores the direction in the *state* channel, which we reset to 0 because the
    direction already lives in channel 3 and states must stay in 0..2.
    """

    def __init__(self, env: gym.Env, full_obs: bool = False):
        if full_obs:
            env = FullyObsWrapper(env)
        super().__init__(env)
        self.full_obs = full_obs
        h, w, _ = env.observation_space["image"].shape
        high = np.empty((h, w, 4), dtype=np.uint8)
        high[..., 0] = NUM_OBJECTS - 1
        high[..., 1] = NUM_COLORS - 1
        high[..., 2] = NUM_STATES - 1
        high[..., 3] = NUM_DIRECTIONS - 1
        self.observation_space = gym.spaces.Box(0, high, dtype=np.uint8)

    def observation(self, obs):
        image = obs["image"]
        grid = np.empty(image.shape[:2] + (4,), dtype=np.uint8)
        grid[..., :3] = image
        grid[..., 3] = obs["direction"]
        if self.full_obs:
            agent_cells = grid[..., 0] == AGENT_IDX
            grid[..., 2][agent_cells] = 0
        return grid


class StickyActions(gym.Wrapper):
    """With probability ``p`` the previous action is repeated instead of the chosen one.

    Uses its own RNG, a child of the reset seed (``curiosity.seeding.wrapper_rng``), so
    sticky actions never perturb the layout RNG of the task: p=0 and p>0 runs see the same
    sequence of levels.
    """

    def __init__(self, env: gym.Env, p: float):
        super().__init__(env)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"sticky action probability must be in [0, 1), got {p}")
        self.p = p
        self._rng = np.random.default_rng()
        self._last_action = None

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = wrapper_rng(seed, STICKY)
        self._last_action = None
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        if self._last_action is not None and self._rng.random() < self.p:
            action = self._last_action
        self._last_action = action
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["executed_action"] = int(action)
        return obs, reward, terminated, truncated, info


class StepInfo(gym.Wrapper):
    """Adds the agent's (x, y, dir) and carried object (its type index, -1 for none) to every
    step's info, and episode stats at episode end.

    Success is a positive extrinsic reward at termination (MiniGrid pays
    ``1 - 0.9 * steps / max_steps`` only on reaching the goal).
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._return = 0.0
        self._length = 0

    def _agent_info(self, info: dict) -> dict:
        base = self.env.unwrapped
        x, y = base.agent_pos
        info["agent_x"] = int(x)
        info["agent_y"] = int(y)
        info["agent_dir"] = int(base.agent_dir)
        carried = base.carrying
        info["carrying"] = -1 if carried is None else int(OBJECT_TO_IDX[carried.type])
        return info

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._return, self._length = 0.0, 0
        return obs, self._agent_info(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        if terminated or truncated:
            info["episode_return"] = self._return
            info["episode_length"] = self._length
            info["episode_success"] = float(terminated and reward > 0)
        return obs, reward, terminated, truncated, self._agent_info(info)


def grid_size(env: gym.Env) -> tuple[int, int]:
    """(width, height) of the underlying MiniGrid grid, for coverage maps."""
    base = env.unwrapped
    return int(base.width), int(base.height)


__all__ = [
    "AGENT_IDX",
    "COLOR_TO_IDX",
    "NUM_COLORS",
    "NUM_DIRECTIONS",
    "NUM_OBJECTS",
    "NUM_STATES",
    "CompactGridObs",
    "StepInfo",
    "StickyActions",
    "grid_size",
]
