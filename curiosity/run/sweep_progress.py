"""One progress line for a Hydra multirun: runs finished / running / failed, frames, ETA.

A sweep through the joblib (or basic, or submitit) launcher used to print its job list and
then nothing for minutes. :class:`SweepProgress` is a Hydra callback, configured under
``hydra.callbacks.sweep_progress`` in ``conf/config.yaml`` and built by Hydra, so training code
never names it. In MULTIRUN mode it

- counts the sweep's jobs from the sweeper's overrides (``hydra.sweeper.params`` of a preset
  plus the command line, split the way Hydra's BasicSweeper splits them);
- marks each job's folder with ``job_status.json`` from Hydra's job hooks, which run in the
  process that runs the job (joblib and submitit workers included): running when it starts,
  then completed or failed, with the one line that says why (see ``curiosity.run.sweep_scan``);
- polls the sweep folder from a daemon thread every ``interval_s`` seconds (it reads a few KB
  per run: nothing the runs would notice) and redraws one line on a terminal::

      sweep |####      | 6/15 finished, 2 running (24.6k/65.5k, 40.9k/65.5k frames), 1 failed, 6 waiting | 3m05s, ETA 4m10s

  When stdout is not a terminal (a log file, CI) it prints that line as plain text at most
  every ``plain_every_s`` seconds instead of redrawing it;
- names every failed run as soon as it fails (``failed: <run folder>: <reason>``), and when
  the sweep ends, also when a failed job makes Hydra end it with an error, prints the final
  line and the failed runs again.

The ETA is the frames still to train (running runs' remaining budgets plus one budget per
waiting run) divided by the sweep's frame rate over the last minute (:class:`FrameRate`); it is
an estimate and shows ``?`` until a frame has been trained. Runs skipped by a resumed sweep count as finished from the start.
Remove the line with ``~hydra.callbacks.sweep_progress`` on the command line.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from curiosity.run.sweep_scan import (
    STATUS_FILE,
    SweepScanner,
    SweepSnapshot,
    budget_of,
    frames_done,
    read_json,
    write_job_status,
)

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BAR_PREFIX, BAR_WIDTH = "sweep", 10
FALLBACK_TERMINAL = (120, 24)  # a terminal that reports no size (0 columns)


def count_jobs(config: DictConfig) -> int | None:
    """Number of jobs the sweeper will launch, or None when it cannot be known up front.

    Only Hydra's BasicSweeper has a fixed job list: its ``hydra.sweeper.params`` followed by
    the command-line overrides, parsed and crossed exactly as ``BasicSweeper.sweep`` does.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    sweeper = OmegaConf.select(config, "hydra.sweeper._target_", default=None)
    if sweeper != BASIC_SWEEPER:
        return None
    try:
        params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
        arguments = [f"{k}={v}" for k, v in params.items()]
        arguments += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
        loader = GlobalHydra.instance().config_loader() if GlobalHydra.instance().is_initialized() else None
        overrides = OverridesParser.create(config_loader=loader).parse_overrides(arguments)
        return len(BasicSweeper.split_arguments(overrides, None)[0])
    except Exception:  # an exotic sweep the sweeper itself will report on; show "?" meanwhile
        return None


def one_line(err: BaseException | Any) -> str:
    """``Type: first line of the message`` of an exception (or the value's text)."""
    if not isinstance(err, BaseException):
        return " ".join(str(err).split())[:300]
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0]}"[:300] if lines else type(err).__name__


def fmt_frames(n: float | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}"


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def frames_trained(snap: SweepSnapshot) -> int:
    """Frames trained by this sweep invocation so far (resumed runs count from their restart)."""
    return sum(max(r.frames - r.start_frames, 0) for r in snap.runs)


