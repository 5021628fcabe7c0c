"""Sweep run folders stay under the file system's name limit, readable and stable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from analysis.runs import load_runs
from curiosity.run.sweep_names import HASH_CHARS, bounded_dirname

REPO = Path(__file__).resolve().parents[3]


def test_short_names_are_kept_as_they_are():
    assert bounded_dirname("method=rnd,seed=2") == "method=rnd,seed=2"
    assert bounded_dirname("") == ""
    assert bounded_dirname("x" * 120, 120) == "x" * 120


def test_a_config_group_path_gives_one_folder_level():
    name = "method=tuned/multiroom_n4_s5/rnd,seed=2"
    assert bounded_dirname(name, 120) == "method=tuned.multiroom_n4_s5.rnd,seed=2"
    assert "/" not in bounded_dirname("method=tuned/x/" + "y" * 300, 120)


def test_long_names_keep_a_readable_prefix_and_a_stable_hash():
    items = [f"agent.option_{i:02d}=value_{i}" for i in range(30)]
    name = ",".join(items)
    short = bounded_dirname(name, 120)
    assert len(short.encode()) <= 120
    prefix, digest = short.rsplit("~", 1)
    assert len(digest) == HASH_CHARS and prefix in [",".join(items[:k]) for k in range(1, 30)]
    assert bounded_dirname(name, 120) == short  # same overrides, same folder
    other = bounded_dirname(name.replace("value_29", "value_30"), 120)
    assert other != short and other.rsplit("~", 1)[0] == prefix  # differs only past the prefix


def test_multibyte_names_are_cut_on_character_boundaries():
    short = bounded_dirname("tag=" + "é" * 200, 120)
    assert len(short.encode()) <= 120 and short.encode().decode() == short


def test_a_bad_limit_is_a_clear_error():
    with pytest.raises(ValueError, match="limit=5"):
        bounded_dirname("x" * 50, 5)
    with pytest.raises(ValueError, match="not an integer"):
        bounded_dirname("x", "many")


def test_the_resolver_is_what_conf_uses():
    cfg = OmegaConf.create({"name": "k=" + "v" * 300, "dir": "${bounded_dirname:${name},40}"})
    assert cfg.dir == bounded_dirname("k=" + "v" * 300, 40) and len(cfg.dir) <= 40


LONG = ["agent.hidden_size=32", "agent.conv_channels=8", "agent.num_minibatches=2", "agent.update_epochs=1",
        "agent.lr=0.0003", "agent.clip_coef=0.2", "agent.ent_coef=0.01", "agent.vf_coef=0.5",
        "agent.max_grad_norm=0.5", "logger.visitation_every=1", "eval.every=0", "total_frames=512"]


def _sweep(sweep_dir: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "curiosity.train", "-m", "+experiment=sweep_smoke", "method=none",
           "seed=1,2", *LONG, f"hydra.sweep.dir={sweep_dir}", "~hydra.callbacks.sweep_progress"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_a_sweep_with_long_overrides_gets_bounded_folders_the_report_reads(tmp_path):
    sweep_dir = tmp_path / "sweep"
    _sweep(sweep_dir)
    folders = sorted(p for p in sweep_dir.iterdir() if p.is_dir())
    assert len(folders) == 2 and all(len(p.name.encode()) <= 120 and "~" in p.name for p in folders)
    for folder in folders:  # the full overrides stay in the run's Hydra record
        assert set(LONG) <= set(yaml.safe_load((folder / ".hydra" / "overrides.yaml").read_text()))
    runs, skipped = load_runs(sweep_dir)
    assert not skipped and sorted(r.seed for r in runs) == [1, 2]
    assert all(r.finished and "agent.clip_coef=0.2" in r.rerun_command for r in runs)

    _sweep(sweep_dir)  # resumed: the same overrides map to the same folders (skipped, not retrained)
    assert sorted(p for p in sweep_dir.iterdir() if p.is_dir()) == folders
    for folder in folders:
        assert "skipping" in (folder / "train.log").read_text()
