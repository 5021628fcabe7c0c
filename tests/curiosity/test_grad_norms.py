"""Gradient norms are logged per component: encoder, policy, both value heads, the
predictor, and each trained part of a predictor made of several (ICM)."""

from __future__ import annotations

import math

import pytest

from curiosity.trainer import Trainer

PARTS = ("encoder", "inverse", "forward_model")


def test_every_component_has_a_grad_norm(tiny_cfg, tmp_path):
    cfg = tiny_cfg("env=doorkey_5x5", "method=icm", "total_frames=128", "agent.num_minibatches=1",
                   "method.obs_norm_init_steps=0")
    trainer = Trainer(cfg, tmp_path)
    try:
        row = trainer.train(max_iterations=1)
    finally:
        trainer.close()
    for name in ("encoder", "policy", "value_ext", "value_int", "intrinsic"):
        assert row[f"grad_norm/{name}"] > 0, name
    parts = [row[f"grad_norm/intrinsic_{p}"] for p in PARTS]
    assert all(v > 0 for v in parts)
    # one predictor minibatch: the parts' norms compose the whole predictor's norm
    assert math.sqrt(sum(v * v for v in parts)) == pytest.approx(row["grad_norm/intrinsic"], rel=1e-4)
