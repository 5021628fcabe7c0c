"""The batched env: encoding, info contents, and the autoreset trap."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest

from curiosity.envs import make_single_env, make_vector_env, resolve_env_id
from curiosity.envs.registration import MULTIROOM_VARIANTS


def env_cfg(**kw):
    base = dict(id="MiniGrid-DoorKey-5x5-v0", num_envs=3, vectorization="sync", backend="python",
                full_obs=False, sticky_action_prob=0.0, max_episode_steps=None)
    base.update(kw)
    return SimpleNamespace(**base)


def test_partial_obs_is_compact_egocentric_grid():
    envs = make_vector_env(env_cfg(), seed=0)
    obs, info = envs.reset()
    assert obs.shape == (3, 7, 7, 4) and obs.dtype == np.uint8
    assert all(envs.single_observation_space.contains(o) for o in obs)
    # direction channel is constant over the grid and equals the reported direction
    assert (obs[..., 3] == info["agent_dir"][:, None, None]).all()
    envs.close()


def test_full_obs_covers_grid_and_marks_agent():
    envs = make_vector_env(env_cfg(full_obs=True), seed=0)
    obs, info = envs.reset()
    assert obs.shape == (3, 5, 5, 4)
    for i in range(3):
        x, y = info["agent_x"][i], info["agent_y"][i]
        assert obs[i, x, y, 0] == 10  # agent object idx at its position
        assert obs[i, x, y, 2] == 0  # state channel cleared (direction lives in channel 3)
        assert envs.single_observation_space.contains(obs[i])
    envs.close()


def test_next_obs_at_episode_end_is_final_obs_not_reset_obs():
    """The NEXT_STEP trap: the successor stored for a terminal step must be the true final obs."""
    cfg = env_cfg(num_envs=1, max_episode_steps=4)
    envs = make_vector_env(cfg, seed=3)
    single = make_single_env(cfg)
    obs, _ = envs.reset()
    s_obs, _ = single.reset(seed=envs.env_seeds[0])  # env 0 of run 3: its own stream
    np.testing.assert_array_equal(obs[0], s_obs)
    rng = np.random.default_rng(0)
    for _ in range(4):
        a = rng.integers(0, 3)  # turn/forward only: cannot finish the task in 4 steps
        obs, reward, term, trunc, info = envs.step(np.array([a]))
        s_next, s_rew, s_term, s_trunc, _ = single.step(a)
        np.testing.assert_array_equal(info["next_obs"][0], s_next)
    assert trunc[0] and not term[0]
    assert info["episode_length"][0] == 4 and info["episode_success"][0] == 0.0
    # the returned obs is the reset obs of the next episode, which differs from the final one
    s_reset, _ = single.reset()
    np.testing.assert_array_equal(obs[0], s_reset)
    assert not np.array_equal(obs[0], info["next_obs"][0])
    assert info["valid"].all()


def test_info_carries_pose_every_step_and_episode_stats_only_at_end():
    envs = make_vector_env(env_cfg(max_episode_steps=6), seed=1)
    envs.reset()
    for _ in range(6):
        _, _, term, trunc, info = envs.step(np.full(3, 2))
        for k in ("agent_x", "agent_y", "agent_dir"):
            assert info[k].shape == (3,)
        done = term | trunc
        assert np.isnan(info["episode_return"][~done]).all()
        assert not np.isnan(info["episode_return"][done]).any()
    assert done.all()


def test_sticky_actions_repeat_previous_action():
    cfg = env_cfg(num_envs=1, sticky_action_prob=0.9)
    env = make_single_env(cfg)
    env.reset(seed=0)
    executed = []
    for a in [0, 1, 1, 1, 1, 1, 1, 1, 1, 1]:
        executed.append(env.step(a)[4]["executed_action"])
    assert executed[0] == 0 and executed.count(0) >= 5  # most later steps repeat action 0


def test_extra_multiroom_variants_are_registered():
    for suffix, (rooms, size) in MULTIROOM_VARIANTS.items():
        env = gym.make(f"MiniGrid-MultiRoom-{suffix}-v0")
        env.reset(seed=0)
        assert len(env.unwrapped.rooms) == rooms
        assert max(max(r.size) for r in env.unwrapped.rooms) <= size
        env.close()


def test_module_colon_id_and_unknown_ids():
    assert resolve_env_id("minigrid:MiniGrid-Empty-5x5-v0") == "minigrid:MiniGrid-Empty-5x5-v0"
    envs = make_vector_env(env_cfg(id="minigrid:MiniGrid-Empty-5x5-v0", num_envs=2), seed=0)
    assert envs.reset()[0].shape == (2, 7, 7, 4)
    with pytest.raises(ValueError, match="MiniGrid-Nope-v0"):
        resolve_env_id("MiniGrid-Nope-v0")
    with pytest.raises(ValueError, match="no_such_module"):
        resolve_env_id("no_such_module:Thing-v0")


def test_async_vectorization_matches_sync():
    sync = make_vector_env(env_cfg(), seed=5)
    asyn = make_vector_env(env_cfg(vectorization="async"), seed=5)
    o1, _ = sync.reset()
    o2, _ = asyn.reset()
    np.testing.assert_array_equal(o1, o2)
    for a in [2, 0, 2, 1]:
        r1 = sync.step(np.full(3, a))
        r2 = asyn.step(np.full(3, a))
        np.testing.assert_array_equal(r1[0], r2[0])
    sync.close()
    asyn.close()


@pytest.mark.parametrize("name, rooms", [("multiroom_n2_s4", 2), ("multiroom_n4_s5", 4), ("multiroom_n6_s5", 6),
                                         ("multiroom_n7_s4", 7)])
def test_multiroom_configs_build_as_many_rooms_as_they_say(compose, name, rooms):
    """MiniGrid-MultiRoom-N4-S5-v0 has six rooms in minigrid 3.x: the config must not say four."""
    env = make_single_env(compose([f"env={name}"]).env)
    env.reset(seed=0)
    assert len(env.unwrapped.rooms) == rooms
    env.close()
