"""Statistics tables built from the per-run score table (one row per run, one column per score)."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd

from analysis import stats
from analysis.scores import SUCCESS_METRICS, ScoreSpec

ALL_TASKS = "all tasks (normalized)"
RANDOM_METHOD = "random"


def spec_values(scores: pd.DataFrame, spec: ScoreSpec) -> pd.Series:
    """The spec's column for statistics: frames-to-threshold never reached counts as the budget
    (a censored value: the true number is larger), so seeds that failed still weigh in."""
    values = scores[spec.label].astype(float)
    if spec.kind == "frames_to":
        values = values.where(~np.isinf(values), scores["budget"].astype(float))
    return values


def scored(scores: pd.DataFrame) -> pd.DataFrame:
    """Runs that reached their task's budget (the only ones with comparable scores)."""
    return scores[scores["reached_budget"]]


def normalized_values(scores: pd.DataFrame, spec: ScoreSpec) -> pd.Series:
    """Scores on a common 0..1 scale per task, for aggregates over several tasks:
    success rates as they are; frames-to-threshold as a fraction of the budget;
    anything else (score - random-agent mean) / (best run - random-agent mean), the random
    agent replaced by the worst run on tasks without one."""
    values = spec_values(scores, spec)
    if spec.kind == "frames_to":
        return values / scores["budget"].astype(float)
    if spec.metric in SUCCESS_METRICS:
        return values
    out = pd.Series(np.nan, index=scores.index)
    for _, idx in scores.groupby("task").groups.items():
        task_vals = values.loc[idx]
        rand = task_vals[scores.loc[idx, "method"] == RANDOM_METHOD].dropna()
        low = float(rand.mean()) if len(rand) else float(task_vals.min())
        out.loc[idx] = stats.normalize(task_vals.to_numpy(), low, float(task_vals.max()))
    return out


def summary_table(scores: pd.DataFrame, spec: ScoreSpec) -> pd.DataFrame:
    """Per (task, variant): n, mean, median, IQM with 95% CIs, std, worst seed, CV, fraction solved;
    then per variant over all tasks on normalized scores (stratified over tasks)."""
    s = scored(scores)
    values = spec_values(s, spec)
    rows = []
    for (task, variant), g in s.groupby(["task", "variant"], sort=True):
        x = values.loc[g.index].to_numpy()
        row = {"task": task, "variant": variant, **stats.summarize(x, g["solved"].tolist())}
        if not spec.higher_is_better:  # worst seed of a frames-to score is the largest
            row["worst"], row["best"] = row.get("best"), row.get("worst")
        for name, agg in stats.AGGREGATES.items():
            row[f"{name}_low"], row[f"{name}_high"] = stats.bootstrap_ci([x], agg)
        rows.append(row)
    if s["task"].nunique() > 1:
        norm = normalized_values(s, spec)
        for variant, g in s.groupby("variant", sort=True):
            per_task = [norm.loc[t.index].to_numpy() for _, t in g.groupby("task")]
            x = np.concatenate(per_task)
            row = {"task": ALL_TASKS, "variant": variant, **stats.summarize(x, g["solved"].tolist())}
            for name, agg in stats.AGGREGATES.items():
                row[f"{name}_low"], row[f"{name}_high"] = stats.bootstrap_ci(per_task, agg)
            rows.append(row)
    return pd.DataFrame(rows)


def estimates_long(summary: pd.DataFrame) -> pd.DataFrame:
    """(task, variant, aggregate, value, low, high) rows for the interval plot."""
    rows = []
    for _, r in summary.iterrows():
        for name in ("median", "IQM", "mean"):
            rows.append({"task": r["task"], "variant": r["variant"], "aggregate": name,
                         "value": r.get(name, np.nan), "low": r.get(f"{name}_low", np.nan),
                         "high": r.get(f"{name}_high", np.nan)})
    return pd.DataFrame(rows)


def _per_task(s: pd.DataFrame, values: pd.Series, variant: str) -> dict[str, np.ndarray]:
    g = s[s["variant"] == variant]
    return {task: values.loc[t.index].to_numpy() for task, t in g.groupby("task")}


