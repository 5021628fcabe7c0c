"""The envpool backend against the Python backend: same obs format, rewards, limits, actions.

Layouts come from different RNGs, so step-by-step comparisons copy envpool's layout (its
debug state) into the Python env and then drive both with the same action sequence.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from minigrid.core.grid import Grid

pytest.importorskip("envpool", reason="envpool is not installed (optional extra 'fast')")

from curiosity.envs import make_single_env, make_vector_env  # noqa: E402
from curiosity.envs.envpool_backend import EnvpoolGridVectorEnv  # noqa: E402
from curiosity.envs.vector import GridVectorEnv  # noqa: E402
from curiosity.trainer import Trainer  # noqa: E402

LEFT, RIGHT, FORWARD = 0, 1, 2


def _env_cfg(compose, *overrides):
    return compose(["env=doorkey_8x8", "env.num_envs=2", *overrides]).env


def _python_env_with_layout(env_cfg, state):
    """A Python env reset to envpool's layout, pose and step count 0."""
    env = make_single_env(env_cfg)
    env.reset(seed=0)
    base = env.unwrapped
    # envpool's debug grid is x-major: cell (x, y) at index x * height + y
    grid = np.asarray(state.grid, dtype=np.uint8).reshape(state.width, state.height, 3)
    base.grid, _ = Grid.decode(grid)
    base.agent_pos = tuple(int(v) for v in state.agent_pos)
    base.agent_dir = int(state.agent_dir)
    base.carrying = None
    base.step_count = 0
    return env, env.observation(base.gen_obs())


def _run_matched(env_cfg, actions):
    """Step envpool env 0 and a Python env on its layout with ``actions``; stop at episode end."""
    pool = EnvpoolGridVectorEnv(env_cfg, seed=3)
    obs_pool, _ = pool.reset()
    env, obs_py = _python_env_with_layout(env_cfg, pool.pool.debug_states([0])[0])
    np.testing.assert_array_equal(obs_pool[0], obs_py)
    steps = []
    for a in actions:
        obs_pool, r_pool, term_pool, trunc_pool, info = pool.step(np.full(pool.num_envs, a))
        obs_py, r_py, term_py, trunc_py, info_py = env.step(a)
        steps.append((r_pool[0], r_py))
        np.testing.assert_array_equal(obs_pool[0], obs_py)
        assert (term_pool[0], trunc_pool[0]) == (term_py, trunc_py)
        assert r_pool[0] == pytest.approx(r_py, abs=1e-6)
        assert (info["agent_x"][0], info["agent_y"][0], info["agent_dir"][0]) == (
            info_py["agent_x"], info_py["agent_y"], info_py["agent_dir"])
        if term_py or trunc_py:
            assert info["episode_length"][0] == info_py["episode_length"]
            assert info["episode_return"][0] == pytest.approx(info_py["episode_return"], abs=1e-6)
            assert info["episode_success"][0] == info_py["episode_success"]
            break
    pool.close()
    return steps


def test_observation_format_and_spec_match_python_backend(compose):
    cfg = _env_cfg(compose, "env.backend=envpool")
    pool, py = make_vector_env(cfg, seed=1), GridVectorEnv(cfg, seed=1)
    assert pool.backend == "envpool" and isinstance(pool, EnvpoolGridVectorEnv)
    assert pool.summary == py.summary
    assert pool.single_observation_space == py.single_observation_space
    assert pool.single_action_space == py.single_action_space
    obs, info = pool.reset()
    rng = np.random.default_rng(0)
    for _ in range(50):
        obs, reward, term, trunc, info = pool.step(rng.integers(0, 7, size=pool.num_envs))
        assert obs.dtype == np.uint8 and obs.shape == (2, 7, 7, 4)
        assert all(pool.single_observation_space.contains(o) for o in obs)
        assert set(info) >= {"next_obs", "agent_x", "agent_y", "agent_dir", "reset_x", "reset_y",
                             "reset_dir", "episode_return", "episode_length", "episode_success", "valid"}
        assert reward.dtype == np.float32
        assert ((info["agent_x"] >= 1) & (info["agent_x"] < 7) & (info["agent_dir"] < 4)).all()
    pool.close()
    py.close()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_action_sequences_match_on_copied_doorkey_layout(compose, seed):
    actions = np.random.default_rng(seed).integers(0, 7, size=300)
    steps = _run_matched(_env_cfg(compose, "env=doorkey_5x5", "env.backend=envpool"), actions)
    assert len(steps) >= 50  # a long enough stretch of actions was compared