class FrameRate:
    """The sweep's frames per second over the last ``window_s`` seconds of polls.

    The window starts no earlier than the last poll before the first trained frame, so the
    seconds spent starting workers and building envs do not make the first ETAs minutes long,
    and it slides so the rate follows the sweep (slots idle at the end, a slower method).
    """

    def __init__(self, window_s: float = 60.0):
        self.window_s = window_s
        self.samples: list[tuple[float, int]] = []

    def add(self, elapsed: float, trained: int) -> float | None:
        if self.samples and self.samples[-1][1] <= 0 and trained <= 0:
            self.samples = []  # nothing trained yet: start the window at the newest such poll
        self.samples.append((elapsed, trained))
        while len(self.samples) > 2 and self.samples[1][0] <= elapsed - self.window_s:
            self.samples.pop(0)
        (t0, f0), (t1, f1) = self.samples[0], self.samples[-1]
        return (f1 - f0) / (t1 - t0) if t1 > t0 and f1 > f0 else None


def estimate_eta(snap: SweepSnapshot, total: int | None, default_budget: int | None,
                 rate: float | None) -> float | None:
    """Seconds left: frames still to train over ``rate`` frames/s (None: unknown)."""
    if not rate or rate <= 0:
        return None
    left = 0
    for r in snap.having("running"):
        budget = r.budget if r.budget is not None else default_budget
        if budget is None:
            return None
        left += max(budget - r.frames, 0)
    waiting = 0 if total is None else max(total - len(snap.runs), 0)
    if waiting:
        if default_budget is None:
            return None
        left += waiting * default_budget
    return left / rate


def format_line(snap: SweepSnapshot, total: int | None, elapsed: float, eta: float | None,
                max_listed: int = 4, final: bool = False) -> str:
    """The progress line without the bar (the bar is tqdm's, on terminals only); ``final``:
    the sweep has ended, so the elapsed time is its total and there is no ETA."""
    finished, running, failed = snap.having("finished"), snap.having("running"), snap.having("failed")
    parts = [f"{len(finished)}/{total if total is not None else '?'} finished"]
    if running:
        if len(running) <= max_listed:
            frames = ", ".join(f"{fmt_frames(r.frames)}/{fmt_frames(r.budget)}" for r in running)
        else:
            known = [r.budget for r in running if r.budget is not None]
            frames = f"{fmt_frames(sum(r.frames for r in running))}/" + (
                fmt_frames(sum(known)) if len(known) == len(running) else "?")
        parts.append(f"{len(running)} running ({frames} frames)")
    else:
        parts.append("0 running")
    parts.append(f"{len(failed)} failed")
    if total is not None:
        parts.append(f"{max(total - len(snap.runs), 0)} waiting")
    if final:
        return ", ".join(parts) + f" | {fmt_seconds(elapsed)}, sweep ended"
    return ", ".join(parts) + f" | {fmt_seconds(elapsed)}, ETA {fmt_seconds(eta)}"


