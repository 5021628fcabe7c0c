"""The trainer's intrinsic plumbing, with a real forward model in the loop."""

from __future__ import annotations

import pytest
import torch

from curiosity.agent import compute_gae
from curiosity.intrinsic import IntrinsicRewardNormalizer
from curiosity.trainer import Trainer

SMALL = ["method.module.hidden_channels=8", "method.module.feature_dim=8"]
LAVA = 9  # an object index DoorKey never shows: marks rows that must not be used


def test_intrinsic_return_filter_runs_over_time_per_env():
    # T=3 steps, N=2 envs: env 0 is rewarded once at t=0, env 1 never
    rewards = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    norm = IntrinsicRewardNormalizer(num_envs=2, gamma=0.5)
    returns = norm.discounted_returns(rewards, torch.ones_like(rewards))
    # over time: env 0's return decays 1, 0.5, 0.25; env 1 stays 0 (over the env axis it
    # would leak env 0's reward into env 1 and have the wrong shape of decay)
    torch.testing.assert_close(returns, torch.tensor([[1.0, 0.0], [0.5, 0.0], [0.25, 0.0]], dtype=torch.float64))
    # the filter carries over to the next rollout, per env
    more = norm.discounted_returns(torch.zeros(1, 2), torch.ones(1, 2))
    torch.testing.assert_close(more, torch.tensor([[0.125, 0.0]], dtype=torch.float64))


def _trainer(tiny_cfg, tmp_path, *overrides):
    cfg = tiny_cfg("method=forward_conv", "method.obs_norm_init_steps=0", "total_frames=256", *SMALL, *overrides)
    return Trainer(cfg, tmp_path)


def test_intrinsic_rewards_are_in_storage_before_gae_and_reach_the_advantages(tiny_cfg, tmp_path, monkeypatch):
    trainer = _trainer(tiny_cfg, tmp_path, "method.int_coef=1.0", "method.ext_coef=0.5")
    seen = {}
    original = trainer.compute_advantages

    def spy():
        seen["rewards_int"] = trainer.storage.rewards_int.clone()  # what GAE is about to read
        seen["gae"] = original()
        return seen["gae"]

    monkeypatch.setattr(trainer, "compute_advantages", spy)
    try:
        trainer.train(max_iterations=1)
    finally:
        trainer.close()
    s, m, gae = trainer.storage, trainer.cfg.method, seen["gae"]
    assert seen["rewards_int"].abs().sum() > 0, "intrinsic rewards were not in storage when GAE ran"
    zeros = torch.zeros_like(s.dones)  # non-episodic intrinsic stream
    adv_int, _ = compute_gae(seen["rewards_int"], s.values_int, s.next_values_int, zeros, zeros, s.valid,
                             m.gamma_int, m.lambda_int)
    torch.testing.assert_close(gae["adv_int"], adv_int)
    torch.testing.assert_close(gae["advantages"], m.ext_coef * gae["adv_ext"] + m.int_coef * adv_int)
    assert gae["adv_int"].abs().sum() > 0


@pytest.mark.parametrize("full", [False, True], ids=["policy_view", "full_grid"])
def test_invalid_rows_never_score_or_train_the_predictor(tiny_cfg, tmp_path, full):
    trainer = _trainer(tiny_cfg, tmp_path, f"method.predictor_full_obs={full}", "method.update_epochs=2",
                       "method.update_proportion=1.0")
    try:
        trainer.collect_rollout({k: 0.0 for k in ("env", "inference", "storage")})
    finally:
        trainer.close()
    s = trainer.storage
    invalid = torch.zeros_like(s.valid, dtype=torch.bool)
    invalid[::3, 1] = True  # some rows of env 1 become a backend's autoreset rows
    invalid[5, :] = True
    s.valid[invalid] = 0.0
    s.pred_obs[invalid] = LAVA
    s.pred_next_obs[invalid] = LAVA
    used = {"reward": 0, "loss": 0}
    module = trainer.intrinsic
    score, fit = module.reward, module.loss

    def check(kind, fn):
        def wrapped(batch):
            assert not (batch.obs[..., 0] == LAVA).all(-1).all(-1).any(), f"an invalid row reached {kind}"
            assert not (batch.next_obs[..., 0] == LAVA).all(-1).all(-1).any(), f"an invalid row reached {kind}"
            used[kind] += len(batch)
            return fn(batch)
        return wrapped

    module.reward, module.loss = check("reward", score), check("loss", fit)
    trainer.score_intrinsic()
    trainer.train_intrinsic()
    num_valid = int(s.valid.sum())
    assert used["reward"] == num_valid
    assert used["loss"] == 2 * num_valid  # update_proportion 1, two epochs: every valid row, twice
    assert (s.rewards_int_raw[invalid] == 0).all() and (s.rewards_int[invalid] == 0).all()
    assert (s.rewards_int_raw[~invalid] > 0).all()
