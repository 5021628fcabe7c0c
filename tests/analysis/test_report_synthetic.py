"""The report on a synthetic runs tree: broken runs are listed, the statistics are right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.report import main


def test_report_lists_corrupt_short_and_unfinished_runs(runs_tree, tmp_path):
    out = tmp_path / "report"
    path = main([str(runs_tree), "--out", str(out), "--no-figures"])
    text = path.read_text()
    inventory = pd.read_csv(out / "tables" / "runs.csv").set_index("run")
    assert inventory.loc["corrupt", "status"] == "skipped"
    assert inventory.loc["crashed_early", "status"] == "skipped"
    assert "short of budget" in inventory.loc["short", "status"]
    assert inventory.loc["unfinished", "status"].startswith("unfinished")
    assert "half-written" in inventory.loc["half_written", "notes"]
    problems = text.split("## Setup")[0]
    for name in ("corrupt", "crashed_early", "short", "unfinished", "half_written"):
        assert f"| {name} |" in problems
    assert "| method=rnd,seed=1 |" not in problems  # healthy runs are not flagged

    summary = pd.read_csv(out / "tables" / "summary_final_charts_success.csv").set_index("variant")
    assert summary.loc["rnd", "n"] == 3  # short and unfinished rnd runs are not scored
    assert summary.loc["none", "n"] == 4  # the repaired half-written run is
    assert summary.loc["random", "mean"] == 0.0 and summary.loc["random", "mean_low"] == 0.0
    assert summary.loc["rnd", "frac_solved"] == 1.0 and summary.loc["random", "frac_solved"] == 0.0
    pairs = pd.read_csv(out / "tables" / "poi_pairs_final_charts_success.csv")
    rnd_vs_random = pairs[(pairs["X"] == "rnd") & (pairs["Y"] == "random")].iloc[0]
    assert rnd_vs_random["P(X>Y)"] == 1.0 and rnd_vs_random["low"] == 1.0
    britt = pd.read_csv(out / "tables" / "brittleness.csv").set_index("variant")
    assert britt.loc["none", "failed_seeds"] == "1 2 3"  # final success 0.1, 0.2, 0.3 < 0.5
    assert "Reproducibility checklist" in text and "(open)" in text
    assert "python -m curiosity.train method=rnd seed=1" in text


def test_report_on_an_empty_folder_says_so(tmp_path):
    (tmp_path / "runs").mkdir()
    path = main([str(tmp_path / "runs"), "--no-figures"])
    assert "No usable run was found" in path.read_text()


def test_unknown_metric_is_refused(runs_tree, tmp_path):
    with pytest.raises(SystemExit, match="charts/nothing"):
        main([str(runs_tree), "--out", str(tmp_path / "r"), "--metric", "charts/nothing", "--no-figures"])


def test_every_figure_kind_is_drawn(runs_tree, tmp_path, write_run):
    n = 20
    tv = {"tv/action_frac": np.linspace(0, 0.5, n), "tv/in_view_frac": np.full(n, 0.3),
          "tv/int_reward_share": np.linspace(0.9, 0.2, n)}
    for seed in (1, 2):
        write_run(runs_tree, f"tv/method=rnd,seed={seed}", method="rnd", seed=seed, int_coef=1.0,
                  extra_columns=tv, config_extra={"env.noisy_tv": "remote"})
    out = tmp_path / "report"
    text = main([str(runs_tree), "--out", str(out)]).read_text()
    figs = {p.name for p in (out / "figures").glob("*.png")}
    expected = {"curves_charts_success.png", "curves_charts_episode_return.png",
                "curves_explore_distinct_states_total.png", "intervals_final_charts_success.png",
                "poi_final_charts_success.png", "profile_final_charts_success.png",
                "seeds_final_charts_success.png", "seeds_frames_to_charts_success_0.5.png",
                "intrinsic_reward.png", "noisy_tv.png"}
    assert expected <= figs
    assert any(f.startswith("coverage_") for f in figs)
    for f in figs:
        assert f"figures/{f}" in text
