"""Shared fixtures: compose configs from conf/ exactly as the CLI does."""

from __future__ import annotations

import pytest
import torch

from curiosity.config import compose_config as _compose


def compose_config(overrides: list[str] | None = None):
    """The composed root config for ``overrides`` (no validation), as the CLI composes it."""
    return _compose(list(overrides or []))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Every test runs torch on one intra-op thread, then gets the previous setting back.

    The tests' nets and batches are tiny: a second thread only adds synchronisation, and on
    cores that other work shares it made some tests several times slower (the GRU recall test:
    113 s on 2 threads, 19 s on 1, both on a 2-core VM under load). Subprocesses are not
    covered: tests that launch ``python -m curiosity.train`` pass ``OMP_NUM_THREADS=1`` or
    rely on a parallel sweep's own one-thread-per-run rule (``torch_threads=0``).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY = [
    "env.num_envs=4",
    "agent.num_steps=32",
    "agent.num_minibatches=2",
    "agent.update_epochs=2",
    "agent.hidden_size=32",
    "agent.conv_channels=8",
    "logger.wandb_mode=disabled",
    "logger.progress=false",
    "logger.checkpoint_every=0",
]


@pytest.fixture
def tiny_cfg():
    """A factory for tiny, fast configs: ``tiny_cfg('method=none', 'total_frames=512')``."""

    def make(*overrides: str):
        return compose_config([*TINY, *overrides])

    return make


@pytest.fixture
def compose():
    """``compose(['env=doorkey_8x8', ...])``: the composed root config, unvalidated."""
    return compose_config
