"""The fast egocentric view returns exactly MiniGrid's own ``gen_obs`` observation."""

import pickle

import gymnasium as gym
import numpy as np
import pytest
from minigrid.minigrid_env import MiniGridEnv

from curiosity.envs import register_extra_envs
from curiosity.envs.fast_view import FastEgocentricView, install_fast_view

# every task family the configs name: doors and keys carried, boxes, occluding walls, the
# cue objects of Memory, the in-world noisy TV, a larger view and see-through walls
TASKS = [("MiniGrid-DoorKey-8x8-v0", {}), ("MiniGrid-MultiRoom-N4-S5-v1", {}),
         ("MiniGrid-KeyCorridorS4R3-v0", {}), ("MiniGrid-ObstructedMaze-2Dlhb-v1", {}),
         ("MiniGrid-MemoryS7-v0", {}), ("MiniGrid-MultiRoomNoisyTV-N7-S4-v0", {}),
         ("MiniGrid-FourRooms-v0", {"agent_view_size": 9}),
         ("MiniGrid-DoorKey-6x6-v0", {"see_through_walls": True})]


@pytest.fixture(autouse=True, scope="module")
def _registered():
    register_extra_envs()


@pytest.mark.parametrize("task, kwargs", TASKS, ids=[t for t, _ in TASKS])
def test_view_equals_minigrid_gen_obs_on_a_random_walk(task, kwargs):
    env = gym.make(task, **kwargs)
    env.reset(seed=3)
    base = env.unwrapped
    fast = FastEgocentricView(base)
    rng = np.random.default_rng(0)
    for _ in range(400):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            env.reset(seed=int(rng.integers(1 << 30)))
        reference = MiniGridEnv.gen_obs(base)
        got = fast()
        assert np.array_equal(got["image"], reference["image"])
        assert got["direction"] == reference["direction"] and got["mission"] == reference["mission"]
    env.close()


def test_installed_env_steps_the_same_and_still_pickles():
    plain, fast = gym.make("MiniGrid-DoorKey-8x8-v0"), gym.make("MiniGrid-DoorKey-8x8-v0")
    assert install_fast_view(fast)
    obs_a, _ = plain.reset(seed=7)
    obs_b, _ = fast.reset(seed=7)
    assert np.array_equal(obs_a["image"], obs_b["image"])
    for action in [2, 2, 1, 2, 3, 0, 2, 5, 2]:
        obs_a = plain.step(action)[0]
        obs_b = fast.step(action)[0]
        assert np.array_equal(obs_a["image"], obs_b["image"])
    clone = pickle.loads(pickle.dumps(fast))  # checkpoints pickle the envs
    assert np.array_equal(clone.step(1)[0]["image"], plain.step(1)[0]["image"])
    assert clone.unwrapped.gen_obs.env is clone.unwrapped


def test_a_task_with_its_own_gen_obs_is_left_alone():
    class OwnView(MiniGridEnv):
        def gen_obs(self):
            return super().gen_obs()

    env = gym.make("MiniGrid-Empty-5x5-v0")
    env.unwrapped.__class__ = type("EmptyOwnView", (OwnView, type(env.unwrapped)), {})
    assert not install_fast_view(env)
    assert "gen_obs" not in vars(env.unwrapped)
