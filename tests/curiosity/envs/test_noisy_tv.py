"""Noisy TVs: the remote, the in-world TV, seeding, valid spaces, registered ids, info flags."""

from collections import deque
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
from minigrid.core.world_object import Goal

from curiosity.envs import make_single_env, make_vector_env
from curiosity.envs.noisy_tv import BALL_IDX, DONE_ACTION, InWorldTV

SEEDS = (0, 1, 2)


def env_cfg(**kw):
    base = dict(id="MiniGrid-Empty-8x8-v0", num_envs=1, vectorization="sync", backend="python",
                full_obs=False, sticky_action_prob=0.0, max_episode_steps=None, train_levels=0,
                noisy_tv="none", tv_remote_action=DONE_ACTION, tv_region_size=3, tv_whole_view=False,
                tv_resample="step")
    base.update(kw)
    return SimpleNamespace(**base)


def find_wrapper(env, cls):
    while not isinstance(env, cls):
        env = env.env
    return env


def random_actions(n, seed=0):
    return np.random.default_rng(seed).integers(0, 7, size=n)


# ------------------------------------------------------------------ remote-control TV
@pytest.mark.parametrize("whole_view", [False, True])
def test_remote_changes_observation_only_when_its_action_is_taken(whole_view):
    plain = make_single_env(env_cfg(id="MiniGrid-DoorKey-8x8-v0"))
    tv = make_single_env(env_cfg(id="MiniGrid-DoorKey-8x8-v0", noisy_tv="remote", tv_whole_view=whole_view))
    p_obs, _ = plain.reset(seed=5)
    t_obs, info = tv.reset(seed=5)
    np.testing.assert_array_equal(p_obs, t_obs)
    assert not info["tv_action"] and not info["tv_in_view"]
    presses = 0
    for a in random_actions(150):
        screen_on = (t_obs != p_obs).any()  # the observation the action is taken on shows the TV
        p_obs, *_, p_done_t, p_done_tr, _ = plain.step(a)
        t_obs, *_, t_done_t, t_done_tr, info = tv.step(a)
        assert info["tv_in_prev_view"] == screen_on
        assert info["tv_action"] == info["tv_in_view"] == (a == DONE_ACTION)
        np.testing.assert_array_equal(t_obs[..., 3], p_obs[..., 3])  # direction is never scrambled
        if a != DONE_ACTION:
            np.testing.assert_array_equal(t_obs, p_obs)
        else:
            presses += 1
            changed = (t_obs != p_obs).any(axis=-1)
            if whole_view:
                assert changed.mean() > 0.5
            else:
                assert changed.any() and not changed[3:, :].any() and not changed[:, 3:].any()
        if p_done_t or p_done_tr:
            p_obs, _ = plain.reset()
            t_obs, _ = tv.reset()
    assert presses > 10


@pytest.mark.parametrize("full_obs", [False, True])
@pytest.mark.parametrize("whole_view", [False, True])
def test_remote_keeps_observations_in_the_space(full_obs, whole_view):
    env = make_single_env(env_cfg(noisy_tv="remote", full_obs=full_obs, tv_whole_view=whole_view,
                                  tv_region_size=7))
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    for _ in range(60):  # only the remote: every observation is a scrambled one
        obs, *_ = env.step(DONE_ACTION)
        assert env.observation_space.contains(obs)


def test_remote_channels_are_seeded():
    def screens(seed):
        env = make_single_env(env_cfg(noisy_tv="remote"))
        env.reset(seed=seed)
        return np.stack([env.step(DONE_ACTION)[0][:3, :3, :3] for _ in range(20)])

    np.testing.assert_array_equal(screens(3), screens(3))
    assert not np.array_equal(screens(3), screens(4))


def test_remote_region_must_fit_the_view():
    with pytest.raises(ValueError, match="env.tv_region_size=8"):
        make_single_env(env_cfg(noisy_tv="remote", tv_region_size=8))


# ------------------------------------------------------------------ in-world TV
def tv_colours(env, actions):
    tv = find_wrapper(env, InWorldTV)
    return [tv.tv.color] + [(env.step(a), tv.tv.color)[1] for a in actions]


