"""Matched observations (issue 15.1): every method accepts the same predictor-view switches
with the same meaning, on every grid size the comparisons use.

Views: the policy's egocentric 7x7 view (``method.predictor_full_obs=false``), a 9x9
world-aligned window (``predictor_full_obs=true predictor_crop=9``) and the whole grid
(``predictor_crop=0``) on DoorKey-5x5 (5x5) and MultiRoom-N4-S5 (25x25). For each method with
a module and each view: the module is built for the view's grid, one training iteration runs,
and the scores of the rollout have the rollout's shape and are finite.
"""

from __future__ import annotations

import math

import pytest
import torch
import yaml

from curiosity.config import validate
from curiosity.paths import METHOD_DIR, method_names
from curiosity.trainer import Trainer

# (label, overrides, the predictor grid's (H, W) it must produce)
VIEWS = [
    ("egocentric_7x7", ("env=doorkey_5x5", "method.predictor_full_obs=false"), (7, 7)),
    (
        "window_9x9",
        ("env=doorkey_5x5", "method.predictor_full_obs=true", "method.predictor_crop=9"),
        (9, 9),
    ),
    (
        "whole_5x5",
        ("env=doorkey_5x5", "method.predictor_full_obs=true", "method.predictor_crop=0"),
        (5, 5),
    ),
    (
        "whole_25x25",
        ("env=multiroom_n4_s5", "method.predictor_full_obs=true", "method.predictor_crop=0"),
        (25, 25),
    ),
]


TINY = (
    "env.max_episode_steps=12",
    "total_frames=128",
    "method.obs_norm_init_steps=0",
    "logger.checkpoint_every=0",
)


def _methods_with_a_module() -> list[str]:
    """Methods whose yaml builds a module (``none`` and ``random`` have no predictor)."""
    return [
        name
        for name in method_names()
        if yaml.safe_load((METHOD_DIR / f"{name}.yaml").read_text()).get("module") is not None
    ]


# the one long case (625 tokens through the transformer, 4 predictor epochs; its preset uses
# the 9x9 window): `make test-all` runs it, `make test` the other views and methods
SLOW_CASES = {("forward_transformer", "whole_25x25")}
CASES = [
    pytest.param(name, view, id=f"{name}-{view[0]}",
                 marks=[pytest.mark.slow] if (name, view[0]) in SLOW_CASES else [])
    for view in VIEWS
    for name in _methods_with_a_module()
]


@pytest.mark.parametrize(("name", "view"), CASES)
def test_every_method_trains_on_every_predictor_view(tiny_cfg, tmp_path, name, view):
    _, overrides, grid = view
    cfg = tiny_cfg(f"method={name}", *TINY, *overrides)
    validate(cfg)
    trainer = Trainer(cfg, tmp_path)
    try:
        assert tuple(trainer.intrinsic.obs_shape[:2]) == grid
        row = trainer.train(max_iterations=1)
        assert trainer.iteration == 1
        assert all(
            math.isfinite(v)
            for k, v in row.items()
            if isinstance(v, float) and k.startswith(("reward/", "intrinsic/", "losses/"))
        )
        trainer.intrinsic.eval()
        scores = trainer.intrinsic.score_rollout(trainer.storage.rollout(trainer.obs_norm))
    finally:
        trainer.close()
    assert scores.shape == (trainer.storage.num_steps, trainer.storage.num_envs)
    assert torch.isfinite(scores).all()
