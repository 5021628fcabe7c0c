"""The exact-state key equals the full state: same key iff same grid, pose and carried object."""

import numpy as np
import pytest

from curiosity.envs.state_key import StateKey, full_state_bytes
from curiosity.envs.vector import make_single_env
from curiosity.tools.bonus_probe import compose


@pytest.mark.parametrize("env_id", ["MiniGrid-DoorKey-5x5-v0", "MiniGrid-MultiRoom-N2-S4-v0",
                                    "MiniGrid-KeyCorridorS3R1-v0"])
def test_state_key_matches_the_full_encoding(env_id):
    env = make_single_env(compose([f"env.id={env_id}"]).env, state_keys=True)
    rng = np.random.default_rng(0)
    seen: dict[int, bytes] = {}
    distinct_states = set()
    _, info = env.reset(seed=3)
    for _ in range(1500):  # random actions: pickups, drops and toggles happen on these tasks
        full = full_state_bytes(env)
        key = info["state_key"]
        assert seen.setdefault(key, full) == full  # one key never stands for two states
        distinct_states.add(full)
        _, _, term, trunc, info = env.step(int(rng.integers(7)))
        if term or trunc:
            _, info = env.reset(seed=3)  # the same layout: states repeat across episodes
    assert len(seen) == len(distinct_states) > 20  # and one state never gets two keys
    env.close()


def test_state_key_is_the_same_in_every_process():
    env = StateKey(make_single_env(compose(["env.id=MiniGrid-DoorKey-5x5-v0"]).env))
    _, info = env.reset(seed=7)
    assert info["state_key"] == env.key() and 0 <= info["state_key"] < 2**63
    env.close()
