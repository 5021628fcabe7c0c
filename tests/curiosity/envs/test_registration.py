"""The memory-cue task: the cue is in the first view and nowhere after the first step east."""

import gymnasium as gym
import numpy as np
from minigrid.core.constants import OBJECT_TO_IDX

from curiosity.envs.registration import MEMORY_CUE_ID, register_extra_envs

FORWARD = 2


def _cue(env) -> int:
    """The start room's object (the cue), as MiniGrid's object index."""
    u = env.unwrapped
    return OBJECT_TO_IDX[u.grid.get(1, u.height // 2 - 1).type]


def test_cue_is_in_the_first_view_and_out_of_sight_after_one_step():
    register_extra_envs()
    env = gym.make(MEMORY_CUE_ID)
    cues = set()
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        u = env.unwrapped
        assert tuple(u.agent_pos) == (1, u.height // 2) and u.agent_dir == 0
        cue = _cue(env)
        cues.add(cue)
        # the cell to the agent's left in the view's nearest row holds the cue
        assert obs["image"][2, 6, 0] == cue
        obs, *_ = env.step(FORWARD)
        # after one step east the start room's left column is behind the agent: the view's
        # cells now show only the hallway, the fork objects and walls
        seen = obs["image"][:, 4:, 0]  # the rows nearest the agent: start room and hallway
        assert cue not in set(np.unique(seen)) - {OBJECT_TO_IDX["wall"]}
    assert cues == {OBJECT_TO_IDX["key"], OBJECT_TO_IDX["ball"]}


def test_the_matching_object_pays_and_the_other_ends_the_episode_with_nothing():
    register_extra_envs()
    env = gym.make(MEMORY_CUE_ID)
    for seed in range(6):
        env.reset(seed=seed)
        u = env.unwrapped
        for _ in range(4):  # walk east to the fork
            env.step(FORWARD)
        up_is_success = u.success_pos[1] < u.height // 2
        env.step(0 if up_is_success else 1)  # turn towards the matching object (left = north)
        _, reward, terminated, _, _ = env.step(FORWARD)
        assert terminated and reward > 0.9
        env.reset(seed=seed)
        for _ in range(4):
            env.step(FORWARD)
        env.step(1 if up_is_success else 0)
        _, reward, terminated, _, _ = env.step(FORWARD)
        assert terminated and reward == 0
