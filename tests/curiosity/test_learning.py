"""A small learning check (the 5-seed DoorKey one is `make learning-check`, not a test)."""

import csv

import numpy as np
import pytest

from curiosity.trainer import Trainer


@pytest.mark.slow  # a learning check: 2 x 12,288 frames (`make test-all` runs it, `make test` does not)
def test_ppo_learns_empty_room_far_beyond_random(compose, tmp_path):
    """MiniGrid-Empty-5x5: the goal is 4-5 steps away (return ~0.96); random actions take ~60."""
    overrides = ["env.id=MiniGrid-Empty-5x5-v0", "env.num_envs=8", "agent.num_steps=64",
                 "total_frames=12288", "logger.wandb_mode=disabled", "logger.progress=false"]
    results = {}
    for method in ("none", "random"):
        trainer = Trainer(compose([*overrides, f"method={method}"]), tmp_path / method)
        trainer.train()
        trainer.close()
        with open(tmp_path / method / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))[-4:]
        results[method] = (np.mean([float(r["charts/episode_return"]) for r in rows]),
                           np.mean([float(r["charts/episode_length"]) for r in rows]))
    ret, length = results["none"]
    assert ret > 0.85 and length < 15, results
    assert results["random"][0] < 0.6 and results["random"][1] > 25, results
