"""Per-run scores read off a learning curve: final value, area under the curve, frames to a threshold.

Every score is taken at a common frame *budget* per task, so runs of different lengths are
compared at the same point: longer runs are cut at the budget, runs that stop short of it
(unfinished or configured shorter) get no score and are listed by the report.

Per-episode metrics (success, return, length, cells per episode) follow the warm-up rule of
:func:`analysis.runs.episode_warmup`: the first iterations, whose finished episodes are a
selection of the short ones, are left out of curves and of every curve-derived score, and
smoothing weights each iteration by the episodes it finished.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.runs import EPISODE_METRICS, EPISODES_COLUMN, Labels, Run

FINAL_WINDOW = 0.1  # final score: mean over the last 10% of the budget's frames
SMOOTH_ROWS = 5  # frames-to-threshold: rolling mean over this many logged iterations
# counters that only grow (the last value is the score) and sparse columns (logged rarely)
CUMULATIVE = ("explore/distinct_states_total",)
SPARSE_PREFIX = "eval/"
SUCCESS_METRICS = ("charts/success", "eval/success")


@dataclass(frozen=True)
class ScoreSpec:
    """One scalar per run: ``kind`` in {final, auc, frames_to} of ``metric``."""

    metric: str
    kind: str = "final"
    threshold: float | None = None  # for frames_to

    @property
    def label(self) -> str:
        if self.kind == "final":
            return f"final {self.metric}"
        if self.kind == "auc":
            return f"AUC {self.metric}"
        return f"frames to {self.metric} >= {self.threshold:g}"

    @property
    def slug(self) -> str:
        base = self.metric.replace("/", "_")
        return f"{self.kind}_{base}" + (f"_{self.threshold:g}" if self.kind == "frames_to" else "")

    @property
    def higher_is_better(self) -> bool:
        return self.kind != "frames_to"


def curve(run: Run, metric: str, budget: int | None = None) -> pd.DataFrame:
    """(frames, value, weight) rows of ``metric`` with a value, cut at ``budget``.

    For per-episode metrics the warm-up iterations are dropped and ``weight`` is the number of
    episodes the iteration finished; otherwise (and for runs that did not log the count) 1.
    """
    if metric not in run.metrics:
        return pd.DataFrame({"frames": [], "value": [], "weight": []})
    df = run.metrics[["frames", metric]].rename(columns={metric: "value"})
    df["weight"] = 1.0
    if metric in EPISODE_METRICS and EPISODES_COLUMN in run.metrics:
        df = df[~run.warmup]
        df["weight"] = run.metrics.loc[df.index, EPISODES_COLUMN].astype(float)
    df = df.dropna(subset=["frames", "value"])
    df = df[df["weight"] > 0]
    if budget is not None:
        df = df[df["frames"] <= budget]
    return df.reset_index(drop=True)


def smoothed(c: pd.DataFrame, smooth: int = SMOOTH_ROWS, full_window: bool = True) -> pd.Series:
    """Weighted rolling mean of a :func:`curve` over ``smooth`` rows: sum(value * weight) /
    sum(weight), so an iteration that finished one episode counts for one episode, not for as
    much as one that finished sixteen. ``full_window``: NaN until ``smooth`` rows are in the
    window (all rows when the curve is shorter), so no point rests on a single early row."""
    if smooth < 1:
        raise ValueError(f"smooth={smooth}: must be >= 1")
    min_periods = min(smooth, len(c)) if full_window else 1
    weighted = (c["value"] * c["weight"]).rolling(smooth, min_periods=min_periods).sum()
    return weighted / c["weight"].rolling(smooth, min_periods=min_periods).sum()


def final_score(run: Run, metric: str, budget: int, window: float = FINAL_WINDOW) -> float:
    """Mean over the last ``window`` of the budget (last value for counters and eval columns);
    per-episode metrics weight each iteration by the episodes it finished."""
    if run.frames_reached < budget:
        return float("nan")
    c = curve(run, metric, budget)
    if c.empty:
        return float("nan")
    if metric in CUMULATIVE or metric.startswith(SPARSE_PREFIX):
        return float(c["value"].iloc[-1])
    tail = c[c["frames"] > budget * (1.0 - window)]
    if tail.empty:
        return float("nan")
    return float(np.average(tail["value"], weights=tail["weight"]))  # episode-weighted where logged


def auc_score(run: Run, metric: str, budget: int) -> float:
    """Time-average of the curve over [first kept frame, budget] (trapezoid), in metric units.

    Per-episode metrics: the area under the curve the figures draw (warm-up dropped, episode-
    weighted rolling mean from the first full window), so an iteration whose one finished episode
    was a success does not lift the area as much as one where sixteen failed."""
    if run.frames_reached < budget:
        return float("nan")
    c = curve(run, metric, budget)
    if metric in EPISODE_METRICS:  # the area under the drawn curve: weighted, from the first full window
        c = c.assign(value=smoothed(c)).dropna(subset=["value"]).reset_index(drop=True)
    if len(c) < 2:
        return float(c["value"].iloc[0]) if len(c) else float("nan")
    x, y = c["frames"].to_numpy(float), c["value"].to_numpy(float)
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def frames_to_threshold(run: Run, metric: str, threshold: float, budget: int,
                        smooth: int = SMOOTH_ROWS) -> float:
    """First frame at which the rolling mean of ``metric`` over ``smooth`` rows reaches ``threshold``; inf if never.

    NaN when the run stopped before the budget without reaching it (it might still have), and
    when the curve holds no point to judge (the metric has no value up to the budget, or every
    iteration of a per-episode metric is in the warm-up): see :func:`no_score_reason`.
    """
    c = curve(run, metric, budget)
    if c.empty:  # nothing to judge (not logged, or every iteration in the warm-up): no score, not "never"
        return float("nan")
    # a full, episode-weighted window after the warm-up: a single early row whose few finished
    # episodes were the short successful ones must not count as reaching it
    hit = np.flatnonzero(smoothed(c, smooth).to_numpy() >= threshold)
    if len(hit):
        return float(c["frames"].iloc[hit[0]])
    return float("inf") if run.frames_reached >= budget else float("nan")


def score(run: Run, spec: ScoreSpec, budget: int) -> float:
    if spec.kind == "final":
        return final_score(run, spec.metric, budget)
    if spec.kind == "auc":
        return auc_score(run, spec.metric, budget)
    if spec.kind == "frames_to":
        return frames_to_threshold(run, spec.metric, spec.threshold, budget)
    raise ValueError(f"score kind={spec.kind!r}: must be final, auc or frames_to")


def no_score_reason(run: Run, spec: ScoreSpec, budget: int) -> str | None:
    """Why ``score(run, spec, budget)`` is NaN, in words for the report; None when there is a score
    (a frames-to-threshold that was never reached is a score: the budget, censored). The words do
    not name the metric, so one reason covers every score of a run it explains."""
    value = score(run, spec, budget)
    if not np.isnan(value):
        return None
    if run.frames_reached < budget:
        return f"{run.frames_reached:,} frames, short of the budget of {budget:,}"
    metric = spec.metric
    rows = run.metrics[run.metrics["frames"] <= budget]
    n_iter = len(rows)
    if not n_iter:
        return f"no iteration within the budget of {budget:,} frames"
    # what the score could read: the frames up to the budget (a longer run is cut there)
    frames = f"{int(rows['frames'].iloc[-1]):,} frames ({n_iter} iteration{'s' if n_iter != 1 else ''})"
    if metric in EPISODE_METRICS and EPISODES_COLUMN in rows and run.num_envs is not None:
        if run.warmup.loc[rows.index].all():
            episodes = float(rows[EPISODES_COLUMN].fillna(0).sum())
            return (f"{frames}, all inside the episode warm-up (an iteration counts only once {run.num_envs} "
                    f"episodes, one per env, have finished before it; {episodes:,.0f} finished in the whole run)")
        if metric in rows and curve(run, metric, budget).empty:
            return f"{frames}, no iteration after the episode warm-up finished an episode"
    if metric not in rows or rows[metric].isna().all():
        return f"{frames}, none with a value of the metric (not logged, or no episode finished)"
    if spec.kind == "final":
        return f"{frames}, no value of the metric in the last {FINAL_WINDOW:.0%} of the budget"
    return f"{frames}, too few values of the metric to score"


def task_budgets(runs: list[Run], labels: Labels) -> dict[str, int]:
    """Per task, the frame budget runs are compared at: the most common configured total_frames
    (ties: the largest), so a few short or extra-long runs do not move it."""
    budgets = {}
    for task in sorted(set(labels.task.values())):
        totals = pd.Series([r.total_frames for r in runs if labels.task[r.name] == task])
        counts = totals.value_counts()
        budgets[task] = int(max(counts[counts == counts.max()].index))
    return budgets


def score_table(runs: list[Run], labels: Labels, specs: list[ScoreSpec], budgets: dict[str, int],
                solve_threshold: float) -> pd.DataFrame:
    """One row per run: identity, budget, whether it reached the budget, solved, and every score."""
    rows = []
    for r in runs:
        task = labels.task[r.name]
        budget = budgets[task]
        success = final_score(r, "charts/success", budget)
        row = {"run": r.name, "task": task, "env": r.env, "method": r.method,
               "variant": labels.variant[r.name], "seed": r.seed, "budget": budget,
               "frames_reached": r.frames_reached, "finished": r.finished,
               "reached_budget": r.frames_reached >= budget,
               "solved": bool(success >= solve_threshold) if np.isfinite(success) else None}
        for spec in specs:
            row[spec.label] = score(r, spec, budget)
        rows.append(row)
    return pd.DataFrame(rows)
