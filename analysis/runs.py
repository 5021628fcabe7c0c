"""Find run directories under a folder and load them, tolerating partial and broken ones.

A run directory (written by ``curiosity.trainer``) holds ``config.yaml`` (resolved config),
``metrics.csv`` (one row per iteration), ``summary.json`` (only once finished),
``run_info.json`` (provenance), ``visitation/visits_frames*.npy`` and maybe ``eval.csv``.
Nothing here raises on a bad directory: it is either loaded with notes (rows dropped,
unfinished) or returned as a :class:`Skipped` with the reason, and the report lists both.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

RUN_MARKERS = ("config.yaml", "metrics.csv", "summary.json", "run_info.json")
METRICS_FILE = "metrics.csv"
EVAL_FILE = "eval.csv"
VISITS_PATTERN = re.compile(r"visits_frames(\d+)\.npy$")
EPISODES_COLUMN = "charts/episodes"  # episodes finished in the iteration (logged by the trainer)
# per-episode averages over the episodes that finished in an iteration: subject to the warm-up rule
EPISODE_METRICS = ("charts/success", "charts/episode_return", "charts/episode_length",
                   "explore/cells_per_episode")


@dataclass
class Run:
    """One loaded run; ``notes`` records every repair made while loading it."""

    path: Path
    name: str  # path relative to the scanned root
    config: dict
    metrics: pd.DataFrame  # numeric, sorted by frames, eval/* columns merged in when present
    summary: dict | None
    run_info: dict | None
    visits: np.ndarray | None = None  # latest saved visitation counts, indexed [x, y]
    visits_frames: int | None = None
    notes: list[str] = field(default_factory=list)
    overrides: list[str] | None = None  # the job's command-line overrides (Hydra's .hydra/overrides.yaml)

    @property
    def rerun_command(self) -> str | None:
        """The training command that reproduces this run alone (from Hydra's recorded overrides)."""
        if self.overrides is None:
            return self.run_info.get("command") if self.run_info else None
        return " ".join(["python -m curiosity.train", *self.overrides])

    @property
    def env(self) -> str:
        return str(self.config["env"]["id"])

    @property
    def method(self) -> str:
        return str(self.config["method"]["name"])

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def total_frames(self) -> int:
        """Frames the run trains for: whole iterations only, so the configured total_frames
        rounded down to a multiple of num_steps * num_envs (what the trainer does)."""
        configured = int(self.config["total_frames"])
        try:
            batch = int(self.config["agent"]["num_steps"]) * int(self.config["env"]["num_envs"])
        except (KeyError, TypeError, ValueError):
            return configured
        return configured // batch * batch if batch > 0 else configured

    @property
    def frames_reached(self) -> int:
        return int(self.metrics["frames"].iloc[-1])

    @property
    def finished(self) -> bool:
        return bool(self.summary) and self.summary.get("status") == "finished"

    @property
    def num_envs(self) -> int | None:
        try:
            return int(self.config["env"]["num_envs"])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def warmup(self) -> pd.Series:
        """Per metrics row: True while the run is in its episode warm-up (see :func:`episode_warmup`)."""
        if EPISODES_COLUMN not in self.metrics or self.num_envs is None:
            return pd.Series(False, index=self.metrics.index)
        return episode_warmup(self.metrics[EPISODES_COLUMN], self.num_envs)

    @property
    def wall_time_s(self) -> float | None:
        if self.summary and "wall_time_s" in self.summary:
            return float(self.summary["wall_time_s"])
        if "time/elapsed" in self.metrics:
            last = self.metrics["time/elapsed"].dropna()
            return float(last.iloc[-1]) if len(last) else None
        return None


def episode_warmup(episodes: pd.Series, num_envs: int) -> pd.Series:
    """The warm-up rule for per-episode metrics: True for the rows (iterations) to leave out.

    An iteration's success rate, return, length are averages over the episodes that *finished*
    in it. Early on that sample is selected: all envs start together, so the first episodes to
    end are the short ones, and a failure only ends at the time limit; the first iterations'
    success reads near 1 even for random actions. An iteration counts only once the episodes
    finished in the iterations *before* it reach ``num_envs`` (each env has, on average, ended
    its first, selection-biased episode). No minimum is put on the iteration's own count beyond
    one episode (an iteration with none has no value anyway): iterations with few finished
    episodes are those where episodes are long, i.e. failing, and dropping them would select
    again. What remains of the bias is handled by episode-weighted smoothing
    (:func:`analysis.scores.smoothed`). Rows with a missing count count as zero episodes.
    """
    if num_envs < 1:
        raise ValueError(f"num_envs={num_envs}: must be >= 1")
    finished_before = episodes.fillna(0).cumsum().shift(1, fill_value=0)
    return finished_before < num_envs


@dataclass
class Skipped:
    """A directory that looked like a run but could not be used."""

    path: Path
    name: str
    reason: str


def _walk(root: Path):
    """(folder, its file names) for ``root`` and every folder under it, hidden folders
    (``.hydra``, ``.git``) and wandb's own left out. Symlinked folders are followed (a folder
    of links to the runs to compare is a comparison), each real folder once, so a link cycle
    ends."""
    seen = set()
    for here, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:  # a link back up the tree, or a second link to the same folder
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "wandb")
        yield Path(here), files


