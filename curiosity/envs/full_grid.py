"""The whole grid in ``info["full_grid"]``, for a predictor that sees more than the policy.

Predictor observability (``method.predictor_full_obs``): the policy keeps its egocentric
view while the forward model predicts the fully observed grid, the same compact
``(W, H, 4)`` layout ``CompactGridObs(full_obs=True)`` produces (agent written in,
direction in channel 3), except that the agent cell also shows what the agent carries
(colour channel = the carried object's colour, state channel = 1 key, 2 ball or box, 0
nothing). MiniGrid's fully observed grid hides the carried object (the egocentric view
shows it in the agent's cell), which makes "drop" unpredictable from the grid: a forward
model's error there never falls, and a curious agent learned to pick up and drop the key
forever. Only added when asked for: encoding the grid is a Python loop over all cells.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

from curiosity.envs.wrappers import NUM_COLORS, NUM_DIRECTIONS, NUM_OBJECTS, NUM_STATES

CARRY_STATE = {"key": 1, "ball": 2, "box": 2}  # agent cell's state channel: what it carries


def compact_full_grid(env: gym.Env) -> np.ndarray:
    """uint8 ``(W, H, 4)``: (object, colour, state, direction) of every cell, agent included."""
    base = env.unwrapped
    grid = np.empty((base.width, base.height, 4), dtype=np.uint8)
    grid[..., :3] = base.grid.encode()
    x, y = base.agent_pos
    grid[x, y, :3] = (OBJECT_TO_IDX["agent"], COLOR_TO_IDX["red"], 0)
    if base.carrying is not None:
        grid[x, y, 1] = COLOR_TO_IDX[base.carrying.color]
        grid[x, y, 2] = CARRY_STATE.get(base.carrying.type, 2)
    grid[..., 3] = base.agent_dir
    return grid


def full_grid_space(env: gym.Env) -> gym.spaces.Box:
    base = env.unwrapped
    high = np.empty((base.width, base.height, 4), dtype=np.uint8)
    high[...] = (NUM_OBJECTS - 1, NUM_COLORS - 1, NUM_STATES - 1, NUM_DIRECTIONS - 1)
    return gym.spaces.Box(0, high, dtype=np.uint8)


class FullGridInfo(gym.Wrapper):
    """Adds ``info["full_grid"]`` after every reset and step (after the action, before any reset)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.full_grid_space = full_grid_space(env)

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        info["full_grid"] = compact_full_grid(self.env)
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["full_grid"] = compact_full_grid(self.env)
        return obs, reward, terminated, truncated, info
