"""RND: novelty = predictor error against a frozen random target."""

from __future__ import annotations

import pytest
import torch

from baselines.rnd import RND
from curiosity.config import ConfigError
from curiosity.intrinsic.build import build_intrinsic
from curiosity.trainer import Trainer

SMALL = {"channels": 8, "embedding_dim": 32, "predictor_hidden": 64}


def test_reward_shrinks_on_trained_transitions_and_stays_high_on_novel_ones(spaces, familiar, novel, fit_module):
    torch.manual_seed(0)
    rnd = RND(*spaces, **SMALL)
    before = rnd.reward(familiar).mean()
    fit_module(rnd, familiar, steps=200)
    trained, unseen = rnd.reward(familiar).mean(), rnd.reward(novel).mean()
    assert trained < 0.1 * before
    assert unseen > 4 * trained


def test_reward_is_per_transition_and_carries_no_grad(spaces, familiar):
    rnd = RND(*spaces, **SMALL)
    r = rnd.reward(familiar)
    assert r.shape == (len(familiar),) and not r.requires_grad and (r > 0).all()
    # the reward of a transition does not depend on the rest of the batch
    torch.testing.assert_close(rnd.reward(familiar.index(torch.arange(5))), r[:5])


def test_target_never_changes_and_is_not_trained(spaces, familiar, fit_module):
    rnd = RND(*spaces, **SMALL)
    target = {k: v.clone() for k, v in rnd.target.state_dict().items()}
    predictor = {k: v.clone() for k, v in rnd.predictor.state_dict().items()}
    fit_module(rnd, familiar, steps=3)
    rnd.train()
    for k, v in rnd.target.state_dict().items():
        assert torch.equal(v, target[k]), k
    assert any(not torch.equal(v, predictor[k]) for k, v in rnd.predictor.state_dict().items())
    assert not any(p.requires_grad for p in rnd.target.parameters())
    assert not rnd.target.training  # frozen even in train mode
    # the target is saved with the module, so a resumed run keeps it
    assert any(k.startswith("target.") for k in rnd.state_dict())


def test_target_never_changes_inside_the_trainer(tiny_cfg, tmp_path):
    cfg = tiny_cfg("method=rnd", "method.obs_norm_init_steps=2", "total_frames=256",
                   *(f"method.module.{k}={v}" for k, v in SMALL.items()))
    trainer = Trainer(cfg, tmp_path)
    try:
        target = {k: v.clone() for k, v in trainer.intrinsic.target.state_dict().items()}
        predictor = [p.clone() for p in trainer.intrinsic.predictor.parameters()]
        row = trainer.train()
    finally:
        trainer.close()
    for k, v in trainer.intrinsic.target.state_dict().items():
        assert torch.equal(v, target[k]), k
    assert not all(torch.equal(a, b) for a, b in zip(predictor, trainer.intrinsic.predictor.parameters()))
    assert row["reward/int_raw_mean"] > 0 and "intrinsic/rnd_forward_loss" in row


def test_bad_kwarg_is_a_config_error_naming_the_key(tiny_cfg, spaces):
    cfg = tiny_cfg("method=rnd", "method.module.embedding_dim=0")
    with pytest.raises(ConfigError, match="embedding_dim=0"):
        build_intrinsic(cfg.method, *spaces)
