"""The report's figures. Each function draws one figure kind into a PNG and returns its path
(or None when the runs hold nothing to draw). Colours are fixed per variant across figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from analysis import stats  # noqa: E402
from analysis.runs import EPISODE_METRICS, Labels, Run  # noqa: E402
from analysis.scores import CUMULATIVE, SMOOTH_ROWS, ScoreSpec, curve, smoothed  # noqa: E402

DPI = 120
CURVE_POINTS = 100  # learning curves are resampled onto this many frames per task
METRIC_LABELS = {
    "charts/success": "success rate (fraction of episodes)",
    "charts/episode_return": "episode return",
    "charts/episode_length": "episode length (steps)",
    "explore/cells_per_episode": "distinct cells per episode",
    "explore/distinct_states_total": "distinct (x, y, dir) states, cumulative",
    "reward/int_raw_mean": "raw intrinsic reward per step",
    "reward/int_norm_mean": "normalized intrinsic reward per step",
    "eval/success": "held-out success rate",
    "eval/episode_return": "held-out episode return",
    "tv/action_frac": "fraction of steps using the TV remote",
    "tv/in_view_frac": "fraction of steps with the TV in view",
    "tv/int_reward_share": "share of intrinsic reward earned on TV steps",
}
TV_METRICS = ("tv/action_frac", "tv/in_view_frac", "tv/int_reward_share")


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def score_label(spec: ScoreSpec) -> str:
    if spec.kind == "frames_to":
        return f"frames until {spec.metric} >= {spec.threshold:g}"
    return f"{'final' if spec.kind == 'final' else 'time-averaged'} {metric_label(spec.metric)}"


def variant_colors(variants) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    return {v: cmap(i % 10) for i, v in enumerate(sorted(set(variants)))}


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _frames_axis(ax):
    ax.set_xlabel("environment frames (all parallel envs)")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))


def _grid(n_tasks: int, width: float = 5.0, height: float = 3.6, max_cols: int = 3):
    cols = min(n_tasks, max_cols)
    rows = int(np.ceil(n_tasks / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n_tasks:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def seed_curves(runs: list[Run], metric: str, budget: int, smooth: int = SMOOTH_ROWS):
    """(frames grid, (seeds, points) array, seeds): each run's rolling-mean curve interpolated on a
    common grid up to ``budget``; NaN past the point a run reached (unfinished runs). Per-episode
    metrics: warm-up dropped, episode-weighted, drawn from the first full window on
    (:func:`analysis.scores.smoothed`)."""
    grid = np.linspace(0, budget, CURVE_POINTS + 1)[1:]
    if metric in CUMULATIVE:
        smooth = 1  # a running count needs no smoothing
    rows, seeds = [], []
    for r in runs:
        c = curve(r, metric, budget)
        if c.empty:
            continue
        y = smoothed(c, smooth, full_window=metric in EPISODE_METRICS)
        keep = y.notna().to_numpy()
        if not keep.any():
            continue
        x, y = c["frames"].to_numpy(float)[keep], y.to_numpy(float)[keep]
        vals = np.interp(grid, x, y)
        vals[(grid < x[0]) | (grid > x[-1])] = np.nan
        rows.append(vals)
        seeds.append(r.seed)
    return grid, np.array(rows).reshape(len(rows), len(grid)), seeds


def _nan_aggregate(values: np.ndarray, aggregate) -> np.ndarray:
    out = np.full(values.shape[1], np.nan)
    for j in range(values.shape[1]):
        col = values[:, j][np.isfinite(values[:, j])]
        if len(col):
            out[j] = aggregate(col)
    return out


def _draw_band(ax, runs, metric, budget, color, label, aggregate, per_seed: bool) -> bool:
    """Aggregate line and CI band over the runs that reached the budget; runs that stopped
    short are drawn dashed on their own, so they neither bend the aggregate nor go unseen."""
    complete = [r for r in runs if r.frames_reached >= budget]
    grid, values, _ = seed_curves(complete, metric, budget)
    _, partial, _ = seed_curves([r for r in runs if r.frames_reached < budget], metric, budget)
    for row in partial:
        ax.plot(grid, row, color=color, lw=0.8, alpha=0.6, ls="--")
    if len(values) == 0:
        return len(partial) > 0
    if per_seed:
        for row in values:
            ax.plot(grid, row, color=color, lw=0.6, alpha=0.35)
    extra = f", +{len(partial)} short" if len(partial) else ""
    ax.plot(grid, _nan_aggregate(values, aggregate), color=color, lw=2, label=f"{label} (n={len(values)}{extra})")
    low, high = stats.bootstrap_ci_curve(values, aggregate)
    ax.fill_between(grid, low, high, color=color, alpha=0.2, lw=0)
    return True


def _groups(runs: list[Run], labels: Labels):
    """{task: {variant: [runs]}} in sorted order."""
    out: dict[str, dict[str, list[Run]]] = {}
    for r in sorted(runs, key=lambda r: (labels.task[r.name], labels.variant[r.name], r.seed)):
        out.setdefault(labels.task[r.name], {}).setdefault(labels.variant[r.name], []).append(r)
    return out


def learning_curves(runs, labels: Labels, metric: str, budgets: dict, colors: dict, path: Path,
                    aggregate_name: str = "IQM", per_seed: bool = True) -> Path | None:
    """Aggregate over seeds with a 95% bootstrap band, thin per-seed lines, one panel per task."""
    groups = _groups(runs, labels)
    aggregate = stats.AGGREGATES[aggregate_name]
    fig, axes = _grid(len(groups), *((7.0, 4.5) if len(groups) == 1 else (5.0, 3.6)))
    drawn = False
    for ax, (task, variants) in zip(axes, groups.items()):
        for variant, group in variants.items():
            drawn |= _draw_band(ax, group, metric, budgets[task], colors[variant], variant, aggregate, per_seed)
        ax.set_title(task)
        _frames_axis(ax)
        ax.set_ylabel(metric_label(metric))
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.suptitle(f"{metric_label(metric)}: {aggregate_name} over seeds (line), 95% bootstrap CI (band),\n"
                 f"seeds (thin), runs short of the budget (dashed); rolling mean of {SMOOTH_ROWS} iterations"
                 + (" (episode-weighted, after the warm-up)" if metric in EPISODE_METRICS else ""),
                 fontsize=10, y=1.06)
    if not drawn:
        plt.close(fig)
        return None
    return _save(fig, path)


def interval_plot(estimates: pd.DataFrame, spec: ScoreSpec, colors: dict, path: Path) -> Path | None:
    """Point estimate and 95% CI per variant, one row per task (plus the normalized aggregate),
    one column per aggregate (median, IQM, mean). ``estimates``: task, variant, aggregate, value, low, high.
    NaN estimates (variants without a scored run) are left out; None when nothing is finite."""
    if estimates.empty or not np.isfinite(estimates["value"].to_numpy(float)).any():
        return None
    tasks = list(dict.fromkeys(estimates["task"]))
    aggs = list(dict.fromkeys(estimates["aggregate"]))
    variants = sorted(estimates["variant"].unique())
    fig, axes = plt.subplots(len(tasks), len(aggs), figsize=(3.6 * len(aggs), 0.45 * len(variants) * len(tasks) + 1.2),
                             squeeze=False)
    for i, task in enumerate(tasks):
        for j, agg in enumerate(aggs):
            ax = axes[i][j]
            sub = estimates[(estimates["task"] == task) & (estimates["aggregate"] == agg)].set_index("variant")
            for k, v in enumerate(variants):
                if v not in sub.index:
                    continue
                row = sub.loc[v]
                if not np.isfinite(row["value"]):
                    ax.text(0.02, k, "no score", transform=ax.get_yaxis_transform(), va="center", fontsize=7,
                            color="0.4")
                    continue
                if np.isfinite(row["low"]) and np.isfinite(row["high"]):
                    ax.barh(k, row["high"] - row["low"], left=row["low"], height=0.6, color=colors[v], alpha=0.55)
                ax.plot([row["value"]], [k], "|", color="k", ms=14, mew=2)
            # limits from the finite numbers only: a panel whose every estimate is NaN must not
            # hand matplotlib NaN limits (issue 28: runs too short to score)
            values = sub[["value", "low", "high"]].to_numpy(float)
            values = values[np.isfinite(values)]
            lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
            pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_yticks(range(len(variants)))
            ax.set_yticklabels(variants if j == 0 else [""] * len(variants))
            ax.set_ylim(-0.6, len(variants) - 0.4)
            ax.grid(axis="x", alpha=0.3)
            if i == 0:
                ax.set_title(agg)
            if j == 0:
                ax.set_ylabel(task, fontsize=9)
            if i == len(tasks) - 1:
                ax.set_xlabel(score_label(spec), fontsize=8)
    fig.suptitle(f"{spec.label}: point estimate (tick) and 95% stratified bootstrap CI (bar)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def performance_profiles(profiles: dict, taus: np.ndarray, xlabel: str, colors: dict, path: Path) -> Path | None:
    """Fraction of runs scoring above tau, with 95% bootstrap bands. ``profiles``: variant -> (point, low, high)."""
    if not profiles:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for variant, (point, low, high) in sorted(profiles.items()):
        ax.plot(taus, point, color=colors[variant], lw=2, label=variant)
        ax.fill_between(taus, low, high, color=colors[variant], alpha=0.12, lw=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"fraction of runs with score > $\tau$")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("performance profile (run-score distribution), 95% CI", fontsize=10)
    return _save(fig, path)


def poi_matrix(poi: pd.DataFrame, spec: ScoreSpec, path: Path) -> Path | None:
    """Heatmap of P(row variant > column variant) with the value written in each cell."""
    if poi.empty or len(poi) < 2 or not np.isfinite(poi.to_numpy(float)).any():
        return None
    n = len(poi)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.0 * n + 1.5))
    im = ax.imshow(poi.to_numpy(float), cmap="RdBu", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            v = poi.iat[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9,
                        color="white" if abs(v - 0.5) > 0.3 else "black")
    ax.set_xticks(range(n))
    ax.set_xticklabels(poi.columns, rotation=35, ha="right")
    ax.set_yticks(range(n))
    ax.set_yticklabels(poi.index)
    ax.set_xlabel("Y")
    ax.set_ylabel("X")
    better = "higher" if spec.higher_is_better else "lower"
    ax.set_title(f"P(X better than Y) on {spec.label}\n({better} is better; Mann-Whitney, averaged over tasks)",
                 fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return _save(fig, path)


def strip_plot(scores: pd.DataFrame, spec: ScoreSpec, colors: dict, path: Path) -> Path | None:
    """Every seed's score as a labelled dot per variant and task; unsolved seeds hollow; mean as a bar."""
    col = spec.label
    data = scores[np.isfinite(scores[col].astype(float))] if col in scores else scores.iloc[:0]
    if data.empty:
        return None
    tasks = sorted(data["task"].unique())
    fig, axes = _grid(len(tasks), width=max(4.0, 1.1 * data["variant"].nunique() + 1.5), height=4.0)
    rng = np.random.default_rng(0)
    for ax, task in zip(axes, tasks):
        sub = data[data["task"] == task]
        variants = sorted(sub["variant"].unique())
        for k, v in enumerate(variants):
            pts = sub[sub["variant"] == v]
            y = pts[col].to_numpy(float)
            x = k + rng.uniform(-0.15, 0.15, len(y))
            solved = pts["solved"].eq(True).to_numpy(bool)  # None (no success score) is not solved
            ax.scatter(x[solved], y[solved], color=colors[v], s=40, zorder=3)
            ax.scatter(x[~solved], y[~solved], facecolors="none", edgecolors=colors[v], s=40, zorder=3)
            for xi, yi, seed in zip(x, y, pts["seed"]):
                ax.annotate(str(seed), (xi, yi), xytext=(4, 2), textcoords="offset points", fontsize=7)
            ax.hlines(np.mean(y), k - 0.3, k + 0.3, color="k", lw=1.5)
        ax.set_xticks(range(len(variants)))
        ax.set_xticklabels(variants, rotation=30, ha="right")
        ax.set_title(task)
        ax.set_ylabel(score_label(spec), fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{spec.label} per seed (number = seed; hollow = not solved; bar = mean)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def coverage_heatmaps(runs, labels: Labels, path_for_task) -> list[Path]:
    """Per task, one panel per variant: share of all visits each cell got (mean over seeds), log scale."""
    paths = []
    for task, variants in _groups(runs, labels).items():
        maps = {}
        for variant, group in variants.items():
            counts = [r.visits for r in group if r.visits is not None and r.visits.sum() > 0]
            shapes = {c.shape for c in counts}
            if counts and len(shapes) == 1:
                maps[variant] = (np.mean([c / c.sum() for c in counts], axis=0), len(counts),
                                 min(r.visits_frames for r in group if r.visits is not None))
        if not maps:
            continue
        positive = np.concatenate([m[m > 0] for m, _, _ in maps.values()])
        norm = LogNorm(vmin=max(positive.min(), 1e-6), vmax=positive.max())
        fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps) + 1, 3.4), squeeze=False)
        for ax, (variant, (share, n, frames)) in zip(axes[0], maps.items()):
            im = ax.imshow(np.ma.masked_equal(share.T, 0), norm=norm, cmap="viridis", origin="upper")
            ax.set_title(f"{variant}\n(n={n}, {frames:,} frames)", fontsize=9)
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        fig.colorbar(im, ax=list(axes[0]), fraction=0.03, pad=0.02, label="share of visits (log)")
        fig.suptitle(f"{task}: where the agents went (all training steps; white = never)", fontsize=10, y=1.06)
        paths.append(_save(fig, path_for_task(task)))
    return paths