def find_run_dirs(root: Path) -> list[Path]:
    """Every directory under ``root`` (or root itself) holding one of the run files."""
    return sorted(here for here, files in _walk(Path(root))
                  if any(marker in files for marker in RUN_MARKERS))


def _read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError("not a mapping")
    return data


def _read_json(path: Path) -> dict:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def read_csv_tolerant(path: Path, notes: list[str], label: str) -> pd.DataFrame | None:
    """Parse a CSV written row by row, dropping rows a crash or a kill left half-written.

    A row with the wrong number of fields, a last line without its newline, or a row whose
    ``iteration``/``frames`` is not a number is dropped (and noted). Other non-numeric cells
    become NaN. Returns None when nothing usable is left.
    """
    text = path.read_text(errors="replace")
    if not text.strip():
        notes.append(f"{label} is empty")
        return None
    lines = text.splitlines(keepends=True)
    dropped = 0
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines, dropped = lines[:-1], 1  # the writer was cut off mid-row
    rows = list(csv.reader(io.StringIO("".join(lines))))
    if not rows:
        notes.append(f"{label} has no complete header")
        return None
    header, body = rows[0], rows[1:]
    good = [r for r in body if len(r) == len(header)]
    dropped += len(body) - len(good)
    df = pd.DataFrame(good, columns=header)
    for col in df.columns:
        if col != "policy":
            df[col] = pd.to_numeric(df[col].where(df[col] != ""), errors="coerce")  # empty cell: NaN
    if "frames" not in df.columns or "iteration" not in df.columns:
        notes.append(f"{label} lacks the iteration/frames columns")
        return None
    bad = df["frames"].isna() | df["iteration"].isna()
    dropped += int(bad.sum())
    df = df[~bad]
    if df.duplicated("frames").any():
        dropped += int(df.duplicated("frames", keep="last").sum())
        df = df.drop_duplicates("frames", keep="last")
    df = df.sort_values("frames").reset_index(drop=True)
    if dropped:
        notes.append(f"{label}: dropped {dropped} malformed or half-written row(s)")
    if df.empty:
        notes.append(f"{label} has no complete rows")
        return None
    return df


def _latest_visits(run_dir: Path, notes: list[str]) -> tuple[np.ndarray | None, int | None]:
    files = []
    for f in (run_dir / "visitation").glob("visits_frames*.npy"):
        m = VISITS_PATTERN.search(f.name)
        if m:
            files.append((int(m.group(1)), f))
    for frames, f in sorted(files, reverse=True):
        try:
            counts = np.load(f, allow_pickle=False)
        except (OSError, ValueError) as err:
            notes.append(f"visitation/{f.name} unreadable ({type(err).__name__}); using an earlier map")
            continue
        if counts.ndim == 2:
            return counts, frames
        notes.append(f"visitation/{f.name} is not a 2-D count map")
    return None, None


