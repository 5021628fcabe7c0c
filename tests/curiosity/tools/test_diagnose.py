"""The learnability diagnostic writes one curve per (architecture, data source)."""

from __future__ import annotations

import csv

import pytest
import torch

from curiosity.config import ConfigError
from curiosity.tools.diagnose import NULL_ACTION, collect, compose_method, run

TINY = ["env.num_envs=2", "method.module.hidden_channels=8"]


def test_null_action_data_is_a_no_op_and_delta_learns_it_for_free():
    cfg = compose_method("forward_conv", TINY)
    assert cfg.method.predictor_full_obs  # the default: the predictor's data is the whole grid
    collected = collect(cfg, "null", 16, policy=None, seed=0)
    data = collected["data"]
    assert (data["action"] == NULL_ACTION).all()
    assert data["obs"].shape == (16, 9, 9, 4)  # the default 9x9 window (method.predictor_crop)
    assert torch.equal(data["obs"], data["next_obs"])  # `done` changes nothing in DoorKey
    moved = collect(cfg, "random", 64, policy=None, seed=0)["data"]
    assert not torch.equal(moved["obs"], moved["next_obs"])


def test_run_writes_csv_png_and_summary_per_method_and_source(tmp_path):
    # in the policy's egocentric view every move changes the grid (a full grid mostly does not)
    policy_view = [*TINY, "method.predictor_full_obs=false"]
    summary = run(["forward_conv"], ["null", "random"], policy_view, tmp_path, checkpoint=None,
                  transitions=32, updates=6, batch_size=16, eval_every=3, seed=0)
    assert (tmp_path / "forward_conv.png").stat().st_size > 0
    for source in ("null", "random"):
        with open(tmp_path / "forward_conv" / f"{source}.csv") as f:
            rows = list(csv.DictReader(f))
        assert [int(r["update"]) for r in rows] == list(range(1, 7))
        assert all(float(r["train_loss"]) >= 0 for r in rows)
    assert {(r["method"], r["source"]) for r in summary} == {("forward_conv", "null"), ("forward_conv", "random")}
    by_source = {r["source"]: r for r in summary}
    # a random policy changes the grid, the null action does not: it is harder to predict
    assert by_source["random"]["first_loss"] > by_source["null"]["first_loss"]


def test_checkpoint_source_needs_a_checkpoint_and_unknown_sources_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="--sources=checkpoint: needs --checkpoint"):
        run(["forward_conv"], ["checkpoint"], TINY, tmp_path, None, 32, 2, 16, 1, 0)
    with pytest.raises(ConfigError, match="--sources=expert: unknown data source"):
        run(["forward_conv"], ["expert"], TINY, tmp_path, None, 32, 2, 16, 1, 0)


def test_a_recurrent_checkpoint_acts_with_its_state_reset_at_episode_starts(tiny_cfg, tmp_path):
    from curiosity.tools.diagnose import load_policy
    from curiosity.trainer import Trainer

    trainer = Trainer(tiny_cfg("agent.recurrent=gru", "total_frames=128"), tmp_path)
    trainer.checkpoint()
    obs_shape, num_actions = trainer.envs.summary.obs_shape, trainer.num_actions
    trainer.close()
    policy = load_policy(str(tmp_path), obs_shape, num_actions)
    assert policy.recurrent == "gru"
    starts, step = [], policy.step

    def spy(grid, state, start):
        starts.append(start.tolist())
        return step(grid, state, start)

    policy.step = spy
    cfg = compose_method("forward_conv", [*TINY, "env.max_episode_steps=3"])
    collect(cfg, "checkpoint", 12, policy=policy, seed=0)
    # episodes of 3 steps (DoorKey is not solved that fast): a fresh state every third step
    assert starts == [[True, True], [False, False], [False, False]] * 2
