"""method.predictor_full_obs: the predictor sees the whole grid, the policy its own view."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from curiosity.envs import make_single_env
from curiosity.envs.full_grid import CARRY_STATE, UNSEEN_IDX, compact_full_grid
from curiosity.envs.noisy_tv import DONE_ACTION, RemoteControlTV
from curiosity.envs.wrappers import AGENT_IDX, COLOR_TO_IDX
from curiosity.trainer import Trainer


def test_full_grid_info_matches_the_fully_observed_observation(tiny_cfg):
    """The same cells as the policy's full view; the direction only in the agent's cell (the
    policy's compact grid broadcasts it to every cell: a neutral view must not, issue 26)."""
    cfg = tiny_cfg("env.full_obs=true")
    env = make_single_env(cfg.env, full_grid_info=True)

    def check(obs, grid):
        np.testing.assert_array_equal(grid[..., :3], obs[..., :3])
        agent = grid[..., 0] == AGENT_IDX
        assert agent.sum() == 1 and (grid[..., 3][agent] == obs[..., 3][agent]).all()
        assert not grid[..., 3][~agent].any()

    obs, info = env.reset(seed=3)
    check(obs, info["full_grid"])
    for action in (2, 1, 2, 0, 3, 5):
        obs, *_, info = env.step(action)
        check(obs, info["full_grid"])
    env.close()


def test_full_grid_shows_what_the_agent_carries(tiny_cfg):
    """Without it, "drop" is unpredictable from the grid and pick-up/drop loops pay forever."""
    env = make_single_env(tiny_cfg().env, full_grid_info=True)
    env.reset(seed=0)
    base = env.unwrapped
    key = next(o for o in base.grid.grid if o is not None and o.type == "key")
    _, info = env.reset(seed=0)
    x, y = base.agent_pos
    assert tuple(info["full_grid"][x, y, :3]) == (AGENT_IDX, COLOR_TO_IDX["red"], 0)
    base.carrying = key  # as after a pickup
    carried = compact_full_grid(env)
    assert tuple(carried[x, y, :3]) == (AGENT_IDX, COLOR_TO_IDX[key.color], CARRY_STATE["key"])
    env.close()


def test_predictor_gets_true_full_grid_successors_while_policy_keeps_its_view(tiny_cfg, tmp_path):
    # DoorKey-8x8: thousands of layouts and poses, so a truncated episode's final grid never
    # equals the next episode's first grid by chance (on DoorKey-5x5's ~50 it sometimes did)
    cfg = tiny_cfg("env=doorkey_8x8", "method=forward_conv", "method.predictor_full_obs=true",
                   "method.obs_norm_init_steps=2", "total_frames=256", "env.max_episode_steps=10",
                   "method.module.hidden_channels=8", "method.predictor_crop=0")
    trainer = Trainer(cfg, tmp_path)
    try:
        trainer.collect_rollout({k: 0.0 for k in ("env", "inference", "storage")})
        batch = trainer._transitions(torch.arange(8))
    finally:
        trainer.close()
    s = trainer.storage
    assert tuple(s.obs.shape[2:]) == (7, 7, 4)  # the policy's egocentric view
    assert tuple(s.pred_obs.shape[2:]) == (8, 8, 4) == tuple(batch.obs.shape[1:])  # DoorKey-8x8, whole
    assert trainer.intrinsic.obs_shape == (8, 8, 4)
    # one agent per grid, and successors chain: next_obs[t] == obs[t+1] unless the episode ended
    assert ((s.pred_obs[..., 0] == AGENT_IDX).sum((-1, -2)) == 1).all()
    assert ((s.pred_next_obs[..., 0] == AGENT_IDX).sum((-1, -2)) == 1).all()
    cont = s.dones[:-1] == 0
    assert torch.equal(s.pred_next_obs[:-1][cont], s.pred_obs[1:][cont])
    ended = s.dones[:-1] == 1
    assert ended.any(), "max_episode_steps=10 must end episodes inside the rollout"
    # at an episode end the successor is the final grid, not the next episode's first one
    different = (s.pred_next_obs[:-1][ended] != s.pred_obs[1:][ended]).flatten(1).any(1)
    assert different.all()
    assert batch.obs_input.shape == (8, 24, 8, 8)


def test_full_grid_flag_leaves_the_policy_rollout_unchanged(tiny_cfg, tmp_path):
    """Adding the full grid to info must not change what the policy sees or does."""
    rollouts = []
    for full in (False, True):
        cfg = tiny_cfg("method=forward_conv", f"method.predictor_full_obs={full}", "total_frames=256",
                       "method.module.hidden_channels=8")
        trainer = Trainer(cfg, tmp_path / str(full))
        try:
            trainer.collect_rollout({k: 0.0 for k in ("env", "inference", "storage")})
        finally:
            trainer.close()
        rollouts.append((trainer.storage.obs.clone(), trainer.storage.actions.clone()))
    assert torch.equal(rollouts[0][0], rollouts[1][0]) and torch.equal(rollouts[0][1], rollouts[1][1])
    assert OmegaConf.select(cfg, "method.predictor_full_obs") is True


# ------------------------------------------------------------------ method.predictor_crop
def test_crop_is_a_world_aligned_window_of_the_full_grid(tiny_cfg):
    cfg = tiny_cfg("env=doorkey_8x8")
    env = make_single_env(cfg.env, full_grid_info=True, grid_crop=5)
    _, info = env.reset(seed=4)
    base = env.unwrapped
    cases = [(info["full_grid"], tuple(int(v) for v in base.agent_pos))]
    base.agent_pos = (1, 1)  # a corner: part of the window lies past the grid's edge
    cases.append((compact_full_grid(env, 5), (1, 1)))
    whole = compact_full_grid(env)
    outside = 0
    for crop, (x, y) in cases:
        assert crop.shape == (5, 5, 4) and crop[2, 2, 0] == AGENT_IDX  # the agent in the middle
        for i in range(5):
            for j in range(5):
                wx, wy = x - 2 + i, y - 2 + j
                if 0 <= wx < base.width and 0 <= wy < base.height:
                    if (wx, wy) != (1, 1) and (i, j) != (2, 2):  # the agent moved between the cases
                        np.testing.assert_array_equal(crop[i, j, :3], whole[wx, wy, :3])
                else:
                    assert crop[i, j, 0] == UNSEEN_IDX
                    outside += 1
    assert outside == 9  # the corner case: 2 columns + 2 rows past the edge, less their overlap
    env.close()


def test_crop_successor_is_cut_from_the_window_the_step_was_taken_in(tiny_cfg):
    """Moving forward must show the agent one cell off the middle, not re-centred."""
    env = make_single_env(tiny_cfg("env=empty_8x8").env, full_grid_info=True, grid_crop=5)
    env.reset(seed=0)
    base = env.unwrapped
    before = tuple(int(v) for v in base.agent_pos)
    _, _, _, _, info = env.step(2)  # forward
    after = tuple(int(v) for v in base.agent_pos)
    assert after != before, "the agent must move for this test"
    dx, dy = after[0] - before[0], after[1] - before[1]
    succ, current = info["full_grid_succ"], info["full_grid"]
    assert succ[2 + dx, 2 + dy, 0] == AGENT_IDX and succ[2, 2, 0] != AGENT_IDX
    assert current[2, 2, 0] == AGENT_IDX  # the next step's window is centred again
    env.close()


def test_trainer_predictor_sees_the_crop(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_8x8", "method=forward_conv", "method.predictor_crop=5", "total_frames=256",
                   "method.module.hidden_channels=8")
    trainer = Trainer(cfg, tmp_path)
    try:
        trainer.collect_rollout({k: 0.0 for k in ("env", "inference", "storage")})
        assert tuple(trainer.storage.pred_obs.shape[2:]) == (5, 5, 4)
        assert trainer.intrinsic.obs_shape == (5, 5, 4)
        assert (trainer.storage.pred_obs[..., 2, 2, 0] == AGENT_IDX).all()  # windows centred on the agent
    finally:
        trainer.close()


@pytest.mark.parametrize("crop", [0, 5])
def test_remote_tv_is_drawn_into_the_predictors_grid(tiny_cfg, crop):
    """A full-grid predictor must face the TV too, or its immunity to it is a confound."""
    cfg = tiny_cfg("env=doorkey_8x8", "env.noisy_tv=remote", "env.tv_region_size=3")
    env = make_single_env(cfg.env, full_grid_info=True, grid_crop=crop)
    _, info = env.reset(seed=1)
    plain = info["full_grid"]
    _, _, _, _, info = env.step(DONE_ACTION)
    shown = info["full_grid"]
    obs_screen = find_tv(env).on_screen
    np.testing.assert_array_equal(shown[:3, :3, :3], obs_screen)
    np.testing.assert_array_equal(shown[3:, 3:], plain[3:, 3:])  # nothing else changes on `done`
    _, _, _, _, info = env.step(DONE_ACTION - 1)  # any other action switches it off
    assert find_tv(env).on_screen is None
    np.testing.assert_array_equal(info["full_grid"][:3, :3], plain[:3, :3])
    env.close()


def find_tv(env):
    while not isinstance(env, RemoteControlTV):
        env = env.env
    return env


@pytest.mark.parametrize("overrides", [["method.predictor_crop=4"], ["method.predictor_crop=1"],
                                       ["method.predictor_crop=-3"]])
def test_bad_crop_is_refused(tiny_cfg, overrides):
    from curiosity.config import ConfigError, validate

    with pytest.raises(ConfigError, match="method.predictor_crop"):
        validate(tiny_cfg("method=forward_conv", *overrides))


def test_renderers_windows_equal_the_trainers(tiny_cfg):
    """The renderer and heatmaps cut windows with compact_full_grid(env, crop, centre); the
    trainer gets them from FullGridInfo. Both must give the same pair for every step."""
    cfg = tiny_cfg("env=doorkey_8x8", "env.noisy_tv=remote")
    env = make_single_env(cfg.env, full_grid_info=True, grid_crop=5)
    _, info = env.reset(seed=2)
    base = env.unwrapped
    for action in (2, 2, 1, 2, DONE_ACTION, 2, 0, 2, 5, DONE_ACTION):
        np.testing.assert_array_equal(compact_full_grid(env, 5), info["full_grid"])
        centre = tuple(int(v) for v in base.agent_pos)
        _, _, _, _, info = env.step(action)
        np.testing.assert_array_equal(compact_full_grid(env, 5, centre), info["full_grid_succ"])
    env.close()