def intrinsic_reward(runs, labels: Labels, budgets: dict, colors: dict, path: Path) -> Path | None:
    """Raw and normalized intrinsic reward over training, per task; methods without one are left out."""
    groups = _groups(runs, labels)
    metrics = ("reward/int_raw_mean", "reward/int_norm_mean")
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.6 * len(groups)), squeeze=False)
    drawn = False
    for row, (task, variants) in zip(axes, groups.items()):
        for ax, metric in zip(row, metrics):
            for variant, group in variants.items():
                values = [r.metrics[metric].dropna() for r in group if metric in r.metrics]
                if not any(len(v) and (v != 0).any() for v in values):
                    continue  # no intrinsic reward (extrinsic-only or random agent)
                drawn |= _draw_band(ax, group, metric, budgets[task], colors[variant], variant,
                                    np.mean, per_seed=True)
            ax.set_title(task, fontsize=9)
            _frames_axis(ax)
            ax.set_ylabel(metric_label(metric))
            ax.grid(alpha=0.3)
            if ax.has_data():
                ax.legend(fontsize=8)
                if metric == "reward/int_raw_mean" and ax.get_ylim()[0] > 0:
                    ax.set_yscale("log")
    fig.suptitle("intrinsic reward per step over training: mean over seeds, 95% CI, seeds thin", fontsize=10)
    if not drawn:
        plt.close(fig)
        return None
    fig.tight_layout()
    return _save(fig, path)


