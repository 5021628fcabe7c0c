"""The NaN guard stops a run at the first non-finite quantity, names it, and leaves a dump."""

from __future__ import annotations

import math

import pytest
import torch

from curiosity.run.nan_guard import NonFiniteError, check_metrics
from curiosity.tools.run_state import RunState
from curiosity.trainer import Trainer

RND = ["method=rnd", "method.obs_norm_init_steps=2", "method.module.channels=8",
       "method.module.embedding_dim=16", "method.module.predictor_hidden=16"]


def _trainer(tiny_cfg, tmp_path, *overrides):
    return Trainer(tiny_cfg("env=doorkey_5x5", "total_frames=1024", *overrides), tmp_path)


def test_injected_nan_reward_stops_run_and_dumps(tiny_cfg, tmp_path):
    trainer = _trainer(tiny_cfg, tmp_path, *RND)
    real_reward = trainer.intrinsic.reward

    def poisoned(batch):
        out = real_reward(batch)
        if trainer.iteration == 2:
            out[3] = float("nan")
        return out

    trainer.intrinsic.reward = poisoned
    try:
        with pytest.raises(NonFiniteError) as info:
            trainer.train(max_iterations=4)
    finally:
        trainer.close()
    err = info.value
    assert err.iteration == 2 and err.quantity == "reward/int_raw"
    assert "non-finite reward/int_raw at iteration 2" in str(err) and "nan_dump" in str(err)
    dump = tmp_path / "nan_dump"
    assert "reward/int_raw" in (dump / "error.txt").read_text()
    batch = torch.load(dump / "batch.pt", weights_only=False)
    assert batch["iteration"] == 2
    assert torch.isnan(batch["rollout"]["rewards_int_raw"]).sum() == 1
    state = RunState.load(tmp_path, dump / "checkpoint.pt")  # the dump's checkpoint loads like any other
    assert state.frames == 2 * 4 * 32
    assert all(torch.isfinite(p).all() for p in state.agent.parameters())


def test_injected_nan_gradient_names_component_and_skips_step(tiny_cfg, tmp_path):
    trainer = _trainer(tiny_cfg, tmp_path, "method=none")
    trainer.agent.value_ext.weight.register_hook(lambda g: g * float("nan"))
    before = {k: v.clone() for k, v in trainer.agent.state_dict().items()}
    try:
        with pytest.raises(NonFiniteError) as info:
            trainer.train(max_iterations=2)
    finally:
        trainer.close()
    msg = str(info.value)
    assert "gradient of agent (value_ext)" in msg and "iteration 1" in msg
    assert "value_ext.weight" in msg and "loss itself" not in msg
    # the guard raised before the first optimizer step: the weights never changed
    after = trainer.agent.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert (tmp_path / "nan_dump" / "checkpoint.pt").exists()


def test_nan_predictor_loss_is_reported_as_the_loss(tiny_cfg, tmp_path):
    trainer = _trainer(tiny_cfg, tmp_path, *RND)
    real_loss = trainer.intrinsic.loss
    trainer.intrinsic.loss = lambda batch: (lambda out: (out[0] * float("nan"), out[1]))(real_loss(batch))
    try:
        with pytest.raises(NonFiniteError) as info:
            trainer.train(max_iterations=1)
    finally:
        trainer.close()
    msg = str(info.value)
    assert msg.startswith("non-finite gradient of intrinsic") and "loss itself is likely non-finite" in msg


def test_metrics_check_flags_losses_but_allows_nan_explained_variance():
    check_metrics({"losses/explained_var_int": math.nan, "charts/episode_return": math.nan,
                   "losses/policy": 0.1}, 5)
    with pytest.raises(NonFiniteError, match="non-finite losses/value_ext at iteration 5"):
        check_metrics({"losses/policy": 0.1, "losses/value_ext": math.inf}, 5)
