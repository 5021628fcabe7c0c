"""Count bonus (issue 17) on the episode-aware contract (issue 14): hand-computed counts,
resets only at that env's episode starts, memory through checkpoint/resume."""

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch

from baselines.count import CountBonus
from curiosity.intrinsic.rollout import Rollout
from curiosity.trainer import Trainer

SPACE = gym.spaces.Box(0, 10, (3, 3, 4), dtype=np.uint8)
ACTIONS = gym.spaces.Discrete(7)


def rollout(states, starts, valid=None, poses=None):
    """A synthetic (T, N) rollout whose successor grid at (t, n) is filled with ``states[t][n]``."""
    t, n = len(states), len(states[0])
    nxt = torch.tensor(states, dtype=torch.uint8)[..., None, None, None].expand(t, n, 3, 3, 4).contiguous()
    valid = torch.ones(t, n, dtype=torch.bool) if valid is None else torch.tensor(valid)
    z = torch.zeros(t, n, dtype=torch.bool)
    pose = torch.tensor(poses) if poses is not None else torch.full((t, n), -1)
    return Rollout(obs=torch.zeros_like(nxt), next_obs=nxt, action=torch.zeros(t, n, dtype=torch.long),
                   terminated=z, truncated=z, done=z, valid=valid, episode_start=torch.tensor(starts),
                   agent_x=pose, agent_y=torch.zeros_like(pose), agent_dir=torch.zeros_like(pose),
                   carrying=torch.full((t, n), -1))


def test_episodic_count_by_hand_resets_only_at_that_envs_episode_start():
    m = CountBonus(SPACE, ACTIONS, num_envs=2)
    # env 0 visits A, A, then its episode restarts at t=2 and it visits A again; env 1 visits
    # B, B, B, B in one episode (env 0's restart must not reset env 1)
    r = m.score_rollout(rollout([[1, 2], [1, 2], [1, 2], [3, 2]],
                                [[True, True], [False, False], [True, False], [False, False]]))
    s2, s3 = 2 ** -0.5, 3 ** -0.5
    torch.testing.assert_close(r, torch.tensor([[1.0, 1.0], [s2, s2], [1.0, s3], [1.0, 0.5]]))


def test_memory_carries_across_rollouts_until_the_episode_starts():
    m = CountBonus(SPACE, ACTIONS, num_envs=1)
    m.score_rollout(rollout([[5], [5]], [[True], [False]]))
    assert m.score_rollout(rollout([[5]], [[False]])).item() == pytest.approx(3 ** -0.5)
    assert m.score_rollout(rollout([[5]], [[True]])).item() == 1.0


def test_invalid_rows_score_zero_and_do_not_count():
    m = CountBonus(SPACE, ACTIONS, num_envs=1)
    r = m.score_rollout(rollout([[7], [7], [7]], [[True], [False], [True]], valid=[[True], [False], [True]]))
    torch.testing.assert_close(r, torch.tensor([[1.0], [0.0], [1.0]]))


def test_lifelong_counts_never_reset_and_pose_keys_need_a_pose():
    m = CountBonus(SPACE, ACTIONS, mode="lifelong", num_envs=1)
    r = m.score_rollout(rollout([[4], [4], [4]], [[True], [True], [True]]))
    torch.testing.assert_close(r, torch.tensor([[1.0], [2 ** -0.5], [3 ** -0.5]]))
    pose = CountBonus(SPACE, ACTIONS, key="pose", num_envs=1)
    # same grid, different poses: counted apart
    r = pose.score_rollout(rollout([[4], [4], [4]], [[True], [False], [False]], poses=[[1], [2], [1]]))
    torch.testing.assert_close(r, torch.tensor([[1.0], [1.0], [2 ** -0.5]]))
    with pytest.raises(ValueError, match="key=pose"):
        pose.score_rollout(rollout([[4]], [[True]]))


def test_memory_is_in_the_state_dict():
    m = CountBonus(SPACE, ACTIONS, num_envs=1)
    m.score_rollout(rollout([[5], [5]], [[True], [False]]))
    fresh = CountBonus(SPACE, ACTIONS, num_envs=1)
    fresh.load_state_dict(m.state_dict())
    assert fresh.score_rollout(rollout([[5]], [[False]])).item() == pytest.approx(3 ** -0.5)


def test_bad_options_are_one_line_errors():
    with pytest.raises(ValueError, match="method.module.mode=often"):
        CountBonus(SPACE, ACTIONS, mode="often")


def _metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in csv.DictReader(f)]


def test_trainer_resets_at_episode_starts_and_resumes_bitwise(tiny_cfg, tmp_path):
    cfg = tiny_cfg("method=count", "total_frames=768", "env.max_episode_steps=20")
    full = Trainer(cfg, tmp_path / "full")
    try:
        full.train(max_iterations=1)
        s = full.storage
        # every env's first row starts an episode; after a done row the next row starts one
        assert s.episode_start[0].all()
        assert torch.equal(s.episode_start[1:], s.dones[:-1].bool() | (s.valid[:-1] < 1))
        assert s.dones.sum() > 0
        full.train()
    finally:
        full.close()
    cut_cfg = tiny_cfg("method=count", "total_frames=768", "env.max_episode_steps=20",
                       "logger.checkpoint_every=1")
    cut = Trainer(cut_cfg, tmp_path / "cut")
    try:
        cut.train(max_iterations=2)
    finally:
        cut.close()
    resumed = Trainer(cut_cfg, tmp_path / "cut")
    try:
        assert resumed.intrinsic.episodic == cut.intrinsic.episodic  # memory restored
        resumed.train()
    finally:
        resumed.close()
    assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "full")
