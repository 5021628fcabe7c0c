"""End-to-end trainer properties: determinism, resume, run directory contents, no fake transitions."""

import csv
import json

import numpy as np
import torch

from curiosity.trainer import Trainer


def read_metrics(run_dir, drop_time=True):
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if drop_time:  # wall-clock columns are the only ones allowed to differ between runs
        rows = [{k: v for k, v in r.items() if not k.startswith("time/")} for r in rows]
    return rows


def train(cfg, run_dir, max_iterations=None):
    trainer = Trainer(cfg, run_dir)
    try:
        trainer.train(max_iterations=max_iterations)
    finally:
        trainer.close()
    return trainer


def test_run_directory_contents(tiny_cfg, tmp_path):
    cfg = tiny_cfg("total_frames=384")  # 3 iterations of 4 envs x 32 steps
    train(cfg, tmp_path)
    rows = read_metrics(tmp_path, drop_time=False)
    assert [int(r["frames"]) for r in rows] == [128, 256, 384]
    for key in ("charts/episode_return", "charts/success", "reward/int_raw_mean", "values/ext_mean",
                "losses/approx_kl", "losses/clip_frac", "losses/explained_var_ext", "losses/grad_norm",
                "actions/freq_0", "time/sps", "time/env", "time/update", "explore/cells_per_episode"):
        assert key in rows[0], key
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["frames"] == 384
    info = json.loads((tmp_path / "run_info.json").read_text())
    assert {"git_commit", "git_dirty", "packages", "cpu"} <= set(info)
    assert (tmp_path / "config.yaml").exists()
    assert (tmp_path / "checkpoints" / "latest.pt").exists()
    assert list((tmp_path / "visitation").glob("*.npy"))


def test_same_seed_gives_identical_metrics(tiny_cfg, tmp_path):
    cfg = tiny_cfg("total_frames=512", "env.max_episode_steps=20")
    train(cfg, tmp_path / "a")
    train(cfg, tmp_path / "b")
    a, b = read_metrics(tmp_path / "a"), read_metrics(tmp_path / "b")
    assert a == b and len(a) == 4
    assert any(r["charts/episodes"] != "0" for r in a)  # episodes did end, so resets were covered
    c = tiny_cfg("total_frames=512", "env.max_episode_steps=20", "seed=2")
    train(c, tmp_path / "c")
    assert read_metrics(tmp_path / "c") != a


def test_resume_continues_exactly(tiny_cfg, tmp_path):
    cfg = tiny_cfg("total_frames=768", "env.max_episode_steps=20")
    train(cfg, tmp_path / "full")
    # interrupted run: 2 iterations, a checkpoint, then a fresh process-like Trainer resumes
    cfg_int = tiny_cfg("total_frames=768", "env.max_episode_steps=20", "logger.checkpoint_every=2")
    train(cfg_int, tmp_path / "cut", max_iterations=3)  # killed after iteration 3, checkpoint at 2
    assert len(read_metrics(tmp_path / "cut")) == 3
    resumed = train(cfg_int, tmp_path / "cut")
    assert resumed.iteration == 6
    full, cut = read_metrics(tmp_path / "full"), read_metrics(tmp_path / "cut")
    assert cut == full


def test_no_reset_observation_is_stored_as_a_successor(tiny_cfg, tmp_path):
    """At every episode end the stored successor is the final obs (agent still in the old episode)."""
    cfg = tiny_cfg("total_frames=128", "env.max_episode_steps=7")
    trainer = Trainer(cfg, tmp_path)
    timers = dict.fromkeys(("env", "inference", "storage"), 0.0)
    trainer.collect_rollout(timers)
    s = trainer.storage
    done = s.dones.bool()
    assert done.any()
    # a row's successor is the next row's obs unless the episode ended there
    cont = ~done[:-1]
    assert torch.equal(s.next_obs[:-1][cont], s.obs[1:][cont])
    # at episode ends the next row starts a new episode: its obs differs from the stored successor
    ends = done[:-1]
    assert not torch.equal(s.next_obs[:-1][ends], s.obs[1:][ends])
    trainer.close()


def test_truncated_rows_bootstrap_from_final_obs_value(tiny_cfg, tmp_path):
    cfg = tiny_cfg("total_frames=128", "env.max_episode_steps=5")
    trainer = Trainer(cfg, tmp_path)
    trainer.collect_rollout(dict.fromkeys(("env", "inference", "storage"), 0.0))
    trainer._bootstrap_values()
    s = trainer.storage
    ends = s.dones.bool()
    with torch.inference_mode():
        v_final, _ = trainer.agent.values(s.next_obs[ends])
    torch.testing.assert_close(s.next_values_ext[ends], v_final)
    assert (s.terminated[ends] == 0).all()  # time limit: truncation, so GAE bootstraps
    trainer.close()
    assert np.isfinite(s.next_values_ext.numpy()).all()


def test_a_method_without_predictor_builds_no_predictor_grid(tiny_cfg, tmp_path):
    """view=window9 asks every method's predictor for the 9x9 window; extrinsic-only PPO has no
    predictor, so it must not pay for the grid (nor lose envpool for it), while a forward model
    gets it."""
    none = Trainer(tiny_cfg("method=none", "view=window9"), tmp_path / "none")
    conv = Trainer(tiny_cfg("method=forward_conv", "view=window9", "method.module.hidden_channels=8"),
                   tmp_path / "conv")
    try:
        assert not none.predictor_grid and none.envs.full_grid_space is None
        assert not none.storage.separate_view
        assert conv.predictor_grid and conv.storage.pred_obs.shape[2:] == (9, 9, 4)
    finally:
        none.close()
        conv.close()