def _one_line(err: Exception, limit: int = 120) -> str:
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_run(run_dir: Path, root: Path) -> Run | Skipped:
    """Load one run directory, or say why it cannot be used."""
    run_dir, root = Path(run_dir), Path(root)
    name = str(run_dir.relative_to(root)) if run_dir != root else run_dir.name
    notes: list[str] = []

    cfg_path = run_dir / "config.yaml"
    if not cfg_path.exists():
        return Skipped(run_dir, name, "no config.yaml (crashed before the run started)")
    try:
        config = _read_yaml(cfg_path)
        _ = (str(config["env"]["id"]), str(config["method"]["name"]), int(config["seed"]),
             int(config["total_frames"]))
    except Exception as err:  # any parse or shape problem makes the config unusable
        return Skipped(run_dir, name, f"config.yaml unreadable or incomplete ({_one_line(err)})")

    metrics_path = run_dir / METRICS_FILE
    if not metrics_path.exists():
        return Skipped(run_dir, name, "no metrics.csv (no iteration finished)")
    try:
        metrics = read_csv_tolerant(metrics_path, notes, METRICS_FILE)
    except Exception as err:  # undecodable or garbled beyond row repair
        return Skipped(run_dir, name, f"metrics.csv unreadable ({_one_line(err)})")
    if metrics is None:
        return Skipped(run_dir, name, "; ".join(notes) or "metrics.csv unusable")

    if EPISODES_COLUMN not in metrics.columns and any(m in metrics.columns for m in EPISODE_METRICS):
        notes.append(f"no {EPISODES_COLUMN} column: episode warm-up rule not applied to its curves")
    eval_path = run_dir / EVAL_FILE
    if eval_path.exists():
        try:
            evals = read_csv_tolerant(eval_path, notes, EVAL_FILE)
        except Exception as err:
            evals = None
            notes.append(f"eval.csv unreadable ({type(err).__name__})")
        if evals is not None:
            cols = ["frames", *[c for c in evals.columns if c.startswith("eval/")]]
            metrics = metrics.merge(evals[cols], on="frames", how="left")

    summary = run_info = None
    for fname in ("summary.json", "run_info.json"):
        path = run_dir / fname
        if not path.exists():
            continue
        try:
            data = _read_json(path)
        except Exception as err:
            notes.append(f"{fname} unreadable ({type(err).__name__})")
            continue
        if fname == "summary.json":
            summary = data
        else:
            run_info = data
    if summary is None:
        notes.append("unfinished (no summary.json): still running, killed or crashed")
    elif int(summary.get("frames", -1)) > int(metrics["frames"].iloc[-1]):
        notes.append(f"summary.json says {summary.get('frames')} frames but metrics.csv stops at "
                     f"{int(metrics['frames'].iloc[-1])}")

    overrides = None
    if (run_dir / ".hydra" / "overrides.yaml").exists():
        try:
            overrides = [str(o) for o in yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) or []]
        except Exception as err:
            notes.append(f".hydra/overrides.yaml unreadable ({type(err).__name__})")
    visits, visits_frames = _latest_visits(run_dir, notes)
    return Run(run_dir, name, config, metrics, summary, run_info, visits, visits_frames, notes, overrides)


def find_sweeps(root: Path) -> list[dict]:
    """Hydra multirun records (``multirun.yaml``) under ``root``: swept params, overrides, launcher."""
    sweeps = []
    for path in sorted(here / "multirun.yaml" for here, files in _walk(Path(root))
                       if "multirun.yaml" in files):
        try:
            hydra = _read_yaml(path).get("hydra", {})
        except Exception:  # a sweep record is optional; a broken one is just left out
            continue
        sweeps.append({"path": str(path.parent.relative_to(root)) if path.parent != Path(root) else ".",
                       "params": (hydra.get("sweeper") or {}).get("params") or {},
                       "overrides": (hydra.get("overrides") or {}).get("task") or [],
                       "launcher": str((hydra.get("launcher") or {}).get("_target_", "")).split(".")[-1],
                       "n_jobs": (hydra.get("launcher") or {}).get("n_jobs")})
    return sweeps


def load_runs(root: Path) -> tuple[list[Run], list[Skipped]]:
    """Every run under ``root``: the loaded ones and the skipped ones (with reasons)."""
    runs, skipped = [], []
    for run_dir in find_run_dirs(root):
        result = load_run(run_dir, root)
        (runs if isinstance(result, Run) else skipped).append(result)
    return runs, skipped


# ---------------------------------------------------------------------- labelling
IGNORED_KEYS = ("seed", "experiment", "sweep_id", "resume", "device", "deterministic", "total_frames")
# method.tune.*: the tuning record (space, trial id, chosen point, scores); the values a trial
# ran with are in the method's own keys, which label the variants
IGNORED_PREFIXES = ("logger.", "hydra.", "eval.", "method.tune.")
VIEW_KEY = "view"  # the derived predictor-view column of the report's config table


def predictor_view(config: dict) -> str:
    """What the run's intrinsic method saw: ``egocentric 7x7``, ``window kxk`` or ``whole grid``
    (from ``method.predictor_full_obs``/``predictor_crop``; ``env.full_obs`` gives the policy,
    and so a method without predictor_full_obs, the whole grid; ``-`` without a module)."""
    method, env = config.get("method") or {}, config.get("env") or {}
    module = method.get("module")
    if module is None:
        return "-"
    crop = int(method.get("predictor_full_obs") and method.get("predictor_crop") or 0)
    if method.get("predictor_full_obs"):
        view = f"window {crop}x{crop}" if crop else "whole grid"
    else:
        view = "whole grid" if env.get("full_obs") else "egocentric 7x7"
    return view + privileged_inputs(module, method.get("count_key", "own"))


PRIVILEGED_COUNT_KEYS = {"pose": "pose", "state": "exact state"}  # count keys the policy never observes


def privileged_inputs(module: dict, count_key: str = "own") -> str:
    """`` + count on exact state (privileged)`` where the module counts a privileged key
    (``baselines.count``: ``key`` of count, ``count_key`` of ride and noveld, or the run's
    ``method.count_key`` over them), else ``""``."""
    from curiosity.intrinsic.build import count_kwargs

    keys = [module.get(kwarg) for kwarg in ("key", "count_key")]
    if count_key not in (None, "own") and count_kwargs(module):
        keys = [count_key]  # the view preset's key replaced the module's own
    for key in keys:
        what = PRIVILEGED_COUNT_KEYS.get(str(key))
        if what:
            return f" + count on {what} (privileged)"
    return ""


