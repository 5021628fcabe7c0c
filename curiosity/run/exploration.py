"""Exploration metrics every method logs: per-episode cells, cumulative states, visit counts."""

from __future__ import annotations

import numpy as np


class ExplorationTracker:
    """Counts where the agents go, from the (x, y, dir) each env reports every step.

    - distinct (x, y) cells visited per episode (reported when an episode ends);
    - cumulative distinct (x, y, dir) states since the start of training (over all envs;
      coordinates, so on procedurally generated tasks it measures spread over the grid);
    - per-cell visitation counts, saved by the trainer at intervals for coverage heatmaps.
    """

    def __init__(self, num_envs: int, width: int, height: int):
        self.episode_cells = np.zeros((num_envs, width, height), dtype=bool)
        self.visits = np.zeros((width, height), dtype=np.int64)
        self.states_seen = np.zeros((width, height, 4), dtype=bool)
        self._envs = np.arange(num_envs)

    def start(self, x: np.ndarray, y: np.ndarray, d: np.ndarray, envs=None) -> None:
        """Record the starting pose of fresh episodes (all envs by default).

        A pose of -1 means "not known yet" (envpool resets on the next step): that episode's
        start is recorded by the next step's row instead.
        """
        envs = self._envs if envs is None else envs
        envs = envs[x[envs] >= 0]
        self.episode_cells[envs, x[envs], y[envs]] = True
        np.add.at(self.visits, (x[envs], y[envs]), 1)
        self.states_seen[x[envs], y[envs], d[envs]] = True

    def restart_episodes(self, x: np.ndarray, y: np.ndarray, d: np.ndarray) -> None:
        """All envs were reset outside the loop: forget partial episodes, record the new starts."""
        self.episode_cells[...] = False
        self.start(x, y, d)

    def step(self, x, y, d, done: np.ndarray, reset_x, reset_y, reset_dir) -> list[int]:
        """Record one vector step; return the cell counts of the episodes that ended."""
        self.episode_cells[self._envs, x, y] = True
        np.add.at(self.visits, (x, y), 1)
        self.states_seen[x, y, d] = True
        ended = np.flatnonzero(done)
        counts = [int(self.episode_cells[i].sum()) for i in ended]
        if len(ended):
            self.episode_cells[ended] = False
            self.start(reset_x, reset_y, reset_dir, envs=ended)
        return counts

    @property
    def distinct_states(self) -> int:
        return int(self.states_seen.sum())

    def state_dict(self) -> dict:
        return {"episode_cells": self.episode_cells.copy(), "visits": self.visits.copy(),
                "states_seen": self.states_seen.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.episode_cells[...] = state["episode_cells"]
        self.visits[...] = state["visits"]
        self.states_seen[...] = state["states_seen"]
