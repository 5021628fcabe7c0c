"""The env config schema (``env.*``): its own module so the env backends can read it
without importing the root config (which imports the envs to validate ids)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING


@dataclass
class EnvConfig:
    id: str = MISSING  # gymnasium id, or "module:Id" for a task from your own module
    num_envs: int = 16  # parallel copies
    vectorization: str = "sync"  # sync | async (gymnasium vector env)
    backend: str = "python"  # python (gymnasium MiniGrid) | envpool (C++ MiniGrid; python fallback where it lacks a task/option)
    envpool_threads: int = 1  # C++ worker threads of the envpool backend (0: one per env; 1 is fastest for 16 envs on 2 cores)
    full_obs: bool = False  # policy sees the whole grid instead of the egocentric 7x7 view
    sticky_action_prob: float = 0.0  # probability of repeating the previous action
    max_episode_steps: Any = None  # override the task's time limit (int or null)
    train_levels: int = 0  # train on layouts from level seeds 0..K-1 (0: a fresh layout every episode)
    noisy_tv: str = "none"  # none | remote (action shows random cells) | in_world (ball of random colour)
    tv_remote_action: int = 6  # action index that works the TV remote (6: done, a no-op in most tasks)
    tv_region_size: int = 3  # remote TV: side of the square of cells it scrambles, in the view's corner
    tv_whole_view: bool = False  # remote TV: scramble the whole view instead of a region
    tv_resample: str = "step"  # in-world TV: recolour every "step" or on each "remote" use (RIDE)
    tv_first_room: bool = False  # in-world TV: placed in MultiRoom's first room, where the agent starts (RIDE)


@dataclass
class EnvSpecSummary:
    """Static facts about the task the trainer and analysis need."""

    obs_shape: tuple[int, int, int]  # shape of the policy's observation: a grid of cells x 4 planes (uint8)
    num_actions: int  # size of the discrete action space
    grid_width: int  # width of the task's grid in cells (envpool: the widest env's)
    grid_height: int  # height of the task's grid in cells (envpool: the tallest env's)
    max_steps: int  # episode time limit in steps (env.max_episode_steps when set, else the task's own)
