"""An exact-state key per step: ``info["state_key"]``, for counts on the true state.

RIDE's and NovelD's reference code count visits to the *full grid* (MiniGrid's
``FullyObsWrapper`` frame: every cell, the agent's position and direction), an exact-state
count, while their policy sees the egocentric view. ``method.module.key=state`` (count, and the
episodic counts inside ride and noveld) reads this key. It is privileged information: the
policy never sees the whole grid.

The key is a 63-bit hash of (the layout at reset, the agent's cell and direction, the carried
object, every cell whose content differs from the reset layout, in (x, y) order). Encoding
the whole grid each step is a Python loop over every cell (625 on MultiRoom's 25 x 25 grid),
so the grid's codes live in the env's one ``curiosity.envs.grid_cache.EncodedGrid``
(shared with the policy's view and the predictor's grid): encoded once per episode, then
only the cells that can have changed are re-encoded each step (cells that got another
object, found by an identity comparison of the cell list; cells holding a door, key, ball,
box or any object whose code can change in place), and the changed cells are a numpy
comparison with the codes at reset. Within an episode two steps get one key if and only if
the full grid, pose and carried object are equal (``tests/curiosity/envs/test_state_key.py``
checks this against the full encoding); across episodes (a lifelong count) equal keys also
need the same layout at reset. Until issue 29 the key looked at the cells holding a door,
key, ball or box at reset or now and the cell in front of the agent at every executed pickup,
drop or toggle; the keys are the same (``test_full_grid_incremental.py`` checks the new key
against that one at every step of random walks), and a task that moves objects by itself
needs nothing more now.
The hash is ``blake2b``, the same in every process (Python's ``hash`` of bytes is not).
"""

from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np

from curiosity.envs.grid_cache import shared_cache

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
        self.cache = shared_cache(env)  # the grid's codes now (the env's one cache, shared with the view)
        self._base = env.unwrapped  # gymnasium's `unwrapped` walks the chain on every read
        self._changed = (-1, b"")  # (cache version, bytes of the cells changed since reset)

    def reset(self, *, seed=None, options=None):
        """Reset, encode the layout once for the episode, report its key."""
        obs, info = self.env.reset(seed=seed, options=options)
        self.cache.update(self._base.grid)  # a new Grid object: encoded whole (once per episode)
        self._changed = (-1, b"")  # the diff is with this episode's layout
        self._reset_codes = self.cache.codes.copy()  # (W, H, 3): Grid.encode() at reset
        self._layout = self._reset_codes.tobytes() + np.array(self._reset_codes.shape, np.int64).tobytes()
        info["state_key"] = self.key()
        return obs, info

    def step(self, action):
        """Step and report the key of the state reached."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["state_key"] = self.key()
        return obs, reward, terminated, truncated, info

    def key(self) -> int:
        """The hash of (layout at reset, pose, carried object, cells changed since reset)."""
        base = self._base
        self.cache.update(base.grid)  # a few cells (idempotent: calling key() twice is fine)
        if self._changed[0] != self.cache.version:  # the codes changed: diff them with reset's
            codes = self.cache.codes
            cells = np.argwhere((codes != self._reset_codes).any(-1))  # (k, 2), sorted by (x, y)
            changed = np.concatenate([cells, codes[cells[:, 0], cells[:, 1]]], axis=1).astype(np.int64)
            self._changed = (self.cache.version, changed.tobytes())
        carried = (-1, -1, -1) if base.carrying is None else tuple(int(v) for v in base.carrying.encode())
        pose = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir))
        return digest(self._layout + np.array(pose + carried, np.int64).tobytes() + self._changed[1])


def full_state_bytes(env: gym.Env) -> bytes:
    """The full state the key stands for, encoded the slow way (tests check the key against it)."""
    base = env.unwrapped
    carried = (-1, -1, -1) if base.carrying is None else tuple(int(v) for v in base.carrying.encode())
    pose = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir))
    return base.grid.encode().tobytes() + np.array(pose + carried, np.int64).tobytes()
