"""What a sweep's run folders say about its progress: finished, running, failed, frames.

A training run writes ``metrics.csv`` (one row per iteration, with ``frames``) and, once
finished, ``summary.json``. The sweep-progress callback (``curiosity.run.sweep_progress``) adds
one small file per job, ``job_status.json``, written by Hydra's job hooks in the process that
runs the job::

    {"token": "<sweep token>", "status": "running" | "completed" | "failed",
     "start_frames": <frames already done when the job started>, "reason": "<one line>"}

The token is new for every sweep invocation, so the status files of an earlier, interrupted
invocation of the same sweep (same ``sweep_id``) do not count: a run is then *waiting* until
its job starts again. A run whose ``summary.json`` says it finished is skipped by its job in a
moment and counted finished then (not before: the sweep folder may hold runs of another
multirun with the same ``sweep_id``, which this sweep never reaches). Reading never raises on a torn or
missing file; such a run is read as it was before the write.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

STATUS_FILE = "job_status.json"
SUMMARY_FILE = "summary.json"
METRICS_FILE = "metrics.csv"
TAIL_BYTES = 8192  # a metrics.csv row is well under this


@dataclass
class RunProgress:
    """One run of the sweep as its folder shows it now."""

    name: str  # folder name relative to the sweep folder
    state: str  # finished | running | failed
    frames: int  # frames trained so far (last metrics.csv row, or the summary's)
    budget: int | None = None  # frames the run trains for, when its config says
    start_frames: int = 0  # frames it already had when this invocation started it
    reason: str | None = None  # failed runs: the one line that says why


@dataclass
class SweepSnapshot:
    """Every run folder that has started (or finished before) in this sweep."""

    runs: list[RunProgress] = field(default_factory=list)

    def having(self, state: str) -> list[RunProgress]:
        return [r for r in self.runs if r.state == state]


def write_job_status(run_dir: Path, token: str, status: str, start_frames: int = 0,
                     reason: str | None = None) -> None:
    """Atomically write ``run_dir/job_status.json`` (a reader never sees half a file)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{STATUS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"token": token, "status": status, "start_frames": int(start_frames),
                               "reason": reason}))
    tmp.replace(run_dir / STATUS_FILE)


def read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def last_frames(run_dir: Path) -> int | None:
    """``frames`` of the last complete row of ``run_dir/metrics.csv`` (None: no row yet).

    Reads the header and the file's last few KB only, so polling a long run stays cheap.
    """
    path = Path(run_dir) / METRICS_FILE
    try:
        with open(path, "rb") as f:
            header = f.readline().decode(errors="replace").rstrip("\r\n").split(",")
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            tail = f.read().decode(errors="replace")
    except OSError:
        return None
    if "frames" not in header:
        return None
    col = header.index("frames")
    lines = tail.split("\n")[:-1]  # the part after the last newline may be half-written
    for line in reversed(lines):
        cells = line.rstrip("\r").split(",")
        if len(cells) == len(header) and cells != header:
            try:
                return int(float(cells[col]))
            except ValueError:
                continue
    return None


def frames_done(run_dir: Path) -> int:
    """Frames a run folder already holds: the finished summary's, else the last metrics row's."""
    summary = read_json(Path(run_dir) / SUMMARY_FILE)
    if summary and summary.get("status") == "finished" and isinstance(summary.get("frames"), int):
        return summary["frames"]
    return last_frames(run_dir) or 0


def budget_of(total_frames, num_steps, num_envs) -> int | None:
    """Frames a run trains for: whole iterations only (what the trainer does)."""
    try:
        batch = int(num_steps) * int(num_envs)
        return int(total_frames) // batch * batch if batch > 0 else int(total_frames)
    except (TypeError, ValueError):
        return None


def run_budget(run_dir: Path) -> int | None:
    """The run's frame budget from the config Hydra saved for it (``.hydra/config.yaml``)."""
    try:
        cfg = yaml.safe_load((Path(run_dir) / ".hydra" / "config.yaml").read_text())
        return budget_of(cfg["total_frames"], cfg["agent"]["num_steps"], cfg["env"]["num_envs"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None


def _run_folders(sweep_dir: Path) -> list[Path]:
    try:
        children = [p for p in Path(sweep_dir).iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    if (Path(sweep_dir) / STATUS_FILE).exists():  # a job whose subdir is empty runs in the sweep folder
        children.append(Path(sweep_dir))
    return sorted(children)


class SweepScanner:
    """Reads the state of every run folder under ``sweep_dir`` for the sweep with ``token``."""

    def __init__(self, sweep_dir: Path, token: str):
        self.sweep_dir = Path(sweep_dir)
        self.token = token
        self._budgets: dict[Path, int | None] = {}

    def _budget(self, run_dir: Path) -> int | None:
        if self._budgets.get(run_dir) is None:
            self._budgets[run_dir] = run_budget(run_dir)
        return self._budgets[run_dir]

    def scan(self) -> SweepSnapshot:
        snap = SweepSnapshot()
        for run_dir in _run_folders(self.sweep_dir):
            name = run_dir.name if run_dir != self.sweep_dir else "."
            status = read_json(run_dir / STATUS_FILE)
            if status is None or status.get("token") != self.token:
                # not reached by this invocation yet: waiting. A run that finished before is
                # not counted here: the folder may belong to another sweep sharing the
                # sweep_id (a second multirun with other overrides); when this sweep reaches
                # it, its job skips it in a moment and marks it with this token.
                continue
            start = int(status.get("start_frames") or 0)
            state = {"completed": "finished", "failed": "failed"}.get(status.get("status"), "running")
            budget = self._budget(run_dir)
            if state == "running" and budget is not None and start >= budget:
                state = "finished"  # a finished run this invocation is only skipping
            frames = frames_done(run_dir) if state == "finished" else (last_frames(run_dir) or start)
            snap.runs.append(RunProgress(name, state, frames, budget, start,
                                         status.get("reason") if state == "failed" else None))
        return snap
