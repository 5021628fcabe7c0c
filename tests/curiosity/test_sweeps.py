"""Sweeps: multiruns through joblib and submitit_local, skip-finished and resume-unfinished."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig

from curiosity.config import register_configs
from curiosity.run.metrics import ablation_tags
from curiosity.train import finished_summary
from curiosity.trainer import Trainer

REPO = Path(__file__).resolve().parents[2]
FRAMES = 1024  # sweep_smoke: 8 envs x 64 steps = 512 frames per iteration -> 2 iterations
JOBS = [("none", 1), ("none", 2), ("random", 1), ("random", 2)]


def _run_dir(sweep_dir: Path, method: str, seed: int) -> Path:
    return sweep_dir / f"method={method},seed={seed},total_frames={FRAMES}"


def _metrics(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def _sweep(sweep_dir: Path, *launcher: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "curiosity.train", "-m", "+experiment=sweep_smoke",
           "method=none,random", "seed=1,2", f"total_frames={FRAMES}", f"hydra.sweep.dir={sweep_dir}",
           *launcher]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "HYDRA_FULL_ERROR": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def _assert_complete(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["frames"] == FRAMES
    assert [int(r["iteration"]) for r in _metrics(run_dir)] == [1, 2]
    assert (run_dir / "checkpoints" / "latest.pt").exists()
    assert (run_dir / "config.yaml").exists() and (run_dir / "run_info.json").exists()
    with open(run_dir / "eval.csv", newline="") as f:
        assert [int(r["frames"]) for r in csv.DictReader(f)] == [FRAMES]  # final held-out eval


# ---------------------------------------------------------------- skip-finished (fast)
def _write_summary(run_dir: Path, **fields) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.json").write_text(json.dumps({"status": "finished", "frames": 512, **fields}))


def test_finished_run_is_skipped_only_when_its_budget_is_met(tiny_cfg, tmp_path):
    # tiny batch: 4 envs x 32 steps = 128 frames
    _write_summary(tmp_path, frames=512)
    assert finished_summary(tiny_cfg("total_frames=512"), tmp_path)["frames"] == 512
    assert finished_summary(tiny_cfg("total_frames=600"), tmp_path) is not None  # 600 -> 4 rollouts = 512
    assert finished_summary(tiny_cfg("total_frames=1024"), tmp_path) is None  # budget raised: continue
    assert finished_summary(tiny_cfg("total_frames=512", "resume=false"), tmp_path) is None  # retrain


def test_unfinished_or_corrupt_summary_is_not_skipped(tiny_cfg, tmp_path):
    cfg = tiny_cfg("total_frames=512")
    assert finished_summary(cfg, tmp_path) is None  # no summary at all
    _write_summary(tmp_path, status="running")
    assert finished_summary(cfg, tmp_path) is None
    (tmp_path / "summary.json").write_text('{"status": "fini')  # torn write
    assert finished_summary(cfg, tmp_path) is None


def test_ablation_tags_are_empty_outside_hydra():
    assert ablation_tags() == []


def test_ablation_tags_name_swept_values_but_not_seeds_or_bookkeeping():
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose(config_name="config", return_hydra_config=True, overrides=[
            "+experiment=ablate_int_coef", "method.int_coef=0.3", "env.sticky_action_prob=0.1",
            "seed=4", "sweep_id=x", "logger.wandb_mode=disabled"])
    GlobalHydra.instance().clear()
    HydraConfig.instance().set_config(cfg)
    try:
        assert ablation_tags() == ["method.int_coef=0.3", "env.sticky_action_prob=0.1"]
    finally:
        HydraConfig.instance().cfg = None


# ---------------------------------------------------------------- launchers (subprocesses)
def test_joblib_sweep_completes_then_rerun_skips_finished_and_resumes_unfinished(compose, tmp_path):
    sweep_dir = tmp_path / "sweep"
    # an interrupted run: one of the four jobs stopped after its first iteration (checkpointed)
    unfinished = _run_dir(sweep_dir, "none", 2)
    cfg = compose(["+experiment=sweep_smoke", "method=none", "seed=2", f"total_frames={FRAMES}",
                   "logger.checkpoint_every=1"])
    trainer = Trainer(cfg, unfinished)
    trainer.train(max_iterations=1)
    trainer.close()
    first_row = _metrics(unfinished)[0]
    assert not (unfinished / "summary.json").exists()

    _sweep(sweep_dir, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    for method, seed in JOBS:
        _assert_complete(_run_dir(sweep_dir, method, seed))
    assert len([p for p in sweep_dir.iterdir() if p.is_dir()]) == 4
    assert _metrics(unfinished)[0] == first_row  # resumed from the checkpoint, iteration 1 not redone
    # torch_threads=0 (auto): one thread per run when joblib runs jobs side by side
    started = _run_dir(sweep_dir, "none", 1)
    assert json.loads((started / "run_info.json").read_text())["torch_threads"] == 1

    stamps = {p: p.stat().st_mtime_ns for p in sweep_dir.glob("*/summary.json")}
    metrics = {p: p.read_bytes() for p in sweep_dir.glob("*/metrics.csv")}
    _sweep(sweep_dir, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert {p: p.stat().st_mtime_ns for p in sweep_dir.glob("*/summary.json")} == stamps
    assert {p: p.read_bytes() for p in sweep_dir.glob("*/metrics.csv")} == metrics
    for method, seed in JOBS:
        assert "skipping" in (_run_dir(sweep_dir, method, seed) / "train.log").read_text()


@pytest.mark.slow  # the second launcher, 5 processes (`make test-all`); joblib's sweep above is in `make test`
def test_submitit_local_sweep_writes_four_complete_runs(tmp_path):
    sweep_dir = tmp_path / "sweep"
    _sweep(sweep_dir, "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10")
    for method, seed in JOBS:
        _assert_complete(_run_dir(sweep_dir, method, seed))
    assert (sweep_dir / ".submitit").is_dir()  # submitit's job logs live beside the runs
