"""Issue 28: runs too short to score (a first smoke test of a few thousand frames) must give a
report, not ``ValueError: Axis limits cannot be NaN or Inf``; the runs without a score are named
with the reason, and what can be reported (tables, curves that have data) still is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import figures
from analysis.report import main
from analysis.runs import label_runs, load_runs
from analysis.scores import (
    ScoreSpec,
    frames_to_threshold,
    no_score_reason,
    score_table,
    task_budgets,
)
from analysis.tables import brittleness_table

SMOKE_FRAMES = 2048  # python -m curiosity.train total_frames=2048: one iteration of 128 steps x 16 envs
NUM_ENVS = 16


def smoke_tree(root, write_run):
    """Four one-iteration runs as the trainer writes them for total_frames=2048 env.num_envs=16:
    the iteration finished fewer episodes than there are envs (none at all for the rnd runs, whose
    per-episode columns are then empty), so every iteration is inside the episode warm-up."""
    for method, seed, episodes in [("none", 1, 3), ("none", 2, 1), ("rnd", 1, 0), ("rnd", 2, 0)]:
        success = [np.nan] if episodes == 0 else [1.0]
        write_run(root, f"method={method},seed={seed}", method=method, seed=seed, total_frames=SMOKE_FRAMES,
                  iterations=1, success=success, int_coef=1.0 if method == "rnd" else 0.0,
                  config_extra={"agent.num_steps": SMOKE_FRAMES // NUM_ENVS, "env.num_envs": NUM_ENVS},
                  extra_columns={"frames": [SMOKE_FRAMES], "charts/episodes": [episodes]})
    return root


def test_report_on_runs_too_short_to_score_names_them_and_does_not_crash(tmp_path, write_run):
    root = smoke_tree(tmp_path / "smoke", write_run)
    out = tmp_path / "report"
    text = main([str(root), "--out", str(out)]).read_text()  # with figures: the crash was in interval_plot

    runs_section = text.split("## Setup")[0]
    assert "4 reached their task's frame budget (0 of them with a final charts/success score)" in runs_section
    assert "### Runs without a score" in runs_section
    for name in ("method=none,seed=1", "method=none,seed=2", "method=rnd,seed=1", "method=rnd,seed=2"):
        line = next(ln for ln in runs_section.splitlines() if ln.startswith(f"- `{name}`:"))
        assert "2,048 frames (1 iteration), all inside the episode warm-up" in line
        assert f"once {NUM_ENVS} episodes" in line
        assert "no final charts/success" in line and "frames to charts/success >= 0.5" in line
    inventory = pd.read_csv(out / "tables" / "runs.csv").set_index("run")
    assert inventory["status"].str.contains("no score").all()

    # what can be reported still is: tables, and curves and scores of the metrics that have data
    scores = pd.read_csv(out / "tables" / "scores.csv")
    assert scores["final charts/success"].isna().all()
    assert scores["frames to charts/success >= 0.5"].isna().all()  # no data is not "never reached"
    states = pd.read_csv(out / "tables" / "summary_final_explore_distinct_states_total.csv")
    assert states["n"].tolist() == [2, 2]
    figs = {p.name for p in (out / "figures").glob("*.png")}
    assert "curves_explore_distinct_states_total.png" in figs
    assert "curves_charts_success.png" not in figs and "intervals_final_charts_success.png" not in figs
    assert "_No curve of charts/success: no run has a value of it to draw after the episode warm-up._" in text
    assert "No run has a score for final charts/success" in text
    for f in figs:
        assert f"figures/{f}" in text
    britt = pd.read_csv(out / "tables" / "brittleness.csv")
    assert (britt["failed_seeds"] == "-").all()  # unscored seeds are not failed seeds
    assert "| nan" not in text.lower() and "never reached" not in runs_section
    assert "**No score**" in text


def test_a_variant_without_scores_beside_scored_ones_is_drawn_around(tmp_path, write_run):
    """A random agent on a long task that never ends an episode: its success is NaN all the way
    while the other method's runs are scored; the report names its runs and the interval plot leaves it out."""
    n = 20
    for seed in (1, 2):
        write_run(tmp_path, f"method=none,seed={seed}", method="none", seed=seed, success=np.linspace(0, seed / 2, n))
        write_run(tmp_path, f"method=random,seed={seed}", method="random", seed=seed, success=np.full(n, np.nan),
                  extra_columns={"charts/episodes": np.zeros(n, int)})
    out = tmp_path / "report"
    text = main([str(tmp_path), "--out", str(out)]).read_text()
    assert (out / "figures" / "intervals_final_charts_success.png").exists()
    assert "- `method=random,seed=1`: 20,000 frames (20 iterations), all inside the episode warm-up" in text
    assert "0 finished in the whole run" in text
    assert "`method=none,seed=1`:" not in text.split("## Setup")[0]
    summary = pd.read_csv(out / "tables" / "summary_final_charts_success.csv").set_index("variant")
    assert summary.loc["none", "n"] == 2 and summary.loc["random", "n"] == 0