class SweepMonitor:
    """Polls a sweep folder from a daemon thread and shows the progress line on ``stream``."""

    def __init__(self, sweep_dir: Path, token: str, total: int | None, default_budget: int | None,
                 stream=None, interval_s: float = 2.0, plain_every_s: float = 30.0, clock=time.monotonic):
        self.scanner = SweepScanner(Path(sweep_dir), token)
        self.sweep_dir = Path(sweep_dir)
        self.total = total
        self.default_budget = default_budget
        self.stream = stream if stream is not None else sys.stdout
        self.interval_s = interval_s
        self.plain_every_s = plain_every_s
        self.clock = clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = clock()
        self._last_plain: float | None = None
        self.rate = FrameRate()
        self._named_failures: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.bar: tqdm | None = None
        self.last_line = ""

    def start(self) -> None:
        self.t0 = self.clock()
        self._thread = threading.Thread(target=self._loop, name="sweep-progress", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.update()
            except Exception:  # a display problem must never disturb the sweep
                pass

    def _write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def update(self, final: bool = False) -> str:
        """Scan once, name new failures, redraw (terminal) or maybe print (otherwise) the line."""
        with self._lock:
            snap = self.scanner.scan()
            elapsed = self.clock() - self.t0
            for r in snap.having("failed"):
                if r.name not in self._named_failures:
                    self._named_failures.add(r.name)
                    self._write(f"failed: {r.name}: {r.reason or 'no reason recorded'}")
            rate = self.rate.add(elapsed, frames_trained(snap))
            eta = None if final else estimate_eta(snap, self.total, self.default_budget, rate)
            line = format_line(snap, self.total, elapsed, eta, final=final)
            self.last_line = line
            if self.tty:
                # a line wider than the terminal would wrap and every redraw would add a line
                width = shutil.get_terminal_size(FALLBACK_TERMINAL).columns
                shown = line[:max(width - len(BAR_PREFIX) - BAR_WIDTH - 3, 20)]
                if self.bar is None:
                    self.bar = tqdm(total=self.total, file=self.stream, leave=True, desc=shown, ncols=width,
                                    bar_format=(f"{BAR_PREFIX} |{{bar:{BAR_WIDTH}}}| {{desc}}" if self.total
                                                else f"{BAR_PREFIX}: {{desc}}"))
                self.bar.ncols = width
                self.bar.n = len(snap.having("finished")) + len(snap.having("failed"))
                self.bar.set_description_str(shown, refresh=True)
            elif final or self._last_plain is None or elapsed - self._last_plain >= self.plain_every_s:
                self._last_plain = elapsed
                print(f"sweep: {line}", file=self.stream, flush=True)
            if final:
                failed = snap.having("failed")
                if self.bar is not None:
                    self.bar.close()
                    self.bar = None
                if failed:
                    print(f"{len(failed)} run(s) failed (their train.log under {self.sweep_dir} has the rest):",
                          file=self.stream)
                    for r in failed:
                        print(f"  {r.name}: {r.reason or 'no reason recorded'}", file=self.stream)
                self.stream.flush()
            return line

    def stop(self) -> None:
        """Stop polling and show the final line (idempotent: on_multirun_end and atexit)."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.update(final=True)
        except Exception as err:  # the sweep's own result matters more than its progress line
            print(f"sweep progress: could not read {self.sweep_dir}: {one_line(err)}", file=sys.stderr)


class SweepProgress(Callback):
    """Hydra callback: the sweep progress line (see the module docstring)."""

    def __init__(self, interval_s: float = 2.0, plain_every_s: float = 30.0):
        if interval_s <= 0 or plain_every_s < 0:
            raise ValueError(f"sweep_progress: interval_s={interval_s} must be > 0 and "
                             f"plain_every_s={plain_every_s} >= 0")
        self.interval_s = float(interval_s)
        self.plain_every_s = float(plain_every_s)
        self.token: str | None = None  # set in MULTIRUN mode; job hooks do nothing without it
        self._monitor: SweepMonitor | None = None

    def __getstate__(self) -> dict:
        # launchers pickle the callbacks to their workers: the token goes, the thread stays here
        state = dict(self.__dict__)
        state["_monitor"] = None
        return state

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.token = uuid.uuid4().hex
        try:
            sweep_dir = Path(str(config.hydra.sweep.dir))
            default_budget = budget_of(OmegaConf.select(config, "total_frames", default=None),
                                       OmegaConf.select(config, "agent.num_steps", default=None),
                                       OmegaConf.select(config, "env.num_envs", default=None))
        except Exception as err:
            print(f"sweep progress off: {one_line(err)}", file=sys.stderr)
            return
        self._monitor = SweepMonitor(sweep_dir, self.token, count_jobs(config), default_budget,
                                     interval_s=self.interval_s, plain_every_s=self.plain_every_s)
        self._monitor.start()
        atexit.register(self._monitor.stop)  # a failed job makes Hydra raise before on_multirun_end

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._monitor is not None:
            self._monitor.stop()

    @staticmethod
    def _job_dir(config: DictConfig) -> Path:
        return Path(str(config.hydra.runtime.output_dir))

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if self.token is not None:
            run_dir = self._job_dir(config)
            write_job_status(run_dir, self.token, "running", start_frames=frames_done(run_dir))

    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        if self.token is None:
            return
        from hydra.core.utils import JobStatus

        run_dir = self._job_dir(config)
        status = read_json(run_dir / STATUS_FILE) or {}
        start = status.get("start_frames") if status.get("token") == self.token else 0
        failed = job_return.status == JobStatus.FAILED
        # JobReturn.return_value re-raises a failed job's exception; the stored one is read instead
        write_job_status(run_dir, self.token, "failed" if failed else "completed", start_frames=start or 0,
                         reason=one_line(job_return._return_value) if failed else None)