def test_success_reward_matches_minigrid_formula(compose):
    # Empty-8x8 starts at (1, 1) facing east; the goal is at (6, 6): 5 east, turn, 5 south
    route = [FORWARD] * 5 + [RIGHT] + [FORWARD] * 5
    cfg = _env_cfg(compose, "env=empty_8x8", "env.backend=envpool", "env.max_episode_steps=50")
    steps = _run_matched(cfg, route)
    assert len(steps) == 11
    assert steps[-1][0] == pytest.approx(1 - 0.9 * 11 / 50, abs=1e-6)


def test_time_limit_truncates_then_marks_the_autoreset_row_invalid(compose):
    cfg = _env_cfg(compose, "env.backend=envpool", "env.max_episode_steps=6")
    pool = make_vector_env(cfg, seed=1)
    pool.reset()
    for _ in range(6):
        obs, reward, term, trunc, info = pool.step(np.full(2, LEFT))  # turning never ends an episode
        assert info["valid"].all()
    assert trunc.all() and not term.any()
    np.testing.assert_array_equal(info["episode_length"], [6, 6])
    np.testing.assert_array_equal(info["episode_success"], [0.0, 0.0])
    np.testing.assert_array_equal(info["next_obs"], obs)  # the final obs is the successor
    assert (info["reset_x"] == -1).all()  # the reset pose arrives with the next row
    obs, reward, term, trunc, info = pool.step(np.full(2, FORWARD))
    assert not info["valid"].any() and not (term | trunc).any() and (reward == 0).all()
    assert (info["reset_x"] == info["agent_x"]).all()
    obs, reward, term, trunc, info = pool.step(np.full(2, LEFT))
    assert info["valid"].all()
    pool.close()


def test_sticky_actions_are_layered_on_envpool(compose):
    cfg = _env_cfg(compose, "env=empty_8x8", "env.backend=envpool", "env.sticky_action_prob=0.5",
                   "env.num_envs=8")
    pool = make_vector_env(cfg, seed=1)
    assert pool.backend == "envpool"
    pool.reset()
    pool.step(np.full(8, FORWARD))
    _, _, _, _, info = pool.step(np.full(8, LEFT))  # ~half repeat FORWARD: move instead of turn
    moved = info["agent_x"] == 3
    assert 0 < moved.sum() < 8
    assert (info["agent_dir"][moved] == 0).all() and (info["agent_dir"][~moved] == 3).all()
    pool.close()


@pytest.mark.parametrize("override, reason", [
    ("env.full_obs=true", "full observability"),
    ("env=multiroom_n7_s4", "no task"),
    ("env.train_levels=4", "env.train_levels=4"),
])
def test_unsupported_options_fall_back_to_python_with_a_warning(compose, caplog, override, reason):
    cfg = _env_cfg(compose, "env.backend=envpool", override)
    with caplog.at_level(logging.WARNING):
        envs = make_vector_env(cfg, seed=1)
    assert envs.backend == "python"
    assert "falling back to the python backend" in caplog.text and reason in caplog.text
    envs.close()


def test_trainer_excludes_autoreset_rows_and_is_deterministic(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "env.backend=envpool", "env.max_episode_steps=10",
                   "total_frames=256")
    rows = []
    for run in ("a", "b"):
        trainer = Trainer(cfg, tmp_path / run)
        rows.append(trainer.train(max_iterations=1))
        valid = trainer.storage.valid.bool()
        # 32 rows per env: episodes end at rows 9, 20, 31; rows 10 and 21 are envpool's autoresets
        assert int((~valid).sum()) == 2 * trainer.num_envs
        assert not valid[10].any() and not valid[21].any()
        assert torch.equal(trainer.storage.rewards_ext[~valid], torch.zeros(int((~valid).sum())))
        trainer.close()
    assert rows[0]["charts/episodes"] == 3 * 4
    assert rows[0]["charts/episode_length"] == 10
    assert rows[0]["losses/total"] == rows[1]["losses/total"]
