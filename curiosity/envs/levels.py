"""Fixed level-seed sets: a finite training set of layouts and disjoint held-out layouts.

A MiniGrid layout is a function of the seed passed to ``reset``. Training on
``env.train_levels = K`` draws every episode's layout from the seeds ``0 .. K-1``
(Procgen's ``num_levels``); evaluation uses the seeds ``HELDOUT_START + i``, which no
training set can reach, so "held-out" is guaranteed rather than probable. With
``train_levels = 0`` training sees a fresh procedurally generated layout every episode
(the task's own RNG stream) and the held-out seeds are simply a fixed evaluation set
shared by every run, so methods are compared on identical layouts.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from curiosity.seeding import LEVELS, wrapper_rng

HELDOUT_START = 1 << 30  # first held-out seed; training sets must stay below it
MAX_TRAIN_LEVELS = HELDOUT_START


def train_level_seeds(num_levels: int) -> range:
    """The seeds of a training set of ``num_levels`` layouts (a lazy range: sets can be huge)."""
    if not 0 <= num_levels <= MAX_TRAIN_LEVELS:
        raise ValueError(f"train_levels={num_levels}: must be in [0, {MAX_TRAIN_LEVELS}]")
    return range(num_levels)


def heldout_level_seeds(num_levels: int) -> range:
    """The seeds of ``num_levels`` held-out layouts, disjoint from every training set."""
    if num_levels < 1:
        raise ValueError(f"held-out levels={num_levels}: must be >= 1")
    return range(HELDOUT_START, HELDOUT_START + num_levels)


class FixedLevels(gym.Wrapper):
    """Every reset lays out one of ``level_seeds``, chosen uniformly at random.

    Wrap the bare task (innermost), so only the layout is pinned: the seed passed to the
    first ``reset`` seeds the choice of levels, and outer wrappers (sticky actions, noisy
    TV) keep their own RNG streams instead of restarting them at every episode.
    """

    def __init__(self, env: gym.Env, level_seeds: Sequence[int]):
        super().__init__(env)
        if len(level_seeds) == 0:
            raise ValueError("FixedLevels needs at least one level seed")
        self.level_seeds = level_seeds
        self._chooser = np.random.default_rng()
        self.current_level: int | None = None

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._chooser = wrapper_rng(seed, LEVELS)
        self.current_level = int(self.level_seeds[self._chooser.integers(len(self.level_seeds))])
        obs, info = self.env.reset(seed=self.current_level, options=options)
        info["level_seed"] = self.current_level
        return obs, info
