"""Every method is selected as `method=<name>` and builds through the trainer's factory."""

from __future__ import annotations

import pytest
import torch

from baselines.disagreement import Disagreement
from baselines.icm import ICM
from baselines.rnd import RND
from curiosity.config import ConfigError, validate
from curiosity.intrinsic.build import build_intrinsic
from curiosity.trainer import Trainer

MODULES = {"none": None, "random": None, "rnd": RND, "icm": ICM, "disagreement": Disagreement}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_method_config_composes_validates_and_builds(tiny_cfg, spaces, name):
    cfg = tiny_cfg(f"method={name}")
    validate(cfg)
    assert cfg.method.name == name
    module = build_intrinsic(cfg.method, *spaces)
    expected = MODULES[name]
    assert module is None if expected is None else isinstance(module, expected)
    assert cfg.method.acts_randomly == (name == "random")
    if expected is not None:  # intrinsic methods weigh both streams as RND does
        assert (cfg.method.int_coef, cfg.method.ext_coef) == (1.0, 2.0)


def test_rnd_defaults_follow_the_paper(tiny_cfg):
    m = tiny_cfg("method=rnd").method
    assert (m.gamma_int, m.int_stream, m.reward_norm, m.obs_norm) == (0.99, "continuing", True, True)
    assert m.obs_norm_init_steps > 0 and m.lr == 1e-4


def test_icm_and_disagreement_defaults_follow_the_papers(tiny_cfg):
    icm = tiny_cfg("method=icm").method
    assert icm.module.beta == 0.2 and 0.01 <= icm.module.eta <= 0.2 and icm.int_stream == "episodic"
    assert tiny_cfg("method=disagreement").method.module.ensemble_size == 5


@pytest.mark.parametrize("override, key", [
    ("method=icm method.module.beta=2.0", "beta=2.0"),
    ("method=disagreement method.module.ensemble_size=1", "ensemble_size=1"),
    ("method=rnd method.module.channels=0", "channels=0"),
])
def test_bad_module_kwargs_are_config_errors(tiny_cfg, spaces, override, key):
    with pytest.raises(ConfigError, match=key):
        build_intrinsic(tiny_cfg(*override.split()).method, *spaces)


@pytest.mark.parametrize("name", ["rnd", "icm", "disagreement"])
def test_one_training_iteration_scores_and_trains_the_module(tiny_cfg, tmp_path, name):
    trainer = Trainer(tiny_cfg(f"method={name}", "method.obs_norm_init_steps=0", "total_frames=128"), tmp_path)
    params = [p.clone() for p in trainer.intrinsic.parameters() if p.requires_grad]
    try:
        row = trainer.train()
    finally:
        trainer.close()
    assert row["reward/int_raw_mean"] > 0 and row["reward/int_norm_mean"] > 0
    assert row["losses/intrinsic"] > 0 and row["grad_norm/intrinsic"] > 0
    trained = [p for p in trainer.intrinsic.parameters() if p.requires_grad]
    assert not all(torch.equal(a, b) for a, b in zip(params, trained))