@pytest.mark.parametrize("task", ["MiniGrid-Empty-8x8-v0", "MiniGrid-MultiRoom-N4-S5-v0"])
def test_in_world_tv_colour_changes_every_step_and_is_seeded(task):
    def colours(seed):
        env = make_single_env(env_cfg(id=task, noisy_tv="in_world"))
        env.reset(seed=seed)
        return tv_colours(env, [0, 1] * 15)  # turning in place: the episode never ends

    a, b = colours(7), colours(7)
    assert a == b
    assert len(set(a)) >= 4  # 6 colours, 31 draws
    assert sum(x != y for x, y in zip(a, a[1:])) > 15  # it changes on most steps
    assert colours(8) != a


def test_in_world_tv_in_remote_mode_changes_only_on_the_remote():
    env = make_single_env(env_cfg(noisy_tv="in_world", tv_resample="remote"))
    env.reset(seed=0)
    actions = [0, 1, 6, 0, 6, 6, 1, 0, 6] * 4
    cols = tv_colours(env, actions)
    for a, before, after in zip(actions, cols, cols[1:]):
        if a != DONE_ACTION:
            assert before == after
    assert len(set(cols)) > 1


@pytest.mark.parametrize("full_obs", [False, True])
def test_in_world_tv_in_view_flag_matches_the_observation(full_obs):
    """Empty-8x8 has no other ball: the flag is True exactly when a ball cell is in the obs."""
    env = make_single_env(env_cfg(noisy_tv="in_world", full_obs=full_obs))
    seen = []
    for seed in SEEDS:
        obs, info = env.reset(seed=seed)
        assert env.observation_space.contains(obs)
        assert info["tv_in_view"] == (obs[..., 0] == BALL_IDX).any() and not info["tv_in_prev_view"]
        for a in random_actions(80, seed) % 3:  # move around; no remote needed (step mode)
            was_in_view = info["tv_in_view"]
            obs, _, term, trunc, info = env.step(a)
            assert env.observation_space.contains(obs)
            assert info["tv_in_prev_view"] == was_in_view
            tv = find_wrapper(env, InWorldTV)
            balls = obs[..., 0] == BALL_IDX
            assert info["tv_in_view"] == balls.any()
            if balls.any():
                assert obs[balls][0, 1] == ["red", "green", "blue", "purple", "yellow", "grey"].index(tv.tv.color)
            seen.append(info["tv_in_view"])
            if term or trunc:
                break
    assert any(seen) and (full_obs or not all(seen))


def goal_reachable(base) -> bool:
    grid = base.grid
    start = tuple(int(v) for v in base.agent_pos)
    todo, seen = deque([start]), {start}
    while todo:
        x, y = todo.popleft()
        if isinstance(grid.get(x, y), Goal):
            return True
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            cell = grid.get(nx, ny)
            if (nx, ny) not in seen and (cell is None or cell.can_overlap() or cell.type == "door"):
                seen.add((nx, ny))
                todo.append((nx, ny))
    return False


def test_in_world_tv_keeps_the_layout_and_never_blocks_the_goal():
    for seed in range(15):
        plain = gym.make("MiniGrid-MultiRoom-N4-S5-v0")
        tv_env = make_single_env(env_cfg(id="MiniGrid-MultiRoom-N4-S5-v0", noisy_tv="in_world"))
        plain.reset(seed=seed)
        tv_env.reset(seed=seed)
        tv = find_wrapper(tv_env, InWorldTV)
        assert tv.tv_pos is not None
        p, t = plain.unwrapped.grid.encode(), tv_env.unwrapped.grid.encode()
        differ = np.argwhere((p != t).any(axis=-1))
        assert [tuple(d) for d in differ] == [tv.tv_pos]  # the TV is the only change
        assert tuple(plain.unwrapped.agent_pos) == tuple(tv_env.unwrapped.agent_pos)
        assert goal_reachable(tv_env.unwrapped)


def test_in_world_tv_cannot_be_picked_up():
    env = make_single_env(env_cfg(noisy_tv="in_world"))
    env.reset(seed=0)
    assert not find_wrapper(env, InWorldTV).tv.can_pickup()


