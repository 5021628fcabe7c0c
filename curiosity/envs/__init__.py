"""Environment factory, wrappers and encodings for MiniGrid tasks."""

from curiosity.envs.encoding import GRID_PLANES, OBS_PLANES, onehot_planes_batched
from curiosity.envs.factory import make_vector_env
from curiosity.envs.registration import register_extra_envs
from curiosity.envs.vector import GridVectorEnv, make_single_env, resolve_env_id

register_extra_envs()

__all__ = [
    "GRID_PLANES",
    "OBS_PLANES",
    "GridVectorEnv",
    "make_single_env",
    "make_vector_env",
    "onehot_planes_batched",
    "register_extra_envs",
    "resolve_env_id",
]
