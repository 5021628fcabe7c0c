"""The random-action agent: uniform actions through the same loop, no learning."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import chisquare

from baselines.random_action import RandomActionPolicy
from curiosity.trainer import Trainer


def test_policy_samples_uniform_actions_with_uniform_logprob():
    torch.manual_seed(0)
    policy = RandomActionPolicy(7)
    actions, logprob = zip(*(policy.act(100, "cpu") for _ in range(70)))
    counts = torch.bincount(torch.cat(actions), minlength=7).numpy()
    assert counts.sum() == 7000
    assert chisquare(counts).pvalue > 1e-3
    torch.testing.assert_close(torch.cat(logprob), torch.full((7000,), -float(np.log(7))))


def test_chi_square_would_catch_a_biased_sampler():
    """The uniformity check above can fail: a mild bias over the same sample size is rejected."""
    rng = np.random.default_rng(0)
    probs = np.array([0.2, 0.8 / 6, 0.8 / 6, 0.8 / 6, 0.8 / 6, 0.8 / 6, 0.8 / 6])
    counts = np.bincount(rng.choice(7, size=7000, p=probs), minlength=7)
    assert chisquare(counts).pvalue < 1e-3


def test_trainer_acts_uniformly_and_never_learns(tiny_cfg, tmp_path):
    trainer = Trainer(tiny_cfg("method=random", "total_frames=1024"), tmp_path)
    before = [p.clone() for p in trainer.agent.parameters()]
    actions = []
    try:
        for _ in range(trainer.num_iterations):
            row = trainer.train(max_iterations=1)
            actions.append(trainer.storage.actions[trainer.storage.valid.bool()].clone())
    finally:
        trainer.close()
    counts = torch.bincount(torch.cat(actions), minlength=trainer.num_actions).numpy()
    assert counts.sum() == 1024
    assert chisquare(counts).pvalue > 1e-3
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.agent.parameters()))
    # the same exploration metrics as every learning method
    assert row["explore/distinct_states_total"] > 0 and "explore/cells_per_episode" in row
    assert (tmp_path / "summary.json").exists()
