"""RunState: a run's policy and method as the trainer built them (issue 28)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from curiosity.tools import heatmaps, render
from curiosity.tools.run_state import RunState
from curiosity.trainer import Trainer

E3B_SMALL = ["method=e3b", "method.module.embedding_dim=16", "method.module.channels=8",
             "method.module.feature_channels=16", "method.module.hidden=32"]
LEFT, RIGHT = 0, 1


@pytest.fixture
def e3b_run_16_envs(tiny_cfg, tmp_path):
    """A 1,024-frame e3b run on DoorKey-5x5 with 16 envs, checkpointed at the end."""
    cfg = tiny_cfg("env=doorkey_5x5", "env.num_envs=16", "total_frames=1024", *E3B_SMALL)
    trainer = Trainer(cfg, tmp_path / "run")
    try:
        trainer.train()
    finally:
        trainer.close()
    return tmp_path / "run"


def test_an_e3b_run_with_16_envs_loads_renders_and_maps(e3b_run_16_envs, tmp_path, capsys):
    """Issue 28: RunState built the module without ``num_envs``, so the checkpoint of an e3b run
    with 16 envs did not load (its episodic memory is [16, d, d], the fresh module's [1, d, d])
    and curiosity-render and curiosity-heatmaps died on it."""
    state = RunState.load(e3b_run_16_envs)
    assert state.runtime.num_envs == 16 and state.intrinsic.cov_inverse.shape == (16, 16, 16)
    saved = torch.load(e3b_run_16_envs / "checkpoints" / "latest.pt", weights_only=False)["intrinsic"]
    torch.testing.assert_close(state.intrinsic.cov_inverse, saved["cov_inverse"])  # the run's memory
    out = tmp_path / "e3b.gif"
    render.main([str(e3b_run_16_envs), "--out", str(out)])
    assert out.exists() and out.with_suffix(".jsonl").read_text()
    heatmaps.main([str(e3b_run_16_envs), "--out-dir", str(tmp_path / "maps")])
    assert (tmp_path / "maps" / "intrinsic_frames0000001024.png").exists()
    assert "wrote" in capsys.readouterr().out


def test_an_episode_is_scored_with_the_methods_memory_and_leaves_the_runs(e3b_run_16_envs):
    """The renderer scores an episode as the trainer scores an env's: a revisit pays less than
    the first visit; the loaded run's episodic memory is left as it was."""
    state = RunState.load(e3b_run_16_envs)
    before = state.intrinsic.cov_inverse.clone()
    _, records = render.play_episodes(state, episodes=1, seed=0, actions=[LEFT, RIGHT, LEFT])
    raw = [r["reward_int_raw"] for r in records]
    assert raw[0] > 0 and raw[2] < raw[0], raw
    assert torch.equal(state.intrinsic.cov_inverse, before)
    # the heatmaps' probe transitions stay stateless: a first visit's bonus
    first = state.intrinsic_raw(*_transition(state, 0))
    np.testing.assert_allclose(first, [raw[0]], rtol=1e-5)
    assert json.dumps(records)  # the records stay plain JSON


def _transition(state, seed):
    """(grid, action, successor) of one left turn after ``reset(seed)`` in the predictor's view."""
    from curiosity.envs import make_single_env

    env = make_single_env(state.cfg.env)
    obs, _ = env.reset(seed=seed)
    nxt = env.step(LEFT)[0]
    env.close()
    return state.predictor_grid(env, obs), [LEFT], nxt


@pytest.mark.parametrize("method", ["random", "none"])
def test_a_method_without_a_module_on_the_matched_window_view_loads(method, tiny_cfg, tmp_path):
    """Issue 28: the trainer builds no predictor grid for a method without a module (its
    normalizers are sized by the policy's 7x7 view), RunState built the 9x9 window of
    ``view=window9`` anyway: the checkpoint did not load and the tools died on the random and
    extrinsic-only arms of every matched-view comparison (the demo's)."""
    run = tmp_path / method
    trainer = Trainer(tiny_cfg("env=doorkey_5x5", "view=window9", f"method={method}", "total_frames=128"), run)
    try:
        trainer.train()
    finally:
        trainer.close()
    state = RunState.load(run)
    assert state.intrinsic is None and state.obs_norm.rms.mean.shape == (24, 7, 7)
    render.main([str(run), "--out", str(tmp_path / "r.gif")])
    assert (tmp_path / "r.gif").exists()
