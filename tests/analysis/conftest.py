"""Synthetic run directories written straight to disk (no training): fast, and exact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

BATCH = 1000  # frames per iteration of the synthetic runs


def write_run(root: Path, name: str, *, env="MiniGrid-DoorKey-5x5-v0", method="none", seed=1,
              total_frames=20 * BATCH, iterations=None, success=None, finished=True, int_coef=0.0,
              extra_columns: dict | None = None, visits_shape=(5, 5), config_extra: dict | None = None) -> Path:
    """One run directory in the trainer's format. ``success``: per-iteration success (default ramp)."""
    run = root / name
    run.mkdir(parents=True)
    n = iterations if iterations is not None else total_frames // BATCH
    config = {"env": {"id": env, "num_envs": 16, "noisy_tv": "none"},
              "method": {"name": method, "module": None, "int_coef": int_coef},
              "agent": {"lr": 0.00025}, "seed": seed, "total_frames": total_frames,
              "experiment": "test", "logger": {"wandb_mode": "disabled"}}
    for key, value in (config_extra or {}).items():
        section, leaf = key.split(".")
        config[section][leaf] = value
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    frames = np.arange(1, n + 1) * BATCH
    succ = np.asarray(success if success is not None else np.linspace(0, 1, n), float)[:n]
    df = pd.DataFrame({"iteration": np.arange(1, n + 1), "frames": frames, "charts/episodes": 16,
                       "charts/episode_return": succ * 0.9, "charts/success": succ,
                       "explore/distinct_states_total": np.arange(1, n + 1) * (seed + 1),
                       "reward/int_raw_mean": np.full(n, 0.5 if int_coef else 0.0),
                       "reward/int_norm_mean": np.full(n, 1.0 if int_coef else 0.0),
                       "time/elapsed": np.arange(1, n + 1) * 2.0})
    for col, values in (extra_columns or {}).items():
        df[col] = values
    df.to_csv(run / "metrics.csv", index=False)
    (run / "run_info.json").write_text(json.dumps({
        "command": f"python -m curiosity.train method={method} seed={seed}", "git_commit": "abc123" * 6,
        "git_dirty": False, "python": "3.11.7", "packages": {"minigrid": "3.2.0", "torch": "2.13.0"},
        "hostname": "vm", "cpu": "Test CPU", "cpu_count": 2, "torch_threads": 2, "device": "cpu", "gpu": None}))
    if finished:
        (run / "summary.json").write_text(json.dumps({"status": "finished", "frames": int(frames[-1]),
                                                       "wall_time_s": 2.0 * n}))
    (run / "visitation").mkdir()
    visits = np.zeros(visits_shape, dtype=np.int64)
    visits[1 : 2 + seed % 3, 1:3] = 10 * (seed + 1)
    np.save(run / "visitation" / f"visits_frames{int(frames[-1]):010d}.npy", visits)
    return run


@pytest.fixture(name="write_run")
def write_run_fixture():
    """``write_run(root, name, **kwargs)``: a synthetic run directory (``write_run.batch`` frames/iteration)."""
    write_run.batch = BATCH
    return write_run


@pytest.fixture
def runs_tree(tmp_path):
    """3 methods x 3 seeds on DoorKey-5x5 plus one broken run of every kind the report must survive."""
    root = tmp_path / "sweep"
    n = 20
    for seed in (1, 2, 3):
        write_run(root, f"method=none,seed={seed}", method="none", seed=seed, success=np.full(n, 0.1 * seed))
        write_run(root, f"method=rnd,seed={seed}", method="rnd", seed=seed, int_coef=1.0,
                  success=np.linspace(0, 1, n))
        write_run(root, f"method=random,seed={seed}", method="random", seed=seed, success=np.zeros(n))
    write_run(root, "short", method="rnd", seed=4, int_coef=1.0, total_frames=10 * BATCH)
    write_run(root, "unfinished", method="rnd", seed=5, int_coef=1.0, iterations=7, finished=False)
    corrupt = write_run(root, "corrupt", method="rnd", seed=6, int_coef=1.0)
    (corrupt / "config.yaml").write_text("env: [unclosed\n  : :")
    half = write_run(root, "half_written", method="none", seed=7, iterations=20)
    with open(half / "metrics.csv", "a") as f:
        f.write("21,21000,16,0.1")  # a row cut off mid-write
    crashed = root / "crashed_early"
    crashed.mkdir()
    (crashed / "run_info.json").write_text("{}")
    return root
