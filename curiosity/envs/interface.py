"""The vector-env interface the trainer uses, declared once: both backends implement it.

``GridVectorEnv`` (``curiosity/envs/vector.py``, gymnasium's python MiniGrid) and
``EnvpoolGridVectorEnv`` (``curiosity/envs/envpool_backend.py``, envpool's C++ MiniGrid) are
``VectorEnv``s; ``make_vector_env`` returns one of them. The trainer reads nothing else of an
env: no backend name, no inner gymnasium vector env.

- ``reset() -> (obs, info)``: uint8 compact grids ``(N, H, W, 4)`` and the start pose
  (``agent_x/agent_y/agent_dir``; ``full_grid`` with the predictor's grid).
- ``step(actions) -> (obs, reward, terminated, truncated, info)``: numpy arrays only, the
  flat info dict of ``curiosity/envs/vector.py`` (``next_obs``, pose, episode stats,
  ``valid``, the noisy-TV flags, the predictor's grids).
- ``snapshottable``: whether ``snapshot``/``restore`` can carry the envs' state through a
  checkpoint (python envs in one process; not async workers, not envpool).
- ``snapshot() -> bytes``: the envs' state; may raise (a user task holding a lambda or a
  file handle does not pickle: the caller warns and saves everything else).
- ``restore(blob)``: the state of a ``snapshot``.
- ``full_grid_space``: the predictor's grid Box when the env reports it
  (``full_grid_info``), else None.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from curiosity.envs.schema import EnvSpecSummary


@runtime_checkable
class VectorEnv(Protocol):
    """N copies of a MiniGrid task behind one flat step interface (see the module doc)."""

    backend: str  # "python" | "envpool": for logs and reports; the trainer does not branch on it
    num_envs: int
    summary: EnvSpecSummary
    single_observation_space: gym.spaces.Box
    single_action_space: gym.spaces.Discrete
    full_grid_space: gym.spaces.Box | None

    @property
    def snapshottable(self) -> bool: ...

    def reset(self) -> tuple[np.ndarray, dict]: ...

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]: ...

    def snapshot(self) -> bytes: ...

    def restore(self, blob: bytes) -> None: ...

    def close(self) -> None: ...
