"""The sweep progress line: job count, folder scan, terminal redraw, plain lines, failures."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import open_dict

from curiosity.config import register_configs
from curiosity.run.sweep_progress import (
    FrameRate,
    SweepMonitor,
    SweepProgress,
    count_jobs,
    estimate_eta,
    format_line,
    frames_trained,
    one_line,
)
from curiosity.run.sweep_scan import (
    STATUS_FILE,
    RunProgress,
    SweepScanner,
    SweepSnapshot,
    last_frames,
    write_job_status,
)

REPO = Path(__file__).resolve().parents[3]
TOKEN = "t1"


def _hydra_cfg(overrides, task=None):
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=overrides, return_hydra_config=True)
    GlobalHydra.instance().clear()
    if task is not None:  # sweep overrides cannot be composed outside a multirun: set them as Hydra would
        with open_dict(cfg):
            cfg.hydra.overrides.task = task
    return cfg


# ---------------------------------------------------------------- job count
def test_job_count_crosses_preset_params_with_command_line_sweeps():
    cfg = _hydra_cfg(["+experiment=demo", "sweep_id=x"])
    assert count_jobs(cfg) == 15  # 5 methods x 3 seeds from hydra.sweeper.params
    cfg = _hydra_cfg(["+experiment=demo", "sweep_id=x"], task=["+experiment=demo", "seed=1,2", "sweep_id=x"])
    assert count_jobs(cfg) == 10  # the command line's seeds replace the preset's
    cfg = _hydra_cfg([], task=["method=none,rnd", "seed=range(1,4)", "env.num_envs=4"])
    assert count_jobs(cfg) == 6


def test_job_count_is_unknown_for_other_sweepers():
    cfg = _hydra_cfg([])
    with open_dict(cfg):
        cfg.hydra.sweeper._target_ = "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    assert count_jobs(cfg) is None


# ---------------------------------------------------------------- folder scan
def _run(sweep: Path, name: str, frames=(), budget_frames=2048, status=None, summary=False, torn=False):
    d = sweep / name
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "config.yaml").write_text(
        f"total_frames: {budget_frames}\nagent: {{num_steps: 64}}\nenv: {{num_envs: 8}}\n")
    if frames:
        rows = "".join(f"{i + 1},{f},0.5\n" for i, f in enumerate(frames))
        (d / "metrics.csv").write_text("iteration,frames,charts/success\n" + rows + ("9,99" if torn else ""))
    if summary:
        (d / "summary.json").write_text(json.dumps({"status": "finished", "frames": frames[-1]}))
    if status is not None:
        write_job_status(d, *status)
    return d


def test_scan_reads_states_frames_and_reasons(tmp_path):
    _run(tmp_path, "a_running", frames=[512, 1024], status=(TOKEN, "running", 0), torn=True)
    _run(tmp_path, "b_failed", status=(TOKEN, "failed", 0, "ValueError: bad env id"))
    # finished before: waiting until this invocation's job reaches (and skips) it, since the
    # folder may belong to another multirun that shares the sweep_id
    _run(tmp_path, "c_done_before", frames=[2048], summary=True)
    _run(tmp_path, "d_old_token", frames=[512], status=("old", "failed", 0, "old reason"))  # waiting
    _run(tmp_path, "e_completed", frames=[1024, 2048], summary=True, status=(TOKEN, "completed", 1024))
    snap = SweepScanner(tmp_path, TOKEN).scan()
    by_name = {r.name: r for r in snap.runs}
    assert set(by_name) == {"a_running", "b_failed", "e_completed"}
    assert (by_name["a_running"].state, by_name["a_running"].frames, by_name["a_running"].budget) == (
        "running", 1024, 2048)  # the half-written last row is not read
    assert by_name["b_failed"].reason == "ValueError: bad env id"
    assert by_name["e_completed"].state == "finished"
    assert by_name["e_completed"].frames - by_name["e_completed"].start_frames == 1024


def test_last_frames_is_none_without_a_complete_row(tmp_path):
    assert last_frames(tmp_path) is None
    (tmp_path / "metrics.csv").write_text("iteration,frames\n1,51")
    assert last_frames(tmp_path) is None


def test_eta_is_frames_left_over_the_sweep_rate(tmp_path):
    _run(tmp_path, "a", frames=[1024], status=(TOKEN, "running", 0))
    _run(tmp_path, "b", frames=[2048], summary=True, status=(TOKEN, "completed", 0))
    snap = SweepScanner(tmp_path, TOKEN).scan()
    assert frames_trained(snap) == 3072
    # left: 1024 of a + 2 waiting runs x 2048, at 512 frames/s
    assert estimate_eta(snap, total=4, default_budget=2048, rate=512.0) == (1024 + 4096) / 512
    assert estimate_eta(snap, total=4, default_budget=2048, rate=None) is None  # nothing trained yet


def test_frame_rate_skips_start_up_and_slides():
    rate = FrameRate(window_s=60.0)
    assert rate.add(2.0, 0) is None and rate.add(8.0, 0) is None  # workers starting
    assert rate.add(10.0, 4096) == 4096 / 2.0  # from the last poll before the first frame
    assert rate.add(40.0, 4096 + 30 * 500) == (30 * 500 + 4096) / 32.0  # 500 frames/s since 10 s
    assert rate.add(70.0, 4096 + 30 * 500 + 30 * 2000) == (30 * 500 + 30 * 2000) / 60.0  # last minute
    assert rate.add(100.0, 4096 + 30 * 500 + 60 * 2000) == 2000.0  # the slow half-minute has slid out


# ---------------------------------------------------------------- display
def test_many_running_runs_are_summed_and_unknown_totals_show_a_question_mark():
    running = [RunProgress(f"r{i}", "running", 1000 * i, 65536) for i in range(6)]
    snap = SweepSnapshot([*running, RunProgress("f", "failed", 0, None, reason="x")])
    assert format_line(snap, 20, 65.0, 125.0) == (
        "0/20 finished, 6 running (15.0k/393.2k frames), 1 failed, 13 waiting | 1m05s, ETA 2m05s")
    assert format_line(snap, None, 3700.0, None, final=True) == (
        "0/? finished, 6 running (15.0k/393.2k frames), 1 failed | 1h01m, sweep ended")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_gets_one_redrawn_line_and_failures_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal whatever runs the test (pytest-xdist: none)
    _run(tmp_path, "method=rnd,seed=1", frames=[512], status=(TOKEN, "running", 0))
    out = _Terminal()
    monitor = SweepMonitor(tmp_path, TOKEN, total=3, default_budget=2048, stream=out)
    monitor.update()
    _run(tmp_path, "method=icm,seed=1", status=(TOKEN, "failed", 0, "RuntimeError: config error: x"))
    monitor.update()
    monitor.stop()
    text = out.getvalue()
    assert "\r" in text and "sweep |" in text
    assert "0/3 finished, 1 running (512/2.0k frames), 0 failed, 2 waiting" in text
    assert text.count("failed: method=icm,seed=1: RuntimeError: config error: x") == 1
    assert "0/3 finished, 1 running (512/2.0k frames), 1 failed, 1 waiting" in text
    assert "1 run(s) failed" in text and "  method=icm,seed=1: RuntimeError: config error: x" in text


def test_without_a_terminal_plain_lines_come_at_most_every_interval(tmp_path):
    now = [0.0]
    out = io.StringIO()
    monitor = SweepMonitor(tmp_path, TOKEN, total=2, default_budget=2048, stream=out,
                           plain_every_s=30.0, clock=lambda: now[0])
    for t in (2.0, 4.0, 20.0, 33.0, 40.0):
        now[0] = t
        monitor.update()
    monitor.stop()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert [line.split("| ")[1] for line in lines] == ["2s, ETA ?", "33s, ETA ?", "40s, sweep ended"]


def test_callback_pickles_without_its_thread_and_job_hooks_need_a_multirun(tmp_path):
    import pickle

    cb = SweepProgress(interval_s=0.5)
    cfg = _hydra_cfg([])
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(tmp_path / "run")
    cb.on_job_start(cfg)  # RUN mode (no token): writes nothing
    assert not (tmp_path / "run").exists()
    cb.token = "abc"
    cb._monitor = SweepMonitor(tmp_path, "abc", 1, None)
    copy = pickle.loads(pickle.dumps(cb))
    assert copy.token == "abc" and copy._monitor is None


def test_one_line_names_the_exception_and_its_first_line():
    assert one_line(RuntimeError("config error: env.id=X: unknown\nmore")) == "RuntimeError: config error: env.id=X: unknown"
    assert one_line(KeyError()) == "KeyError"


# ---------------------------------------------------------------- a real sweep
ENVS = ["MiniGrid-DoorKey-5x5-v0", "MiniGrid-Empty-5x5-v0", "MiniGrid-Empty-6x6-v0", "MiniGrid-Nope-v0"]


def _sweep(sweep_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "curiosity.train", "-m", "+experiment=sweep_smoke", "method=none", "seed=1",
           f"env.id={','.join(ENVS)}", "total_frames=1024", "eval.every=0", f"hydra.sweep.dir={sweep_dir}",
           *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_tiny_sweep_shows_progress_and_names_the_failed_run_then_resume_counts_skipped(tmp_path):
    sweep_dir = tmp_path / "sweep"
    out = _sweep(sweep_dir, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                 "hydra.callbacks.sweep_progress.interval_s=0.3", "hydra.callbacks.sweep_progress.plain_every_s=0")
    assert out.returncode == 1, out.stderr[-2000:]  # Hydra ends a sweep with a failed job in an error
    lines = [line for line in out.stdout.splitlines() if line.startswith("sweep: ")]
    assert lines and all("/4 finished" in line for line in lines)
    assert any(re.search(r"[12] running \(\d+(\.\d)?k?/1\.0k", line) for line in lines), lines
    assert lines[-1].startswith("sweep: 3/4 finished, 0 running, 1 failed, 0 waiting")
    reason = "RuntimeError: config error: env.id=MiniGrid-Nope-v0: no such gymnasium environment is registered"
    bad = "env.id=MiniGrid-Nope-v0,eval.every=0,method=none,seed=1,total_frames=1024"
    assert f"failed: {bad}: {reason}" in out.stdout
    assert f"  {bad}: {reason}" in out.stdout.split("1 run(s) failed")[1]
    assert json.loads((sweep_dir / bad / STATUS_FILE).read_text())["status"] == "failed"

    # the same sweep again through the basic launcher: the 3 finished runs are skipped and
    # counted as their jobs reach them (never more than the sweep's own total)
    out = _sweep(sweep_dir, "hydra.callbacks.sweep_progress.interval_s=0.3",
                 "hydra.callbacks.sweep_progress.plain_every_s=60")
    lines = [line for line in out.stdout.splitlines() if line.startswith("sweep: ")]
    assert all(int(line.split()[1].split("/")[0]) <= 4 for line in lines), lines
    assert lines[-1].startswith("sweep: 3/4 finished, 0 running, 1 failed, 0 waiting")
    assert f"failed: {bad}: {reason}" in out.stdout
