"""Bad configs stop before any work with one line naming the key and the value."""

import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError, ValidationError

from curiosity.config import ConfigError, validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("agent.lr=-0.001", "agent.lr=-0.001"),
        ("env.num_envs=0", "env.num_envs=0"),
        ("agent.clip_coef=1.5", "agent.clip_coef=1.5"),
        ("total_frames=100", "total_frames=100"),
        ("env.id=MiniGrid-DoesNotExist-v0", "MiniGrid-DoesNotExist-v0"),
        ("method.update_proportion=0", "method.update_proportion=0"),
        ("method.int_coef=-1", "method.int_coef=-1"),
        ("agent.gamma=1.2", "agent.gamma=1.2"),
        ("env.sticky_action_prob=1.0", "env.sticky_action_prob=1.0"),
        ("logger.wandb_mode=sometimes", "logger.wandb_mode=sometimes"),
        ("agent.num_minibatches=3", "agent.num_minibatches=3"),
        ("agent.recurrent=rnn", "agent.recurrent=rnn"),
        # a recurrent policy's minibatches are groups of whole envs: at most one per env
        ("agent.recurrent=gru env.num_envs=2 agent.num_minibatches=4", "agent.num_minibatches=4"),
    ],
)
def test_out_of_range_values_are_refused(compose, override, needle):
    cfg = compose(override.split())
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_defaults_are_valid(compose):
    validate(compose([]))


def test_unknown_keys_are_refused(compose):
    with pytest.raises((ConfigCompositionException, ConfigKeyError)) as err:
        compose(["agent.not_a_key=1"])
    assert "not_a_key" in str(err.value)


def test_keys_forced_in_with_plus_are_refused_by_validation(compose):
    cfg = compose(["+env.typo=3"])  # Hydra's append syntax bypasses struct mode
    with pytest.raises(ConfigError, match=r"^env\.typo: unknown key"):
        validate(cfg)


def test_wrong_types_are_refused(compose):
    with pytest.raises((ConfigCompositionException, ValidationError)) as err:
        compose(["env.num_envs=many"])
    assert "num_envs" in str(err.value) + str(err.value.__cause__)


def test_cli_prints_one_clear_line_and_exits_nonzero(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "curiosity.train", "agent.lr=-1", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "config error: agent.lr=-1.0: must be > 0"
    assert not (tmp_path / "run" / "metrics.csv").exists()
