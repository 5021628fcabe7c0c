"""Bad forward-model configs are refused with one line naming the key and value."""

from __future__ import annotations

import pytest

from curiosity.config import ConfigError, validate
from curiosity.envs import make_single_env
from curiosity.intrinsic.build import build_intrinsic
from curiosity.paths import method_names

METHODS = [m for m in method_names() if m.startswith("forward_")]  # the grid predictors


@pytest.mark.parametrize("method", METHODS)
def test_method_configs_compose_validate_and_build(tiny_cfg, method):
    cfg = tiny_cfg(f"method={method}")
    validate(cfg)
    env = make_single_env(cfg.env)
    module = build_intrinsic(cfg.method, env.observation_space, env.action_space)
    assert module is not None and cfg.method.int_coef > 0 and cfg.method.name == method


@pytest.mark.parametrize("override,match", [
    ("method.int_coef=-1", r"^method\.int_coef=-1(\.0)?: must be >= 0$"),
    ("method.ext_coef=-0.5", r"^method\.ext_coef=-0\.5: must be >= 0$"),
    ("method.update_proportion=0", r"^method\.update_proportion=0(\.0)?: must be in \(0, 1\]$"),
    ("method.update_proportion=1.5", r"^method\.update_proportion=1\.5: must be in \(0, 1\]$"),
    ("method.module._target_=curiosity.intrinsic.forward_mlp.ForwardMLP",
     r"^method\.module\._target_=curiosity\.intrinsic\.forward_mlp\.ForwardMLP: no such class"),
])
def test_validate_refuses_bad_method_values(tiny_cfg, override, match):
    with pytest.raises(ConfigError, match=match):
        validate(tiny_cfg("method=forward_conv", override))


@pytest.mark.parametrize("method,override,match", [
    ("forward_conv", "method.module.target=future", r"^method\.module\.target='future': must be one of delta, next$"),
    ("forward_conv", "method.module.features=pixels", r"^method\.module\.features='pixels': must be one of"),
    ("forward_conv", "method.module.action_cond=concat", r"^method\.module\.action_cond='concat': must be one of"),
    ("forward_conv", "method.module.loss=l1", r"^method\.module\.loss='l1': must be one of ce, mse$"),
    ("forward_conv", "method.module.num_layers=0", r"^method\.module\.num_layers=0: must be > 0$"),
    ("forward_resnet", "method.module.num_blocks=-1", r"^method\.module\.num_blocks=-1: must be > 0$"),
    ("forward_transformer", "method.module.target_encoder=online",
     r"^method\.module\.target_encoder='online': must be one of random, ema$"),
    ("forward_transformer", "method.module.num_heads=5", r"^method\.module\.num_heads=5: must divide d_model=32$"),
    ("forward_transformer", "method.module.ema_decay=1.0", r"^method\.module\.ema_decay=1\.0: must be in \[0, 1\)$"),
])
def test_bad_module_options_are_one_line_config_errors(tiny_cfg, method, override, match):
    cfg = tiny_cfg(f"method={method}", override)
    env = make_single_env(cfg.env)
    with pytest.raises(ConfigError, match=match) as err:
        build_intrinsic(cfg.method, env.observation_space, env.action_space)
    assert "\n" not in str(err.value)


def test_unknown_method_name_exits_with_config_error(tmp_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "curiosity.train", "method=forward_conv",
           "method.module._target_=curiosity.intrinsic.forward_lstm.ForwardLSTM",
           "logger.wandb_mode=disabled", f"hydra.run.dir={tmp_path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "config error: method.module._target_=curiosity.intrinsic.forward_lstm.ForwardLSTM" in out.stderr


def test_forward_models_default_to_the_sizes_issue_29s_checks_chose(tiny_cfg):
    """The sizes docs/results/speed.md measured and adopted; a change needs its own learning check."""
    resnet = tiny_cfg("method=forward_resnet").method
    assert (resnet.module.num_blocks, resnet.module.hidden_channels, resnet.update_epochs) == (2, 16, 2)
    transformer = tiny_cfg("method=forward_transformer").method
    assert (transformer.module.num_heads, transformer.module.predictor_layers, transformer.update_epochs) == (1, 2, 4)
    conv = tiny_cfg("method=forward_conv").method  # 2 predictor epochs were checked and lost
    assert (conv.module.hidden_channels, conv.update_epochs) == (16, 4)
