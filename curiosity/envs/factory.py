"""The batched env for a config: the backend choice, including envpool's fallback to the
Python backend (with a logged warning saying why) where envpool cannot run the task."""

from __future__ import annotations

import logging

from curiosity.envs.envpool_backend import EnvpoolGridVectorEnv, envpool_unsupported
from curiosity.envs.vector import GridVectorEnv

log = logging.getLogger(__name__)


def make_envpool_or_python(env_cfg, seed: int, full_grid_info: bool = False, grid_crop: int = 0,
                           generation: int = 0, state_keys: bool = False):
    """The envpool vector env for ``env_cfg``, or the Python one with a warning saying why."""
    reason = envpool_unsupported(env_cfg, full_grid_info)
    if reason is None and state_keys:
        reason = "envpool cannot report the exact-state key a count on key=state needs"
    if reason is None:
        return EnvpoolGridVectorEnv(env_cfg, seed, generation=generation)
    log.warning("env.backend=envpool: %s; falling back to the python backend", reason)
    return GridVectorEnv(env_cfg, seed, full_grid_info=full_grid_info, grid_crop=grid_crop,
                         generation=generation, state_keys=state_keys)


def make_vector_env(env_cfg, seed: int, full_grid_info: bool = False, grid_crop: int = 0,
                    generation: int = 0, state_keys: bool = False):
    """Build the batched env for ``env_cfg``: N copies, each with its own streams derived
    from the run's ``SeedSequence(seed)`` (``generation`` > 0: a resume that reseeds).

    ``full_grid_info`` adds ``full_grid``/``next_full_grid`` to every step's info (python
    backend): the whole grid, or a ``grid_crop`` x ``grid_crop`` window around the agent.
    ``state_keys`` adds ``state_key``, an exact-state hash per step (python backend).
    """
    backend = getattr(env_cfg, "backend", "python")
    if backend == "envpool":  # falls back to python, with a logged warning, where envpool can't
        return make_envpool_or_python(env_cfg, seed, full_grid_info=full_grid_info, grid_crop=grid_crop,
                                      generation=generation, state_keys=state_keys)
    if backend != "python":
        raise ValueError(f"env.backend={backend}: unknown backend (choose 'python' or 'envpool')")
    return GridVectorEnv(env_cfg, seed, full_grid_info=full_grid_info, grid_crop=grid_crop,
                         generation=generation, state_keys=state_keys)
