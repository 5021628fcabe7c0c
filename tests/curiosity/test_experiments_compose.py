"""Every preset in conf/experiment/ composes, and so does every job its sweep would launch.

Parametrized over the files on disk, so a preset someone adds later is covered too. For
each sweep axis every value is composed (seeds: the first only) with the others at their
first value, validated, and its intrinsic module instantiated, so a misspelt knob or a
method kwarg that does not exist fails here instead of hours into a sweep.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser

from curiosity.config import register_configs, validate
from curiosity.envs import make_single_env
from curiosity.intrinsic.build import build_intrinsic

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


@pytest.fixture
def hydra_conf():
    """Hydra initialised once on conf/ (composing inside one context is 4x faster)."""
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def _compose(overrides: list[str]):
    return compose(config_name="config", overrides=overrides, return_hydra_config=True)


def _axis_values(key: str, value: str) -> list[str]:
    """The values a sweep axis takes (``a,b``, ``range(1,11)``, ``choice(...)``, a single value)."""
    # the config loader lets the parser expand glob(*) over a config group's options
    loader = GlobalHydra.instance().config_loader()
    override = OverridesParser.create(config_loader=loader).parse_overrides([f"{key}={value}"])[0]
    if override.is_sweep_override():
        return list(override.sweep_string_iterator())
    return [override.get_value_element_as_str()]


def _jobs(preset: str, params: dict) -> list[list[str]]:
    """One override list per axis value, the other axes at their first value."""
    axes = {key: _axis_values(key, str(value)) for key, value in params.items()}
    first = {key: values[0] for key, values in axes.items()}
    jobs = []
    for key, values in axes.items():
        for value in values[:1] if key == "seed" else values:
            job = {**first, key: value}
            jobs.append([f"+experiment={preset}", *(f"{k}={v}" for k, v in job.items())])
    return jobs


def test_presets_exist():
    assert {"method_comparison", "seed_brittleness", "generalization"} <= set(PRESETS)
    assert sum(p.startswith("ablate_") for p in PRESETS) >= 10


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_and_its_sweep_jobs_compose(hydra_conf, preset):
    first_line = (CONF_DIR / "experiment" / f"{preset}.yaml").read_text().splitlines()[0]
    assert first_line.strip() == "# @package _global_", f"{preset}.yaml must start with '# @package _global_'"
    cfg = _compose([f"+experiment={preset}"])
    assert cfg.experiment == preset, f"{preset}.yaml must set experiment: {preset} (its runs/ folder)"
    params = cfg.hydra.sweeper.params
    assert params, f"{preset}.yaml has no hydra.sweeper.params: nothing to sweep"

    spaces = {}
    for overrides in _jobs(preset, dict(params)):
        job = _compose(overrides)
        try:
            validate(job)
        except Exception as err:
            pytest.fail(f"{preset} {overrides[1:]}: {err}")
        if job.method.module is not None:
            key = job.env.id, job.env.full_obs
            if key not in spaces:
                env = make_single_env(job.env)
                spaces[key] = env.observation_space, env.action_space
                env.close()
            try:
                build_intrinsic(job.method, *spaces[key])
            except Exception as err:
                pytest.fail(f"{preset} {overrides[1:]}: {err}")


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local", "submitit_slurm", "slurm"])
def test_launcher_presets_compose(hydra_conf, launcher):
    cfg = _compose([f"hydra/launcher={launcher}"])
    assert cfg.hydra.launcher._target_.startswith("hydra_plugins.")
    if launcher == "slurm":
        launcher_cfg = cfg.hydra.launcher
        assert launcher_cfg._target_.endswith("SlurmLauncher")
        for key in ("partition", "timeout_min", "cpus_per_task", "gpus_per_node", "mem_gb"):
            assert key in launcher_cfg
        assert launcher_cfg.max_num_timeout > 0  # timed-out jobs are requeued and resume


def test_sweep_dir_is_named_by_experiment_and_sweep_id(hydra_conf):
    cfg = _compose(["+experiment=sweep_smoke", "sweep_id=nightly"])
    assert cfg.hydra.sweep.dir == "runs/sweep_smoke/nightly"
    excluded = set(cfg.hydra.job.config.override_dirname.exclude_keys)
    assert {"experiment", "sweep_id", "resume"} <= excluded  # re-runs map to the same run folders


@pytest.mark.parametrize("preset", ["multiroom_300k", "reproduce_ride", "update_cost", "update_cost_doorkey"])
def test_studies_in_progress_keep_the_ppo_they_were_measured_with(hydra_conf, preset):
    """Issue 29 changed the PPO default (2 epochs at lr 1e-3, 16 channels); the studies whose
    tables were half run with CleanRL's 4 epochs at 2.5e-4 and 32 channels pin those
    (agent=ppo_4epoch network=large), so their tables stay one setting; everything else gets
    the new default."""
    agent = _compose([f"+experiment={preset}"]).agent
    assert (agent.update_epochs, agent.num_minibatches, agent.lr) == (4, 4, 2.5e-4)
    default = _compose([]).agent
    assert (default.update_epochs, default.num_minibatches, default.lr) == (2, 4, 1e-3)
    assert (agent.conv_channels, agent.hidden_size) == (32, 256)  # network=large, as then
    assert (default.conv_channels, default.hidden_size) == (16, 256)  # network=medium
    assert _compose(["+experiment=tune_arms"]).agent.update_epochs == 2
