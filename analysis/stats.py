"""Statistics over seeds and tasks: aggregates, stratified bootstrap CIs, probability of improvement.

Conventions follow Agarwal et al. 2021 ("Deep RL at the edge of the statistical precipice",
the rliable library) but use scipy only, so they work without rliable installed:

- IQM is the 25% trimmed mean (``scipy.stats.trim_mean``), over all runs of all tasks pooled.
- Confidence intervals are percentile bootstrap intervals (``scipy.stats.bootstrap``) where
  every task's runs are resampled on their own (stratified bootstrap: each task is one
  sample of a multi-sample bootstrap, so no task is dropped or duplicated).
- P(X > Y) is the Mann-Whitney U statistic over (n_x * n_y), ties counting one half, averaged
  over tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0  # fixed so a report is reproducible to the digit


def iqm(x, axis=None):
    """Interquartile mean: mean of the middle 50% (25% trimmed from each end)."""
    return stats.trim_mean(x, 0.25, axis=axis)


AGGREGATES: dict[str, Callable] = {"mean": np.mean, "median": np.median, "IQM": iqm}


def _clean(samples: Sequence) -> list[np.ndarray]:
    return [np.asarray(s, float)[np.isfinite(np.asarray(s, float))] for s in samples]


def _pooled(aggregate: Callable) -> Callable:
    """``statistic(*task_samples, axis)`` for scipy: pool the tasks, then aggregate."""

    def statistic(*samples, axis=-1):
        return aggregate(np.concatenate(samples, axis=axis), axis=axis)

    return statistic


def bootstrap_ci(samples: Sequence, aggregate: Callable = np.mean, confidence: float = CONFIDENCE,
                 n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Stratified percentile-bootstrap CI of ``aggregate`` over the pooled tasks' runs.

    ``samples`` holds one array of run scores per task (one array for a single task).
    NaN scores are dropped; a task with fewer than 2 runs gives (nan, nan): no interval
    can be estimated from it.
    """
    samples = _clean(samples)
    if not samples or any(len(s) < 2 for s in samples):
        return float("nan"), float("nan")
    pooled = np.concatenate(samples)
    if np.all(pooled == pooled[0]):  # a constant has a zero-width interval; spare scipy the warning
        return float(pooled[0]), float(pooled[0])
    res = stats.bootstrap(tuple(samples), _pooled(aggregate), vectorized=True, paired=False,
                          confidence_level=confidence, n_resamples=n_resamples,
                          method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_ci_curve(values: np.ndarray, aggregate: Callable = np.mean, confidence: float = CONFIDENCE,
                       n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise bootstrap CI over seeds of a (seeds, points) array (NaN where not defined)."""
    values = np.asarray(values, float)
    n_points = values.shape[1]
    low, high = np.full(n_points, np.nan), np.full(n_points, np.nan)
    ok = np.all(np.isfinite(values), axis=0)
    if values.shape[0] < 2 or not ok.any():
        return low, high
    sub = values[:, ok]
    const = np.all(sub == sub[0], axis=0)
    res = stats.bootstrap((sub,), lambda x, axis: aggregate(x, axis=axis), vectorized=True, axis=0,
                          confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                          rng=np.random.default_rng(seed))
    lo, hi = np.asarray(res.confidence_interval.low, float), np.asarray(res.confidence_interval.high, float)
    lo[const], hi[const] = sub[0, const], sub[0, const]
    low[ok], high[ok] = lo, hi
    return low, high


def summarize(values, solved=None) -> dict:
    """mean, median, IQM, std (ddof 1), worst and best run, CV, fraction solved, n (NaN dropped)."""
    x = _clean([values])[0]
    n = len(x)
    out = {"n": n}
    if n == 0:
        return out | {k: np.nan for k in ("mean", "median", "IQM", "std", "worst", "best", "cv", "frac_solved")}
    mean = float(np.mean(x))
    std = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    out |= {"mean": mean, "median": float(np.median(x)), "IQM": float(iqm(x)), "std": std,
            "worst": float(np.min(x)), "best": float(np.max(x)),
            "cv": std / abs(mean) if mean != 0 else float("nan")}
    if solved is not None:
        s = [bool(v) for v in solved if v is not None]
        out["frac_solved"] = float(np.mean(s)) if s else float("nan")
    return out


def probability_of_improvement(x, y) -> float:
    """P(X > Y) + P(X = Y)/2 for one task: the Mann-Whitney U of x over (n_x * n_y)."""
    x, y = _clean([x, y])
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    u = stats.mannwhitneyu(x, y, alternative="greater").statistic
    return float(u / (len(x) * len(y)))


def mann_whitney_p(x, y) -> float:
    """Two-sided Mann-Whitney U test p-value (NaN with fewer than one run on either side)."""
    x, y = _clean([x, y])
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def probability_of_improvement_tasks(xs: Sequence, ys: Sequence) -> float:
    """P(X > Y) averaged over tasks (``xs[i]``, ``ys[i]``: runs of X and Y on task i)."""
    return float(np.mean([probability_of_improvement(x, y) for x, y in zip(xs, ys)]))


def probability_of_improvement_ci(xs: Sequence, ys: Sequence, confidence: float = CONFIDENCE,
                                  n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Stratified bootstrap CI of the task-averaged P(X > Y): each task's X and Y runs resampled apart."""
    xs, ys = _clean(xs), _clean(ys)
    if not xs or any(len(s) < 2 for s in (*xs, *ys)):
        return float("nan"), float("nan")
    k = len(xs)

    def statistic(*samples, axis=-1):
        per_task = []
        for x, y in zip(samples[:k], samples[k:]):
            # fraction of (x, y) pairs with x > y, ties one half, for every resample at once
            diff = x[..., :, None] - y[..., None, :]
            per_task.append(((diff > 0) + 0.5 * (diff == 0)).mean(axis=(-2, -1)))
        return np.mean(per_task, axis=0)

    data = (*xs, *ys)
    point = statistic(*data)
    if all(np.all(s == s[0]) for s in data):
        return float(point), float(point)
    res = stats.bootstrap(data, statistic, vectorized=True, paired=False, confidence_level=confidence,
                          n_resamples=n_resamples, method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def performance_profile(samples: Sequence, taus: np.ndarray) -> np.ndarray:
    """Run-score distribution: fraction of runs scoring above each tau, averaged over tasks."""
    samples = _clean(samples)
    return np.mean([[np.mean(s > t) for t in taus] for s in samples], axis=0)


def performance_profile_ci(samples: Sequence, taus: np.ndarray, confidence: float = CONFIDENCE,
                           n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stratified bootstrap band of :func:`performance_profile` (NaN if a task has < 2 runs)."""
    samples = _clean(samples)
    taus = np.asarray(taus, float)
    if not samples or any(len(s) < 2 for s in samples):
        return np.full(len(taus), np.nan), np.full(len(taus), np.nan)

    def statistic(*s, axis=-1):
        return np.moveaxis(np.mean([(x[..., None] > taus).mean(axis=-2) for x in s], axis=0), -1, 0)

    point = performance_profile(samples, taus)
    if all(np.all(s == s[0]) for s in samples):
        return point, point
    res = stats.bootstrap(tuple(samples), statistic, vectorized=True, paired=False,
                          confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                          rng=np.random.default_rng(seed))
    return np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high)


def normalize(scores: np.ndarray, low: float, high: float) -> np.ndarray:
    """(score - low) / (high - low); all zeros when the range is empty (nothing to separate)."""
    scores = np.asarray(scores, float)
    if not np.isfinite(high - low) or high == low:
        return np.zeros_like(scores)
    return (scores - low) / (high - low)
