"""An exact-state key per step: ``info["state_key"]``, for counts on the true state.

RIDE's and NovelD's reference code count visits to the *full grid* (MiniGrid's
``FullyObsWrapper`` frame: every cell, the agent's position and direction), an exact-state
count, while their policy sees the egocentric view. ``method.module.key=state`` (count, and the
episodic counts inside ride and noveld) reads this key. It is privileged information: the
policy never sees the whole grid.

The key is a 63-bit hash of (the layout at reset, the agent's cell and direction, the carried
object, every cell whose content differs from the reset layout). Encoding the whole grid
each step is a Python loop over every cell (625 on MultiRoom's 25 x 25 grid), so the grid is
encoded once per episode and each step looks only at the cells that can have changed: those
holding a door, key, ball or box at reset (and wherever such an object is now), and the cell
in front of the agent at every executed pickup, drop or toggle. Within an episode two steps
get one key if and only if the full grid, pose and carried object are equal
(``tests/curiosity/envs/test_state_key.py`` checks this against the full encoding); across
episodes (a lifelong count) equal keys also need the same layout at reset. A task that
rewrites other cells by itself (none of MiniGrid's) would need them added here.
The hash is ``blake2b``, the same in every process (Python's ``hash`` of bytes is not).
"""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
from minigrid.core.actions import Actions
from minigrid.core.constants import OBJECT_TO_IDX

CHANGEABLE = ("door", "key", "ball", "box")  # object types whose cell can change in an episode
GRID_ACTIONS = (int(Actions.pickup), int(Actions.drop), int(Actions.toggle))  # act on the front cell
EMPTY = (OBJECT_TO_IDX["empty"], 0, 0)  # what Grid.encode writes for a free cell
KEY_MASK = (1 << 63) - 1


def digest(data: bytes) -> int:
    """A non-negative int64 from ``data``, the same in every process."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") & KEY_MASK


class StateKey(gym.Wrapper):
    """Adds ``info["state_key"]`` (int) after every reset and step: a hash of the full state."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._layout = b""
        self._reset_codes = None
        self._objects: list = []
        self._touched: set[tuple[int, int]] = set()  # cells that may differ from the reset layout

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        grid = self.env.unwrapped.grid
        self._reset_codes = grid.encode()  # (W, H, 3): once per episode
        self._layout = self._reset_codes.tobytes() + np.array(self._reset_codes.shape, np.int64).tobytes()
        self._objects = [o for o in grid.grid if o is not None and o.type in CHANGEABLE]
        # their cells at reset (Grid.set, which some tasks use for doors, leaves cur_pos None)
        self._touched = {(i % grid.width, i // grid.width) for i, o in enumerate(grid.grid)
                         if o is not None and o.type in CHANGEABLE}
        info["state_key"] = self.key()
        return obs, info

    def step(self, action):
        base = self.env.unwrapped
        front = tuple(int(v) for v in base.front_pos)  # the cell a pickup, drop or toggle acts on
        obs, reward, terminated, truncated, info = self.env.step(action)
        if int(info.get("executed_action", action)) in GRID_ACTIONS:  # sticky actions: what ran
            self._touched.add(front)
        info["state_key"] = self.key()
        return obs, reward, terminated, truncated, info

    def key(self) -> int:
        base = self.env.unwrapped
        grid = base.grid
        cells = set(self._touched)
        for obj in self._objects:  # where the changeable objects are now (carried: off the grid)
            if obj.cur_pos is not None:
                cells.add((int(obj.cur_pos[0]), int(obj.cur_pos[1])))
        changed = []
        for x, y in sorted(cells):
            if 0 <= x < grid.width and 0 <= y < grid.height:
                obj = grid.get(x, y)
                code = EMPTY if obj is None else tuple(int(v) for v in obj.encode())
                if code != tuple(int(v) for v in self._reset_codes[x, y]):
                    changed.extend((x, y, *code))
        carried = (-1, -1, -1) if base.carrying is None else tuple(int(v) for v in base.carrying.encode())
        pose = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir))
        return digest(self._layout + np.array(pose + carried + tuple(changed), np.int64).tobytes())


def full_state_bytes(env: gym.Env) -> bytes:
    """The full state the key stands for, encoded the slow way (tests check the key against it)."""
    base = env.unwrapped
    carried = (-1, -1, -1) if base.carrying is None else tuple(int(v) for v in base.carrying.encode())
    pose = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir))
    return base.grid.encode().tobytes() + np.array(pose + carried, np.int64).tobytes()
