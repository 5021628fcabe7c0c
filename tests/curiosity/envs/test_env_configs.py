"""Every conf/env yaml composes, validates and builds its env through one reset.

Parametrized over the files on disk, so an env config added later is covered too: a
misspelt or unregistered id fails here rather than at the start of a sweep.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curiosity.config import validate
from curiosity.envs import make_single_env

ENV_CONFIGS = sorted(p.stem for p in (Path(__file__).resolve().parents[3] / "conf" / "env").glob("*.yaml"))


def test_env_configs_exist():
    assert {"multiroom_n10_s10", "keycorridor_s6r3", "obstructedmaze_2dlhb"} <= set(ENV_CONFIGS)


@pytest.mark.parametrize("name", ENV_CONFIGS)
def test_env_config_composes_and_builds(compose, name):
    cfg = compose([f"env={name}"])
    validate(cfg)
    env = make_single_env(cfg.env)
    try:
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs), f"env={name}: reset observation outside the space"
    finally:
        env.close()


def test_ride_multiroom_variants_have_their_room_counts(compose):
    """RIDE's MultiRoom-N<rooms>-S<size>: exactly <rooms> rooms, none wider than <size>."""
    for name, rooms, size in (("multiroom_n7_s8", 7, 8), ("multiroom_n10_s10", 10, 10),
                              ("multiroom_n12_s10", 12, 10)):
        env = make_single_env(compose([f"env={name}"]).env)
        try:
            env.reset(seed=1)
            base = env.unwrapped
            assert len(base.rooms) == rooms, name
            assert max(max(r.size) for r in base.rooms) <= size, name
            assert base.max_steps == rooms * 20, name
        finally:
            env.close()
