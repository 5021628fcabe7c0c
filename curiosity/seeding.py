"""Every random stream of a run, derived from one ``numpy.random.SeedSequence(seed)``.

Runs with different seeds must never share a stream: with the old ``reset(seed=s)``
scheme (env *i* of run *s* seeded ``s + i``) env *k+1* of run *s* replayed env *k* of run
*s+1*, so "independent" seeds shared most of their layouts, sticky-action draws and TV
noise, and every confidence interval over seeds was overconfident.

Here each purpose is a child ``SeedSequence(seed, spawn_key=(PURPOSE, ...))`` of the run's
root, so streams are independent across purposes, envs and runs, and the same seed twice
still gives the same streams:

- ``env_seeds``: one 64-bit reset seed per env (the task's layout stream). Wrappers derive
  their own streams from the reset seed they receive with :func:`wrapper_rng` (one child per
  wrapper purpose: sticky actions, TV, level choice), so they never touch the layout RNG.
- ``generation`` separates a fresh start (0) from a resume at iteration *k* without the
  envs' state (async, envpool, unpicklable envs): such a resume reseeds with generation *k*
  instead of replaying the run's first layouts.
- ``envpool_seed``: envpool seeds env *i* with ``base + i``; the base is drawn from the
  run's stream in [0, 2**31), so two runs' ranges overlap with probability ~2N/2**31.
- ``torch_seed``, ``numpy_seed``, ``python_seed``: the global generators of the trainer;
  ``eval_generator_seed``: the held-out evaluator's action sampling and wrapper streams.
"""

from __future__ import annotations

import numpy as np

# purposes of the run's children (never reorder: they define every stream)
ENV, TORCH, NUMPY, PYTHON, EVAL, ENVPOOL, ENVPOOL_STICKY = range(7)
# purposes of a wrapper's child of its env's reset seed
STICKY, TV, LEVELS = 1, 2, 3


def _child(seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))


def _uint64(ss: np.random.SeedSequence) -> int:
    lo, hi = ss.generate_state(2, dtype=np.uint32)
    return int(lo) | (int(hi) << 32)


class RunStreams:
    """The streams of the run with seed ``seed`` (pure functions of ``seed`` and arguments)."""

    def __init__(self, seed: int):
        if int(seed) < 0:
            raise ValueError(f"seed={seed}: must be >= 0")
        self.seed = int(seed)

    def env_seeds(self, num_envs: int, generation: int = 0) -> list[int]:
        """The reset seed of each env (layouts; wrappers derive theirs from it)."""
        return [_uint64(_child(self.seed, ENV, generation, i)) for i in range(num_envs)]

    def envpool_seed(self, generation: int = 0) -> int:
        return int(_child(self.seed, ENVPOOL, generation).generate_state(1, dtype=np.uint32)[0] >> 1)

    def envpool_sticky_rng(self, generation: int = 0) -> np.random.Generator:
        return np.random.default_rng(_child(self.seed, ENVPOOL_STICKY, generation))

    def torch_seed(self) -> int:
        return _uint64(_child(self.seed, TORCH))

    def numpy_seed(self) -> int:  # the legacy global generator takes 32 bits
        return int(_child(self.seed, NUMPY).generate_state(1, dtype=np.uint32)[0])

    def python_seed(self) -> int:
        return _uint64(_child(self.seed, PYTHON))

    def eval_seed(self, iteration: int, episode: int = 0) -> int:
        """The held-out evaluation at ``iteration``: action sampling (episode 0) and the
        reset seed of each episode's wrappers (its layout is pinned to a held-out level)."""
        return _uint64(_child(self.seed, EVAL, iteration, episode)) >> 1  # torch takes < 2**63


def wrapper_rng(reset_seed: int, purpose: int) -> np.random.Generator:
    """A wrapper's own stream, a child of its env's reset seed (never the layout stream)."""
    return np.random.default_rng(_child(reset_seed, purpose))
