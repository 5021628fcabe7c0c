"""Intrinsic-reward heatmap (placement, averaging, orientation) and the visitation map."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curiosity.agent import ActorCritic
from curiosity.envs import make_single_env
from curiosity.envs.wrappers import AGENT_IDX
from curiosity.intrinsic import IntrinsicModule
from curiosity.intrinsic.runtime import IntrinsicRuntime
from curiosity.tools.heatmaps import (
    intrinsic_reward_grid,
    latest_visitation,
    main,
    reachable_cells,
    write_intrinsic_heatmap,
)
from curiosity.tools.run_state import RunState


class AgentPositionProbe(IntrinsicModule):
    """Reward = x + 100 * y of the agent in the full-view *obs* + 1000 * action: a
    transparent predictor whose heatmap is known exactly."""

    def __init__(self, obs_space, action_space):
        super().__init__(obs_space, action_space)
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def reward(self, batch):
        is_agent = batch.obs[..., 0] == AGENT_IDX  # (B, W, H): full view is indexed [x, y]
        flat = is_agent.flatten(1).float().argmax(1)
        x, y = flat // batch.obs.shape[2], flat % batch.obs.shape[2]
        return (x + 100 * y + 1000 * batch.action).float()

    def loss(self, batch):
        return self.dummy * 0, {}


def _probe_state(compose, env: str):
    cfg = compose([f"env={env}", "env.full_obs=true", "agent.hidden_size=16", "agent.conv_channels=4"])
    probe_env = make_single_env(cfg.env)
    obs_space, act_space = probe_env.observation_space, probe_env.action_space
    agent = ActorCritic(obs_space.shape, int(act_space.n), 4, 16)
    runtime = IntrinsicRuntime(cfg.method, obs_space, act_space, module=AgentPositionProbe(obs_space, act_space))
    return RunState(cfg, agent, runtime, torch.device("cpu"), frames=None)


def test_reachable_cells_of_an_empty_room():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"id": "MiniGrid-Empty-5x5-v0", "max_episode_steps": None,
                            "sticky_action_prob": 0.0, "full_obs": False})
    env = make_single_env(cfg)
    env.reset(seed=0)
    assert reachable_cells(env.unwrapped) == [(x, y) for x in (1, 2, 3) for y in (1, 2, 3)]


def test_heatmap_places_agent_on_every_cell_and_averages_directions_and_actions(compose):
    state = _probe_state(compose, "doorkey_5x5")
    per_cell, full, env = intrinsic_reward_grid(state, seed=0)
    base = env.unwrapped
    cells = reachable_cells(base)
    mean_action_term = 1000 * np.mean(np.arange(state.num_actions))
    for x in range(base.width):
        for y in range(base.height):
            if (x, y) in cells:  # reward read off the observation: the map is oriented [x, y]
                assert per_cell[x, y] == pytest.approx(x + 100 * y + mean_action_term)
                assert full[x, y, :, 2] == pytest.approx(x + 100 * y + 2000)
            else:
                assert np.isnan(per_cell[x, y])
    # DoorKey: the locked door splits the grid; cells beyond it count (doors are passable)
    # but the wall column and the door cell itself do not.
    assert len(cells) == sum(1 for x in range(5) for y in range(5)
                             if base.grid.get(x, y) is None or base.grid.get(x, y).can_overlap())


def test_heatmap_files_and_method_none_error(compose, tmp_path):
    state = _probe_state(compose, "doorkey_5x5")
    png = write_intrinsic_heatmap(state, tmp_path / "h" / "intrinsic.png", seed=1)
    assert png.exists() and png.stat().st_size > 1000
    assert np.load(tmp_path / "h" / "intrinsic.npy").shape == (5, 5, 4, state.num_actions)
    state.runtime.module = None
    with pytest.raises(ValueError, match="no intrinsic module"):
        intrinsic_reward_grid(state, seed=1)


def test_visitation_uses_the_latest_map(tmp_path, tiny_cfg):
    vis = tmp_path / "visitation"
    vis.mkdir()
    old, new = np.zeros((5, 5), dtype=np.int64), np.zeros((5, 5), dtype=np.int64)
    old[1, 1], new[2, 3] = 7, 9
    np.save(vis / "visits_frames0000000512.npy", old)
    np.save(vis / "visits_frames0000001024.npy", new)
    visits, frames = latest_visitation(tmp_path)
    assert frames == 1024 and visits[2, 3] == 9 and visits.sum() == 9
    # the CLI on a run without a checkpoint: untrained modules from config.yaml, both maps
    from omegaconf import OmegaConf

    OmegaConf.save(tiny_cfg("env=doorkey_5x5", "method=rnd", "method.module.channels=4",
                            "method.module.embedding_dim=8", "method.module.predictor_hidden=8"),
                   tmp_path / "config.yaml")
    main([str(tmp_path)])
    assert (tmp_path / "heatmaps" / "visitation.png").exists()
    assert (tmp_path / "heatmaps" / "intrinsic_untrained.png").exists()