def noisy_tv_panel(runs, labels: Labels, budgets: dict, colors: dict, path: Path) -> Path | None:
    """tv/* metrics over training: one row per TV metric, one column per TV task (the distraction picture)."""
    tv_runs = [r for r in runs if any(m in r.metrics and r.metrics[m].notna().any() for m in TV_METRICS)]
    if not tv_runs:
        return None
    groups = _groups(tv_runs, labels)
    fig, axes = plt.subplots(len(TV_METRICS), len(groups), figsize=(5 * len(groups), 3.2 * len(TV_METRICS)),
                             squeeze=False)
    for col, (task, variants) in enumerate(groups.items()):
        for row, metric in enumerate(TV_METRICS):
            ax = axes[row][col]
            for variant, group in variants.items():
                _draw_band(ax, group, metric, budgets[task], colors[variant], variant, np.mean, per_seed=True)
            ax.set_title(task, fontsize=9)
            ax.set_ylabel(metric_label(metric), fontsize=8)
            ax.set_ylim(-0.02, 1.02)  # all three are fractions
            _frames_axis(ax)
            ax.grid(alpha=0.3)
            if ax.has_data():
                ax.legend(fontsize=7)
    fig.suptitle("noisy TV: remote use, TV in view and the TV's share of intrinsic reward "
                 "(mean over seeds, 95% CI)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
