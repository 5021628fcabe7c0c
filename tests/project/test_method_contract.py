"""One contract test over every method in conf/method/*.yaml (issue 14.5): adding a method is
one module and one yaml, and it is checked here with no test edit.

For each method: compose and validate, build, one training iteration, score a rollout on
the episode-aware contract (shape, finite, zero on invalid rows), save and reload its state
through a checkpoint (the reloaded module scores the same rollout identically).
"""

from __future__ import annotations

import csv
import math

import pytest
import torch

from curiosity.config import validate
from curiosity.paths import method_names
from curiosity.trainer import Trainer

TINY = ("env=doorkey_5x5", "env.max_episode_steps=12", "total_frames=256", "method.obs_norm_init_steps=0",
        "logger.checkpoint_every=1")


@pytest.mark.parametrize("name", method_names())
def test_every_method_trains_scores_a_rollout_and_round_trips_its_state(tiny_cfg, tmp_path, name):
    cfg = tiny_cfg(f"method={name}", *TINY)
    validate(cfg)
    trainer = Trainer(cfg, tmp_path)
    try:
        row = trainer.train(max_iterations=1)
        assert trainer.iteration == 1 and (tmp_path / "checkpoints" / "latest.pt").exists()
        for key in ("charts/success", "reward/int_raw_mean", "losses/policy" if name != "random" else "frames"):
            assert key in row
        assert all(math.isfinite(v) for k, v in row.items()
                   if isinstance(v, float) and not k.startswith(("charts/", "explore/cells", "losses/explained")))
        if trainer.intrinsic is None:
            assert row["reward/int_raw_mean"] == 0.0
            return
        s = trainer.storage
        s.valid[3, 1] = 0.0  # a backend's autoreset row
        rollout = s.rollout(trainer.obs_norm)
        # a stateful method changes its memory when it scores: score twice from the checkpoint
        resumed = Trainer(cfg, tmp_path)
        try:
            trainer.intrinsic.eval()
            resumed.intrinsic.eval()
            first = trainer.intrinsic.score_rollout(rollout)
            again = resumed.intrinsic.score_rollout(rollout)
        finally:
            resumed.close()
    finally:
        trainer.close()
    assert first.shape == (s.num_steps, s.num_envs) and torch.isfinite(first).all()
    assert first[3, 1] == 0.0
    torch.testing.assert_close(again, first)  # the checkpoint holds the whole method state


def _metrics(run_dir):
    with open(run_dir / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in csv.DictReader(f)]


@pytest.mark.parametrize("name", method_names())
def test_every_method_resumes_bitwise(tiny_cfg, tmp_path, name):
    """A run cut by a checkpoint and resumed logs exactly what an uninterrupted run logs:
    the method's whole state (networks, optimizer, episodic memory) is in the checkpoint."""
    base = (f"method={name}", "env=doorkey_5x5", "env.max_episode_steps=20", "total_frames=384",
            "method.obs_norm_init_steps=0")
    full = Trainer(tiny_cfg(*base), tmp_path / "full")
    try:
        full.train()
    finally:
        full.close()
    cut_cfg = tiny_cfg(*base, "logger.checkpoint_every=1")
    cut = Trainer(cut_cfg, tmp_path / "cut")
    try:
        cut.train(max_iterations=2)
    finally:
        cut.close()
    resumed = Trainer(cut_cfg, tmp_path / "cut")
    try:
        assert resumed.iteration == 2
        resumed.train()
    finally:
        resumed.close()
    assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "full")