def poi_tables(scores: pd.DataFrame, spec: ScoreSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(X better than Y) for every ordered pair, averaged over the tasks both ran:
    the matrix (rows X, columns Y) and a long table with the 95% CI and the Mann-Whitney p-value."""
    s = scored(scores)
    values = spec_values(s, spec)
    if not spec.higher_is_better:
        values = -values  # fewer frames is better
    variants = sorted(s["variant"].unique())
    matrix = pd.DataFrame(np.nan, index=variants, columns=variants)
    pairs = []
    for x, y in permutations(variants, 2):
        px, py = _per_task(s, values, x), _per_task(s, values, y)
        tasks = sorted(set(px) & set(py))
        if not tasks:
            continue
        xs, ys = [px[t] for t in tasks], [py[t] for t in tasks]
        p = stats.probability_of_improvement_tasks(xs, ys)
        low, high = stats.probability_of_improvement_ci(xs, ys)
        matrix.loc[x, y] = p
        pval = stats.mann_whitney_p(xs[0], ys[0]) if len(tasks) == 1 else np.nan
        pairs.append({"X": x, "Y": y, "tasks": len(tasks), "P(X>Y)": p, "low": low, "high": high,
                      "mann_whitney_p (1 task)": pval})
    return matrix, pd.DataFrame(pairs)


def brittleness_table(scores: pd.DataFrame, final: ScoreSpec, reach: ScoreSpec) -> pd.DataFrame:
    """Per (task, variant): spread of the final score and of frames-to-threshold across seeds,
    and the seeds that failed (final success below the solve threshold / threshold never reached)."""
    s = scored(scores)
    rows = []
    for (task, variant), g in s.groupby(["task", "variant"], sort=True):
        x = g[final.label].astype(float).to_numpy()
        x = x[np.isfinite(x)]
        t = g[reach.label].astype(float).to_numpy()
        reached = t[np.isfinite(t)]
        q1, q3 = (np.percentile(x, [25, 75]) if len(x) else (np.nan, np.nan))
        std = float(np.std(x, ddof=1)) if len(x) > 1 else np.nan
        mean = float(np.mean(x)) if len(x) else np.nan
        t_std = float(np.std(reached, ddof=1)) if len(reached) > 1 else np.nan
        t_mean = float(np.mean(reached)) if len(reached) else np.nan
        rows.append({
            "task": task, "variant": variant, "seeds": len(g),
            "final_mean": mean, "final_std": std, "final_cv": std / abs(mean) if mean else np.nan,
            "final_min": float(np.min(x)) if len(x) else np.nan, "final_max": float(np.max(x)) if len(x) else np.nan,
            "final_iqr": q3 - q1,
            "reached": f"{len(reached)}/{len(g)}",
            "frames_to_median": float(np.median(reached)) if len(reached) else np.nan,
            "frames_to_min": float(np.min(reached)) if len(reached) else np.nan,
            "frames_to_max": float(np.max(reached)) if len(reached) else np.nan,
            "frames_to_cv": t_std / t_mean if t_mean else np.nan,
            # a seed without a final success score (e.g. all inside the warm-up) did not fail: it is unscored
            "failed_seeds": " ".join(str(v) for v in g.loc[g["solved"] == False, "seed"]) or "-",  # noqa: E712
            "never_reached_seeds": " ".join(str(v) for v in g.loc[np.isinf(g[reach.label].astype(float)), "seed"])
            or "-",
        })
    return pd.DataFrame(rows)


def profiles(scores: pd.DataFrame, spec: ScoreSpec, n_taus: int = 101) -> tuple[dict, np.ndarray, str]:
    """Performance profiles on normalized scores (variant -> (point, low, high)), taus, x label."""
    s = scored(scores)
    norm = normalized_values(s, spec)
    if not spec.higher_is_better:
        norm = 1.0 - norm  # fraction of the budget left when the threshold was reached
    finite = norm[np.isfinite(norm)]
    if finite.empty:
        return {}, np.array([]), ""
    lo, hi = min(0.0, float(finite.min())), max(1.0, float(finite.max()))
    taus = np.linspace(lo, hi, n_taus)
    out = {}
    for variant in sorted(s["variant"].unique()):
        per_task = list(_per_task(s, norm, variant).values())
        point = stats.performance_profile(per_task, taus)
        low, high = stats.performance_profile_ci(per_task, taus)
        out[variant] = (point, low, high)
    if spec.kind == "frames_to":
        xlabel = r"fraction of the budget left when the threshold was reached ($\tau$)"
    elif spec.metric in SUCCESS_METRICS:
        xlabel = rf"{spec.label} ($\tau$)"
    else:
        xlabel = rf"normalized {spec.label} ($\tau$; 0 = random agent or worst run, 1 = best run)"
    return out, taus, xlabel
