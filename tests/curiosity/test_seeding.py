"""Independent seed streams (issue 13.1): no two runs share an env, wrapper or global stream."""

import numpy as np
import pytest

from curiosity.envs import make_vector_env
from curiosity.seeding import STICKY, TV, RunStreams, wrapper_rng


def layout_sequences(compose, seed: int, backend: str = "python", episodes: int = 4) -> list[tuple]:
    """Per env, the first observations of its first ``episodes`` episodes in run ``seed``
    (episodes ended by a 2-step time limit)."""
    cfg = compose(["env=doorkey_8x8", "env.num_envs=6", "env.max_episode_steps=2",
                   f"env.backend={backend}"]).env
    envs = make_vector_env(cfg, seed)
    obs, _ = envs.reset()
    seqs = [[obs[i].tobytes()] for i in range(envs.num_envs)]
    while min(len(s) for s in seqs) < episodes:
        obs, _, term, trunc, info = envs.step(np.zeros(envs.num_envs, dtype=np.int64))
        for i in np.flatnonzero(~info["valid"] if backend == "envpool" else term | trunc):
            seqs[i].append(obs[i].tobytes())
    envs.close()
    return [tuple(s[:episodes]) for s in seqs]


def test_run_streams_are_disjoint_across_neighbouring_seeds():
    for s in (0, 1, 7):
        a, b = RunStreams(s), RunStreams(s + 1)
        assert not set(a.env_seeds(64)) & set(b.env_seeds(64))
        assert len(set(a.env_seeds(64))) == 64
        assert a.torch_seed() != b.torch_seed() and a.numpy_seed() != b.numpy_seed()
        assert abs(a.envpool_seed() - b.envpool_seed()) >= 64  # envpool's base + i ranges
        assert a.env_seeds(4) == RunStreams(s).env_seeds(4)  # same seed, same streams
        assert not set(a.env_seeds(4)) & set(a.env_seeds(4, generation=5))  # a resume reseeds


def test_wrapper_streams_are_children_of_the_reset_seed_not_the_layout_stream():
    seed = RunStreams(3).env_seeds(1)[0]
    sticky, tv = wrapper_rng(seed, STICKY).random(8), wrapper_rng(seed, TV).random(8)
    layout = np.random.default_rng(seed).random(8)  # what gymnasium seeds the task with
    assert not np.allclose(sticky, tv) and not np.allclose(sticky, layout)
    np.testing.assert_array_equal(sticky, wrapper_rng(seed, STICKY).random(8))


@pytest.mark.parametrize("backend", ["python", "envpool"])
def test_envs_of_neighbouring_runs_never_replay_each_other(compose, backend):
    """The old ``seed + i`` scheme fails this: env 1 of run 3 was env 0 of run 4."""
    if backend == "envpool":
        pytest.importorskip("envpool")
    a, b = layout_sequences(compose, 3, backend), layout_sequences(compose, 4, backend)
    assert not set(a) & set(b)
    assert len(set(a)) == len(a)  # envs within a run differ too
    assert layout_sequences(compose, 3, backend) == a  # same seed, same layouts
