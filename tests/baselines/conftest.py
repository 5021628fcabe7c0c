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

from curiosity.envs.encoding import CHANNEL_SIZES, onehot_planes_batched
from curiosity.intrinsic import TransitionBatch
from curiosity.intrinsic.rollout import Rollout

GRID = (7, 7, 4)  # the egocentric view's compact grid
NUM_ACTIONS = 7
KEY = 5  # MiniGrid object index of the key marker
FAMILIAR_OBJECTS = (1, 2)  # empty, wall: what the models train on
NOVEL_OBJECTS = (6, 7, 8, 9)  # ball, box, goal, lava: never in training
NUM_OBJECT_PLANES = CHANNEL_SIZES[0]


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


def grid_rollout(next_states, starts, obs_states=None, valid=None, actions=None) -> Rollout:
    """A synthetic (T, N) rollout on 3x3 grids: the successor grid at (t, n) has object index
    ``next_states[t][n]`` in every cell (``obs_states`` likewise for s_t, default all 1), so
    state v's one-hot planes have object plane v hot."""
    def grids(states):
        g = torch.zeros(len(states), len(states[0]), 3, 3, 4, dtype=torch.uint8)
        g[..., 0] = torch.tensor(states, dtype=torch.uint8)[..., None, None]
        return g

    nxt = grids(next_states)
    obs = grids(obs_states if obs_states is not None else [[1] * len(r) for r in next_states])
    t, n = nxt.shape[:2]
    z = torch.zeros(t, n, dtype=torch.bool)
    pose = torch.full((t, n), -1)
    return Rollout(obs=obs, next_obs=nxt,
                   action=torch.zeros(t, n, dtype=torch.long) if actions is None else torch.tensor(actions),
                   terminated=z, truncated=z, done=z,
                   valid=torch.ones(t, n, dtype=torch.bool) if valid is None else torch.tensor(valid),
                   episode_start=torch.tensor(starts), agent_x=pose, agent_y=pose, agent_dir=pose,
                   carrying=pose)


class StateLookup(torch.nn.Module):
    """A stand-in encoder for hand-computed tests: the row of ``table`` whose index is the
    hot object plane of cell (0, 0), so phi(state v) = table[v]."""

    def __init__(self, table):
        super().__init__()
        self.register_buffer("table", torch.as_tensor(table, dtype=torch.float32))

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        return self.table[planes[:, :NUM_OBJECT_PLANES, 0, 0].argmax(dim=1)]


@pytest.fixture
def make_rollout():
    """``make_rollout(next_states, starts, obs_states=None, valid=None)``: see :func:`grid_rollout`."""
    return grid_rollout


@pytest.fixture
def state_lookup():
    """``state_lookup(table)``: an encoder with phi(state v) = table[v] (:class:`StateLookup`)."""
    return StateLookup


@pytest.fixture
def grid_spaces():
    """(obs_space, action_space) of :func:`grid_rollout`'s 3x3 grids."""
    return gym.spaces.Box(0, 10, (3, 3, 4), dtype=np.uint8), gym.spaces.Discrete(NUM_ACTIONS)
