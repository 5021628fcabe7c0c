"""``method.count_key``: one view preset sets the key of every count in a comparison (issue 27's
arms), overriding count's ``module.key`` and ride's / noveld's ``module.count_key``, and
leaving methods without a count alone."""

from __future__ import annotations

import pytest

from curiosity.config import ConfigError, compose_config, validate
from curiosity.envs import make_vector_env
from curiosity.intrinsic.build import build_intrinsic, effective_count_key, wants_state_keys

COUNTING = {"count": "key", "ride": "count_key", "noveld": "count_key"}


@pytest.mark.parametrize("method", sorted(COUNTING))
@pytest.mark.parametrize(("view", "key"), [("privileged", "state"), ("egocentric", "obs")])
def test_the_view_preset_sets_every_count_key(method, view, key):
    cfg = compose_config([f"method={method}", f"view={view}", "env=doorkey_5x5", "env.num_envs=2"])
    validate(cfg)
    assert effective_count_key(cfg.method) == key
    assert wants_state_keys(cfg.method) == (key == "state")
    envs = make_vector_env(cfg.env, cfg.seed, state_keys=wants_state_keys(cfg.method))
    try:
        module = build_intrinsic(cfg.method, envs.single_observation_space, envs.single_action_space, 2)
    finally:
        envs.close()
    counter = module if method == "count" else module.counts
    assert counter.key == key


def test_own_keeps_the_modules_key_and_a_method_without_a_count_is_untouched():
    cfg = compose_config(["method=reference/ride", "env=doorkey_5x5"])  # view=own: its own state key
    assert effective_count_key(cfg.method) == "state" and wants_state_keys(cfg.method)
    rnd = compose_config(["method=rnd", "view=privileged", "env=doorkey_5x5"])
    assert effective_count_key(rnd.method) is None and not wants_state_keys(rnd.method)


def test_a_bad_count_key_is_named():
    cfg = compose_config(["method=count", "method.count_key=exact", "env=doorkey_5x5"])
    with pytest.raises(ConfigError, match="method.count_key"):
        validate(cfg)
