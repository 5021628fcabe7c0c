"""The episode warm-up rule: early iterations, whose finished episodes are the short successful
ones, must not show up in curves or curve-derived scores (no selection artifact)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.figures import seed_curves
from analysis.report import main
from analysis.runs import episode_warmup, label_runs, load_runs, tidy_table
from analysis.scores import ScoreSpec, final_score, frames_to_threshold, score

N_ENVS = 8
N_ITER = 40


def random_agent_columns() -> dict:
    """A random agent on a task with a time limit of ~2 iterations, all envs in step: every other
    iteration only one short episode ends, and it is a success; in between all 8 envs time out."""
    lucky = np.arange(N_ITER) % 2 == 0
    return {"charts/episodes": np.where(lucky, 1, N_ENVS),
            "charts/success": np.where(lucky, 1.0, 0.0)}


def test_warmup_ends_once_earlier_iterations_finished_num_envs_episodes():
    episodes = pd.Series([1, 8, 1, np.nan, 8, 16])
    assert episode_warmup(episodes, 8).tolist() == [True, True, False, False, False, False]
    assert episode_warmup(pd.Series([0, 0, 3]), 1).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="num_envs=0"):
        episode_warmup(episodes, 0)


def test_random_agent_curve_does_not_start_near_one(tmp_path, write_run):
    for seed in (1, 2, 3):
        write_run(tmp_path, f"random{seed}", method="random", seed=seed, total_frames=N_ITER * write_run.batch,
                  config_extra={"env.num_envs": N_ENVS}, extra_columns=random_agent_columns())
    runs, _ = load_runs(tmp_path)
    budget = N_ITER * write_run.batch
    true_rate = 3 / (3 + 2 * N_ENVS)  # the most any 5 consecutive kept iterations give, episode-weighted
    _, values, _ = seed_curves(runs, "charts/success", budget)
    first = values[:, np.argmax(np.isfinite(values).all(axis=0))]
    assert np.all(first <= true_rate + 1e-9)  # the unweighted, unfiltered first point was 1.0
    assert np.nanmax(values) <= true_rate + 1e-9
    run = runs[0]
    assert frames_to_threshold(run, "charts/success", 0.5, budget) == float("inf")
    assert final_score(run, "charts/success", budget) == pytest.approx(2 / (2 + 2 * N_ENVS))
    assert score(run, ScoreSpec("charts/success", "auc"), budget) < true_rate + 1e-9
    # the warm-up left out iterations 1 and 2 (1 + 8 episodes finished before iteration 3)
    assert run.warmup.tolist()[:3] == [True, True, False] and run.warmup.sum() == 2


def test_tidy_table_marks_warmup_rows_and_report_states_the_rule(runs_tree, tmp_path):
    runs, _ = load_runs(runs_tree)
    table = tidy_table(runs, label_runs(runs))
    first = table[table["iteration"] == 1]
    assert first.loc[first["metric"] == "charts/success", "warmup"].all()
    assert not first.loc[first["metric"] == "explore/distinct_states_total", "warmup"].any()
    assert not table.loc[table["iteration"] > 1, "warmup"].any()  # 16 episodes per iteration, 16 envs
    text = main([str(runs_tree), "--out", str(tmp_path / "report"), "--no-figures"]).read_text()
    assert "leave out each run's warm-up" in text and "median 1 iterations" in text
    assert "**Episode warm-up**" in text


def test_runs_without_an_episode_count_are_noted_and_left_unfiltered(tmp_path, write_run):
    run_dir = write_run(tmp_path, "old", success=np.linspace(0, 1, 20))
    df = pd.read_csv(run_dir / "metrics.csv").drop(columns=["charts/episodes"])
    df.to_csv(run_dir / "metrics.csv", index=False)
    (run,), _ = load_runs(tmp_path)
    assert any("warm-up rule not applied" in n for n in run.notes)
    assert not run.warmup.any()
