"""The tv/* distraction metrics count what they claim, alone and inside the trainer."""

import csv
import math

import numpy as np
import torch

from curiosity.envs import make_vector_env
from curiosity.envs.noisy_tv import DONE_ACTION, tv_distraction_metrics
from curiosity.intrinsic import IntrinsicModule
from curiosity.trainer import Trainer

TV_COLUMNS = ("tv/action_frac", "tv/in_view_frac", "tv/int_reward_share")


def test_metrics_on_a_scripted_rollout():
    # T=5 steps x N=2 envs; the last row of env 1 is not a real transition (valid=0)
    action = torch.tensor([[1, 0], [0, 1], [1, 1], [0, 0], [0, 0]], dtype=torch.bool)
    view = torch.tensor([[0, 0], [1, 0], [0, 0], [1, 0], [0, 0]], dtype=torch.bool)
    prev = torch.tensor([[0, 0], [0, 0], [0, 0], [0, 0], [0, 1]], dtype=torch.bool)
    reward = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 5.0], [1.0, 6.0], [7.0, 100.0]])
    valid = torch.tensor([[1, 1], [1, 1], [1, 1], [1, 1], [1, 0]], dtype=torch.float32)
    m = tv_distraction_metrics(action, view, prev, reward, valid)
    assert math.isclose(m["tv/action_frac"], 4 / 9)  # remote on 4 of the 9 valid rows
    assert math.isclose(m["tv/in_view_frac"], 2 / 9)
    # TV steps among valid rows (remote, TV in the successor) earn 1 + 3 + 4 + 0 + 5 + 1 of 29;
    # the last row of env 1 would add 100 through prev but is not valid
    assert math.isclose(m["tv/int_reward_share"], 14 / 29)
    prev[0, 1] = True  # the TV in the transition's input makes it a TV step too: +2
    assert math.isclose(tv_distraction_metrics(action, view, prev, reward, valid)["tv/int_reward_share"], 16 / 29)
    no_reward = tv_distraction_metrics(action, view, prev, torch.zeros(5, 2), valid)
    assert math.isnan(no_reward["tv/int_reward_share"])


def test_metrics_on_a_scripted_episode_through_the_vector_env(tiny_cfg):
    """Flags from a scripted episode (across an episode end) give the hand-counted fractions."""
    cfg = tiny_cfg("env=empty_8x8", "env.noisy_tv=remote", "env.num_envs=2", "env.max_episode_steps=5")
    envs = make_vector_env(cfg.env, seed=0)
    envs.reset()
    script = np.array([[6, 0], [2, 6], [6, 6], [0, 1], [6, 2], [6, 0], [1, 1]])  # 7 steps, ends at 5
    flags = {"tv_action": [], "tv_in_view": [], "tv_in_prev_view": []}
    for actions in script:
        *_, info = envs.step(actions)
        for k in flags:
            flags[k].append(info[k])
    envs.close()
    action, view, prev = (torch.as_tensor(np.stack(v)) for v in flags.values())
    pressed = script == DONE_ACTION
    # the screen shows in the next step's input, except across the episode end after step 5
    after_press = np.zeros_like(pressed)
    after_press[1:] = pressed[:-1]
    after_press[5] = False
    np.testing.assert_array_equal(prev.numpy(), after_press)
    reward = torch.ones(7, 2)
    reward[torch.as_tensor(pressed)] = 3.0  # remote steps earn 3, others 1
    m = tv_distraction_metrics(action, view, prev, reward, torch.ones(7, 2))
    presses = int(pressed.sum())  # 7 of 14
    assert math.isclose(m["tv/action_frac"], presses / 14)
    assert math.isclose(m["tv/in_view_frac"], presses / 14)  # the remote's screen is the TV
    tv_steps = pressed | after_press
    on_tv = 3 * presses + int((tv_steps & ~pressed).sum())
    assert math.isclose(m["tv/int_reward_share"], on_tv / (3 * presses + (14 - presses)))


class RemoteOnlyReward(IntrinsicModule):
    """Raw reward 1 on remote steps and 0 elsewhere: every bit of it is earned on TV steps."""

    def reward(self, batch):
        return (batch.action == DONE_ACTION).float()

    def loss(self, batch):
        return torch.zeros(()), {}


def read_rows(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_trainer_logs_tv_columns_every_iteration(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=empty_8x8", "env.noisy_tv=remote", "total_frames=384")
    trainer = Trainer(cfg, tmp_path)
    trainer.intrinsic = RemoteOnlyReward(trainer.envs.single_observation_space, trainer.envs.single_action_space)
    try:
        trainer.train()
    finally:
        trainer.close()
    rows = read_rows(tmp_path)
    assert len(rows) == 3
    for r in rows:
        assert float(r["tv/action_frac"]) == float(r["actions/freq_6"]) > 0
        assert float(r["tv/in_view_frac"]) == float(r["tv/action_frac"])
        assert float(r["tv/int_reward_share"]) == 1.0  # all of it earned with the remote


def test_trainer_without_tv_logs_no_tv_columns(tiny_cfg, tmp_path):
    trainer = Trainer(tiny_cfg("env=empty_8x8", "total_frames=128"), tmp_path)
    try:
        trainer.train()
    finally:
        trainer.close()
    assert not any(k.startswith("tv/") for k in read_rows(tmp_path)[0])


def test_trainer_in_world_tv_in_view_fraction_is_a_fraction(tiny_cfg, tmp_path):
    """Full observability: the in-world TV is in every observation, so the fraction is 1."""
    cfg = tiny_cfg("env=empty_8x8", "env.noisy_tv=in_world", "env.full_obs=true", "total_frames=128")
    trainer = Trainer(cfg, tmp_path)
    try:
        trainer.train()
    finally:
        trainer.close()
    row = read_rows(tmp_path)[0]
    assert float(row["tv/in_view_frac"]) == 1.0
    assert row["tv/int_reward_share"] in ("", "nan")  # method none: no intrinsic reward (NaN)