def test_interval_plot_with_nan_estimates(tmp_path):
    spec = ScoreSpec("charts/success", "final")
    colors = figures.variant_colors(["a", "b"])
    nan = pd.DataFrame([{"task": "t", "variant": v, "aggregate": agg, "value": np.nan, "low": np.nan,
                         "high": np.nan} for v in ("a", "b") for agg in ("median", "IQM", "mean")])
    assert figures.interval_plot(nan, spec, colors, tmp_path / "all_nan.png") is None
    mixed = nan.copy()
    mixed.loc[mixed["variant"] == "a", ["value", "low", "high"]] = [0.5, 0.4, 0.6]
    mixed = pd.concat([mixed, nan.assign(task="t2")], ignore_index=True)  # a whole task panel of NaN
    assert figures.interval_plot(mixed, spec, colors, tmp_path / "mixed.png").exists()


def test_no_score_reason_says_why(tmp_path, write_run):
    smoke_tree(tmp_path, write_run)
    write_run(tmp_path, "sixteen_episodes", total_frames=SMOKE_FRAMES, iterations=1, success=[1.0],
              config_extra={"agent.num_steps": SMOKE_FRAMES // NUM_ENVS},
              extra_columns={"frames": [SMOKE_FRAMES], "charts/episodes": [NUM_ENVS]})
    runs, _ = load_runs(tmp_path)
    by_name = {r.name: r for r in runs}
    final, states = ScoreSpec("charts/success", "final"), ScoreSpec("explore/distinct_states_total", "final")
    warm = by_name["method=none,seed=1"]
    assert np.isnan(frames_to_threshold(warm, "charts/success", 0.5, SMOKE_FRAMES))
    assert no_score_reason(warm, states, SMOKE_FRAMES) is None
    assert no_score_reason(warm, final, SMOKE_FRAMES) == (
        "2,048 frames (1 iteration), all inside the episode warm-up (an iteration counts only once 16 "
        "episodes, one per env, have finished before it; 3 finished in the whole run)")
    assert no_score_reason(by_name["method=none,seed=1"], ScoreSpec("charts/nothing"), SMOKE_FRAMES) == (
        "2,048 frames (1 iteration), none with a value of the metric (not logged, or no episode finished)")
    assert no_score_reason(warm, final, 2 * SMOKE_FRAMES) == "2,048 frames, short of the budget of 4,096"
    # sixteen episodes in its one iteration still leave that iteration in the warm-up: they ended in it
    assert "all inside the episode warm-up" in no_score_reason(by_name["sixteen_episodes"], final, SMOKE_FRAMES)

    labels = label_runs(runs)
    reach = ScoreSpec("charts/success", "frames_to", 0.5)
    scores = score_table(runs, labels, [final, reach], task_budgets(runs, labels), 0.5)
    britt = brittleness_table(scores, final, reach)
    assert (britt["failed_seeds"] == "-").all()
