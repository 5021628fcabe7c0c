"""The noisy-TV experiment preset composes into valid runs over the full grid."""

from pathlib import Path

import pytest
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from curiosity.config import ConfigError, register_configs, validate
from curiosity.paths import method_names

CONF = Path(__file__).resolve().parents[3] / "conf"
METHODS = method_names()


def test_preset_sweeps_every_method_tv_mode_and_five_seeds():
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=["+experiment=noisy_tv"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert params["method"] == "glob(*)"  # every conf/method/*.yaml, so a new method is swept too
    assert params["env.noisy_tv"].split(",") == ["none", "remote", "in_world"]
    assert len(params["seed"].split(",")) >= 5
    assert cfg.env.id == "MiniGrid-DoorKey-5x5-v0" and cfg.experiment == "noisy_tv"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("tv", ["none", "remote", "in_world"])
def test_every_preset_run_composes_and_validates(compose, method, tv):
    if not (CONF / "method" / f"{method}.yaml").exists():
        pytest.skip(f"conf/method/{method}.yaml is not written yet")
    cfg = compose(["+experiment=noisy_tv", f"method={method}", f"env.noisy_tv={tv}"])
    validate(cfg)
    assert cfg.env.noisy_tv == tv and cfg.method.name == method


@pytest.mark.parametrize("override, key", [
    ("env.noisy_tv=tv", "env.noisy_tv"),
    ("env.tv_remote_action=7", "env.tv_remote_action"),
    ("env.tv_region_size=0", "env.tv_region_size"),
    ("env.tv_resample=sometimes", "env.tv_resample"),
])
def test_bad_tv_options_are_refused_naming_the_key(compose, override, key):
    with pytest.raises(ConfigError, match=key):
        validate(compose(["env=multiroom_n4_s5", override]))


def test_oversized_remote_region_is_refused(compose):
    with pytest.raises(ConfigError, match="env.tv_region_size=9"):
        validate(compose(["env=empty_8x8", "env.noisy_tv=remote", "env.tv_region_size=9"]))
    validate(compose(["env=empty_8x8", "env.noisy_tv=remote", "env.tv_region_size=9", "env.tv_whole_view=true"]))


def test_noisy_tv_id_requires_the_in_world_tv(compose):
    with pytest.raises(ConfigError, match="noisy_tv=in_world"):
        validate(compose(["env=multiroom_noisytv_n7_s4", "env.noisy_tv=none"]))
    for name in ("multiroom_noisytv_n7_s4", "multiroom_noisytv_n4_s5"):
        validate(compose([f"env={name}"]))
