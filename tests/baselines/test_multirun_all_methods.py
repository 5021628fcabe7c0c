"""A Hydra multirun over every method (tiny budgets, 2 seeds) completes through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curiosity.paths import method_names

ROOT = Path(__file__).resolve().parents[2]
ALL_METHODS = tuple(method_names())  # every conf/method/*.yaml
TINY_RUN = [
    "env=doorkey_5x5", "total_frames=128", "env.num_envs=4", "agent.num_steps=32",
    "agent.num_minibatches=2", "agent.update_epochs=1", "agent.hidden_size=32", "agent.conv_channels=8",
    "method.obs_norm_init_steps=0", "logger.wandb_mode=disabled", "logger.progress=false",
    "logger.checkpoint_every=0",
]


def run_sweep(tmp_path: Path, methods: tuple[str, ...], seeds: str) -> list[Path]:
    """Run ``python -m curiosity.train -m`` over methods x seeds; return the finished run dirs."""
    cmd = [sys.executable, "-m", "curiosity.train", "-m", f"method={','.join(methods)}", f"seed={seeds}",
           *TINY_RUN, f"hydra.sweep.dir={tmp_path}"]
    # one torch thread per run (BasicLauncher runs them one after another): on shared cores the
    # default two threads made this sweep ~4x slower
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sorted(p.parent for p in tmp_path.rglob("summary.json"))


def check_runs(run_dirs: list[Path], methods: tuple[str, ...], seeds: tuple[int, ...]) -> None:
    found = set()
    for run in run_dirs:
        assert (run / "metrics.csv").stat().st_size > 0, run
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "finished" and summary["frames"] == 128, run
        found.add((summary["method"], summary["seed"]))
    assert found == {(m, s) for m in methods for s in seeds}
    assert len(run_dirs) == len(found)  # one directory per job


@pytest.mark.slow  # 28 runs through the CLI (`make test-all`); every method's in-process run is in
# tests/project/test_method_contract.py, the CLI multirun in tests/curiosity/test_sweeps.py
def test_multirun_over_all_methods_completes(tmp_path):
    """Two one-iteration runs per method in one Hydra process (about 1 s per run on 2 idle cores)."""
    check_runs(run_sweep(tmp_path, ALL_METHODS, "1,2"), ALL_METHODS, (1, 2))