# ------------------------------------------------------------------ registered noisy-TV tasks
@pytest.mark.parametrize("env_id", ["MiniGrid-MultiRoomNoisyTV-N7-S4-v0", "MiniGrid-MultiRoomNoisyTV-N4-S5-v0"])
def test_registered_noisy_tv_tasks(env_id):
    env = gym.make(env_id)  # standalone, RIDE-style: the remote recolours the ball
    env.reset(seed=0)
    tv = find_wrapper(env, InWorldTV)
    assert tv.resample == "remote" and tv.tv_pos is not None
    cols = tv_colours(env, [6] * 12)
    assert len(set(cols)) > 1
    rooms = 7 if "N7" in env_id else 4
    assert len(env.unwrapped.rooms) == rooms
    # in the trainer, the id needs env.noisy_tv=in_world (the TV is added from the config)
    with pytest.raises(ValueError, match=f"env.id={env_id}.*noisy_tv=in_world"):
        make_single_env(env_cfg(id=env_id))
    wrapped = make_single_env(env_cfg(id=env_id, noisy_tv="in_world", tv_resample="remote"))
    wrapped.reset(seed=0)
    layers, e = [], wrapped
    while isinstance(e, gym.Wrapper):
        layers.append(type(e))
        e = e.env
    assert layers.count(InWorldTV) == 1
    assert len(wrapped.unwrapped.rooms) == rooms  # the trainer's task has as many rooms as the id says


# ------------------------------------------------------------------ flags through the vector env
def test_vector_env_reports_the_ended_steps_flags_not_the_resets():
    """SAME_STEP autoreset: at an episode end the flags must be the final step's, not the reset's."""
    envs = make_vector_env(env_cfg(num_envs=2, max_episode_steps=3, noisy_tv="remote"), seed=0)
    envs.reset()
    script = np.array([[0, 6], [6, 0], [6, 6], [1, 6]])  # both episodes end at step 3 (index 2)
    prev_expected = np.array([[0, 0], [0, 1], [1, 0], [0, 0]], dtype=bool)  # none after the reset
    for t, actions in enumerate(script):
        _, _, term, trunc, info = envs.step(actions)
        assert info["tv_action"].dtype == bool
        np.testing.assert_array_equal(info["tv_action"], actions == DONE_ACTION)
        np.testing.assert_array_equal(info["tv_in_view"], actions == DONE_ACTION)
        np.testing.assert_array_equal(info["tv_in_prev_view"], prev_expected[t])
        assert (term | trunc).all() == (t == 2)
    envs.close()


def test_vector_env_without_tv_reports_no_flags():
    envs = make_vector_env(env_cfg(num_envs=2), seed=0)
    envs.reset()
    _, _, _, _, info = envs.step(np.array([6, 6]))
    assert "tv_action" not in info and "tv_in_view" not in info
    envs.close()


@pytest.mark.parametrize("tv", ["remote", "in_world"])
def test_tv_state_survives_a_checkpoint_round_trip(tv):
    """Sync envs are pickled into checkpoints: a restored TV must continue the same channels."""
    import pickle

    env = make_single_env(env_cfg(noisy_tv=tv))
    env.reset(seed=2)
    for a in (6, 0, 6):
        env.step(a)
    twin = pickle.loads(pickle.dumps(env))
    for a in (6, 1, 6, 6, 2, 6):
        obs, *_, info = env.step(a)
        t_obs, *_, t_info = twin.step(a)
        np.testing.assert_array_equal(obs, t_obs)
        assert info == t_info


@pytest.mark.parametrize("env_id", ["MiniGrid-MultiRoomNoisyTV-N7-S4-v0", "MiniGrid-MultiRoomNoisyTV-N4-S5-v0"])
def test_registered_noisy_tv_sits_in_the_first_room_as_in_ride(env_id):
    """RIDE places the TV ball in the room the agent starts in (multiroom_noisytv.py)."""
    env = gym.make(env_id)
    tv = find_wrapper(env, InWorldTV)
    for seed in range(20):
        env.reset(seed=seed)
        (left, top), (width, height) = env.unwrapped.rooms[0].top, env.unwrapped.rooms[0].size
        x, y = tv.tv_pos
        assert left < x < left + width - 1 and top < y < top + height - 1, (seed, tv.tv_pos)
    # the config key builds the same TV in the trainer; a task without rooms refuses it
    wrapped = make_single_env(env_cfg(id=env_id, noisy_tv="in_world", tv_first_room=True))
    assert find_wrapper(wrapped, InWorldTV).first_room
    with pytest.raises(ValueError, match="env.tv_first_room=true"):
        make_single_env(env_cfg(noisy_tv="in_world", tv_first_room=True))
