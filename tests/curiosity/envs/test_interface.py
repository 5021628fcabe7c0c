"""The declared vector-env interface (issue 28): both backends implement it, the trainer reads
nothing else of an env, and snapshot/restore carry the python envs through a checkpoint."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from curiosity.envs import make_vector_env
from curiosity.envs.interface import VectorEnv
from curiosity.envs.vector import GridVectorEnv

TRAINER = Path(__file__).resolve().parents[3] / "curiosity" / "trainer.py"


def members(protocol) -> set[str]:
    """The attributes and methods a Protocol declares."""
    declared = set(protocol.__annotations__)
    declared |= {n for n, v in vars(protocol).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return declared


def _env_cfg(compose, *overrides):
    return compose(["env=doorkey_5x5", "env.num_envs=2", *overrides]).env


def test_the_python_backend_is_a_vector_env_and_restores_a_snapshot(compose):
    envs = make_vector_env(_env_cfg(compose), seed=3, full_grid_info=True, grid_crop=9)
    try:
        assert isinstance(envs, GridVectorEnv) and isinstance(envs, VectorEnv)
        assert envs.snapshottable and envs.full_grid_space.shape == (9, 9, 4)
        envs.reset()
        rng = np.random.default_rng(0)
        for _ in range(5):
            envs.step(rng.integers(7, size=2))
        blob = envs.snapshot()
        actions = rng.integers(7, size=(6, 2))
        first = [envs.step(a)[0] for a in actions]
        envs.restore(blob)
        again = [envs.step(a)[0] for a in actions]
    finally:
        envs.close()
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_async_envs_say_they_cannot_be_snapshotted(compose):
    envs = make_vector_env(_env_cfg(compose, "env.vectorization=async"), seed=0)
    try:
        assert isinstance(envs, VectorEnv) and not envs.snapshottable and envs.full_grid_space is None
        with pytest.raises(RuntimeError, match="worker processes"):
            envs.snapshot()
    finally:
        envs.close()


def test_the_envpool_backend_is_a_vector_env(compose):
    pytest.importorskip("envpool", reason="envpool is not installed (optional extra 'fast')")
    from curiosity.envs.envpool_backend import EnvpoolGridVectorEnv

    envs = make_vector_env(_env_cfg(compose, "env.backend=envpool"), seed=0)
    try:
        assert isinstance(envs, EnvpoolGridVectorEnv) and isinstance(envs, VectorEnv)
        assert envs.full_grid_space is None and not envs.snapshottable
        with pytest.raises(RuntimeError, match="cannot be saved"):
            envs.snapshot()
        obs, info = envs.reset()
        assert obs.shape == (2, *envs.summary.obs_shape) and "agent_x" in info
    finally:
        envs.close()


def test_both_backends_define_every_member_of_the_interface():
    from curiosity.envs.envpool_backend import EnvpoolGridVectorEnv

    for cls in (GridVectorEnv, EnvpoolGridVectorEnv):
        source = Path(__import__(cls.__module__, fromlist=["_"]).__file__).read_text()
        for name in members(VectorEnv):  # a class attribute, a method, or set in __init__
            assert hasattr(cls, name) or f"self.{name} =" in source, f"{cls.__name__} lacks {name}"


def test_the_trainer_reads_only_the_interface_of_its_envs():
    """No ``self.envs.venv``, no backend test: the trainer uses what VectorEnv declares."""
    used = set()
    for node in ast.walk(ast.parse(TRAINER.read_text())):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "envs" and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "self"):
            used.add(node.attr)
    assert used, "the trainer's env accesses were not found"
    assert used <= members(VectorEnv) - {"backend"}, sorted(used - members(VectorEnv))