def flatten(config: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists become tuples so values are hashable."""
    out = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def _ignored(key: str) -> bool:
    return key in IGNORED_KEYS or key.startswith(IGNORED_PREFIXES)


def _fmt_value(v) -> str:
    return "null" if v is None else str(v)


@dataclass
class Labels:
    """How runs group: task (env + varying env.* keys) and variant (method + ablations)."""

    task: dict[str, str]  # run name -> task label
    variant: dict[str, str]  # run name -> variant label
    task_keys: list[str]  # env.* keys that differ between runs
    ablation_keys: list[str]  # non-env keys that differ within one (task, method)
    method_keys: dict[str, dict]  # keys that differ only between methods: key -> {method: value}
    ablation_values: dict[str, dict]  # run name -> {ablation key: value}


def label_runs(runs: list[Run]) -> Labels:
    """Name each run's task and variant from the config keys that actually vary."""
    flat = {r.name: flatten(r.config) for r in runs}
    keys = sorted({k for f in flat.values() for k in f if not _ignored(k)})
    varying = [k for k in keys if len({repr(f.get(k)) for f in flat.values()}) > 1]
    task_keys = [k for k in varying if k.startswith("env.") and k != "env.id"]

    def task_of(r: Run) -> str:
        extra = [f"{k[4:]}={_fmt_value(flat[r.name].get(k))}" for k in task_keys]
        return r.env.removeprefix("MiniGrid-") + (f" [{', '.join(extra)}]" if extra else "")

    task = {r.name: task_of(r) for r in runs}
    groups: dict[tuple, list[Run]] = {}
    for r in runs:
        groups.setdefault((task[r.name], r.method), []).append(r)
    other = [k for k in varying if not k.startswith("env.") and k != "method.name"]
    ablation_keys = [k for k in other
                     if any(len({repr(flat[r.name].get(k)) for r in g}) > 1 for g in groups.values())]
    method_keys = {}
    for k in other:
        if k in ablation_keys:
            continue
        per_method = {}
        for r in runs:
            per_method.setdefault(r.method, flat[r.name].get(k))
        method_keys[k] = per_method

    variant, ablation_values = {}, {}
    for r in runs:
        vals = {k: flat[r.name].get(k) for k in ablation_keys}
        ablation_values[r.name] = vals
        # only name the keys that vary inside this run's own (task, method) group
        own = [k for k in ablation_keys
               if len({repr(flat[o.name].get(k)) for o in groups[(task[r.name], r.method)]}) > 1]
        tag = ", ".join(f"{k.split('.')[-1]}={_fmt_value(vals[k])}" for k in own)
        variant[r.name] = f"{r.method} ({tag})" if tag else r.method
    return Labels(task, variant, task_keys, ablation_keys, method_keys, ablation_values)


# ---------------------------------------------------------------------- tidy table
TIDY_PREFIXES = ("charts/", "explore/", "reward/", "tv/", "eval/", "intrinsic/")


def tidy_table(runs: list[Run], labels: Labels, prefixes: tuple[str, ...] = TIDY_PREFIXES) -> pd.DataFrame:
    """One row per (run, iteration, metric): run, task, env, method, variant, ablations, seed, frames,
    metric, value, warmup (True on per-episode metrics of the iterations :func:`episode_warmup`
    leaves out of curves and scores; kept here so the raw data stays complete)."""
    parts = []
    for r in runs:
        cols = [c for c in r.metrics.columns if c.startswith(prefixes)]
        long = r.metrics[["iteration", "frames", *cols]].melt(
            id_vars=["iteration", "frames"], var_name="metric", value_name="value").dropna(subset=["value"])
        warm_iterations = set(r.metrics.loc[r.warmup, "iteration"])
        long["warmup"] = long["metric"].isin(EPISODE_METRICS) & long["iteration"].isin(warm_iterations)
        long.insert(0, "run", r.name)
        long.insert(1, "task", labels.task[r.name])
        long.insert(2, "env", r.env)
        long.insert(3, "method", r.method)
        long.insert(4, "variant", labels.variant[r.name])
        for i, (k, v) in enumerate(labels.ablation_values[r.name].items()):
            long.insert(5 + i, k, _fmt_value(v))
        long.insert(5 + len(labels.ablation_keys), "seed", r.seed)
        parts.append(long)
    if not parts:
        return pd.DataFrame(columns=["run", "task", "env", "method", "variant", "seed", "iteration",
                                     "frames", "metric", "value", "warmup"])
    return pd.concat(parts, ignore_index=True)
