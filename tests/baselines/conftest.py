"""Toy transitions for the baseline tests: random compact grids with a known dynamics rule.

Test files reach the helpers through the fixtures (``toy``, ``fit_module``): with pytest's
importlib mode a conftest is not importable. The rule marks the action in the next grid (a key in row ``action`` of column 0), so the
action is recoverable from (s, s') and the next grid is a function of (s, a).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from curiosity.envs.encoding import onehot_planes_batched
from curiosity.intrinsic import TransitionBatch

GRID = (7, 7, 4)  # the egocentric view's compact grid
NUM_ACTIONS = 7
KEY = 5  # MiniGrid object index of the key marker
FAMILIAR_OBJECTS = (1, 2)  # empty, wall: what the models train on
NOVEL_OBJECTS = (6, 7, 8, 9)  # ball, box, goal, lava: never in training


def toy_transitions(n: int, objects: tuple[int, ...], seed: int) -> TransitionBatch:
    """``n`` transitions on random grids built from ``objects``, with uniform actions."""
    g = torch.Generator().manual_seed(seed)
    obs = torch.zeros(n, *GRID, dtype=torch.uint8)
    obs[..., 0] = torch.tensor(objects)[torch.randint(len(objects), (n, 7, 7), generator=g)].to(torch.uint8)
    obs[..., 1] = torch.randint(6, (n, 7, 7), generator=g).to(torch.uint8)
    obs[..., 3] = torch.randint(4, (n, 1, 1), generator=g).to(torch.uint8)
    action = torch.randint(NUM_ACTIONS, (n,), generator=g)
    next_obs = obs.clone()
    next_obs[torch.arange(n), action, 0, 0] = KEY
    next_obs[torch.arange(n), action, 0, 1:3] = 0
    return TransitionBatch(obs=obs, action=action, next_obs=next_obs,
                           obs_input=onehot_planes_batched(obs), next_obs_input=onehot_planes_batched(next_obs))


def fit(module, batch: TransitionBatch, steps: int, lr: float = 1e-3) -> None:
    """Full-batch Adam on the module's trainable parameters, as the trainer builds them."""
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        loss, _ = module.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small nets on a shared machine run fastest on one thread (and repeat exactly)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def spaces():
    """(obs_space, action_space) of the toy grids."""
    high = np.full(GRID, 10, dtype=np.uint8)
    return gym.spaces.Box(0, high, dtype=np.uint8), gym.spaces.Discrete(NUM_ACTIONS)


@pytest.fixture
def toy():
    """``toy(n, seed, novel=False)``: n toy transitions on familiar (or novel) objects."""
    return lambda n, seed, novel=False: toy_transitions(n, NOVEL_OBJECTS if novel else FAMILIAR_OBJECTS, seed)


@pytest.fixture
def fit_module():
    """``fit_module(module, batch, steps, lr=1e-3)``: full-batch training as in :func:`fit`."""
    return fit


@pytest.fixture
def familiar():
    return toy_transitions(64, FAMILIAR_OBJECTS, seed=0)


@pytest.fixture
def novel():
    return toy_transitions(64, NOVEL_OBJECTS, seed=1)
