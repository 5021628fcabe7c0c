"""Loading run directories: repairs, skips and labels, on directories written by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.runs import (
    Run,
    Skipped,
    find_run_dirs,
    find_sweeps,
    label_runs,
    load_run,
    load_runs,
    tidy_table,
)
from analysis.scores import ScoreSpec, final_score, frames_to_threshold, score, task_budgets


def test_skips_and_repairs_are_reported(runs_tree, write_run):
    runs, skipped = load_runs(runs_tree)
    reasons = {s.name: s.reason for s in skipped}
    assert set(reasons) == {"corrupt", "crashed_early"}
    assert "config.yaml unreadable" in reasons["corrupt"] and "\n" not in reasons["corrupt"]
    assert "no config.yaml" in reasons["crashed_early"]
    by_name = {r.name: r for r in runs}
    half = by_name["half_written"]
    assert half.frames_reached == 20 * write_run.batch  # the cut-off 21st row is gone
    assert any("half-written" in n for n in half.notes)
    assert not by_name["unfinished"].finished and any("unfinished" in n for n in by_name["unfinished"].notes)
    assert by_name["method=rnd,seed=1"].finished and by_name["method=rnd,seed=1"].notes == []


def test_hidden_and_wandb_folders_are_not_runs(tmp_path, write_run):
    run = write_run(tmp_path, "r")
    (run / ".hydra").mkdir()
    (run / ".hydra" / "config.yaml").write_text("a: 1")
    (run / "wandb" / "run-1").mkdir(parents=True)
    (run / "wandb" / "run-1" / "config.yaml").write_text("a: 1")
    assert find_run_dirs(tmp_path) == [run]


def test_a_folder_of_links_to_runs_is_read_and_a_link_cycle_ends(tmp_path, write_run):
    elsewhere = tmp_path / "elsewhere"
    real = write_run(elsewhere, "rnd_s1")
    picked = tmp_path / "picked"
    picked.mkdir()
    (picked / "rnd_s1").symlink_to(real, target_is_directory=True)
    (picked / "loop").symlink_to(picked, target_is_directory=True)  # must not recurse forever
    assert find_run_dirs(picked) == [picked / "rnd_s1"]
    runs, skipped = load_runs(picked)
    assert [r.name for r in runs] == ["rnd_s1"] and not skipped


@pytest.mark.parametrize("content, reason", [
    ("", "empty"),
    ("iteration,frames,charts/success\n", "no complete rows"),
    ("iteration,frames,charts/success\n1,abc,0.5\n", "no complete rows"),
    ("x,y\n1,2\n", "lacks the iteration/frames"),
])
def test_unusable_metrics_skip_the_run(tmp_path, content, reason, write_run):
    run = write_run(tmp_path, "r")
    (run / "metrics.csv").write_text(content)
    result = load_run(run, tmp_path)
    assert isinstance(result, Skipped) and reason in result.reason


def test_binary_garbage_in_metrics_skips_or_repairs(tmp_path, write_run):
    run = write_run(tmp_path, "r")
    (run / "metrics.csv").write_bytes(b"\x00\xff\xfe garbage \x00\n\x01\x02")
    assert isinstance(load_run(run, tmp_path), Skipped)


def test_corrupt_visitation_falls_back_to_an_earlier_map(tmp_path, write_run):
    run = write_run(tmp_path, "r")
    good = np.ones((5, 5), dtype=np.int64)
    np.save(run / "visitation" / "visits_frames0000000001.npy", good)
    (run / "visitation" / "visits_frames0000099999.npy").write_bytes(b"not numpy")
    loaded = load_run(run, tmp_path)
    assert isinstance(loaded, Run)
    assert loaded.visits_frames == 20 * write_run.batch  # newest readable map
    assert any("unreadable" in n for n in loaded.notes)


def test_eval_csv_columns_are_merged(tmp_path, write_run):
    run = write_run(tmp_path, "r")
    (run / "eval.csv").write_text("iteration,frames,policy,eval/success\n10,10000,greedy,0.25\n20,20000,greedy,0.75\n")
    loaded = load_run(run, tmp_path)
    assert loaded.metrics["eval/success"].dropna().tolist() == [0.25, 0.75]
    assert final_score(loaded, "eval/success", 20 * write_run.batch) == 0.75  # sparse: the last evaluation


def test_labels_split_tasks_variants_and_method_defaults(tmp_path, write_run):
    for seed in (1, 2):
        write_run(tmp_path, f"none{seed}", method="none", seed=seed)
        for coef in (0.5, 1.0):
            write_run(tmp_path, f"rnd{coef}_{seed}", method="rnd", seed=seed, int_coef=coef)
        write_run(tmp_path, f"tv{seed}", method="none", seed=seed, config_extra={"env.noisy_tv": "remote"})
    runs, _ = load_runs(tmp_path)
    labels = label_runs(runs)
    assert labels.task_keys == ["env.noisy_tv"]
    assert labels.ablation_keys == ["method.int_coef"]
    assert labels.variant["rnd0.5_1"] == "rnd (int_coef=0.5)" and labels.variant["none1"] == "none"
    assert labels.task["tv1"] == "DoorKey-5x5-v0 [noisy_tv=remote]"
    assert labels.task["none1"] == "DoorKey-5x5-v0 [noisy_tv=none]"
    table = tidy_table(runs, labels)
    assert {"run", "task", "variant", "method.int_coef", "seed", "frames", "metric", "value"} <= set(table.columns)
    one = table[(table["run"] == "rnd0.5_1") & (table["metric"] == "charts/success")]
    assert len(one) == 20 and one["method.int_coef"].iloc[0] == "0.5"


def test_scores_at_the_budget(tmp_path, write_run):
    success = np.r_[np.zeros(10), np.full(10, 0.8)]
    write_run(tmp_path, "a", success=success, total_frames=20 * write_run.batch)
    write_run(tmp_path, "b", success=success, total_frames=20 * write_run.batch, seed=2)
    write_run(tmp_path, "long", success=np.r_[success, np.zeros(20)], total_frames=40 * write_run.batch, seed=3)
    write_run(tmp_path, "short", success=success[:10], total_frames=10 * write_run.batch, seed=4)
    runs, _ = load_runs(tmp_path)
    labels = label_runs(runs)
    budget = task_budgets(runs, labels)["DoorKey-5x5-v0"]
    assert budget == 20 * write_run.batch  # the most common total_frames
    r = {x.name: x for x in runs}
    assert final_score(r["a"], "charts/success", budget) == pytest.approx(0.8)  # last 10%: rows 19, 20
    assert final_score(r["long"], "charts/success", budget) == pytest.approx(0.8)  # cut at the budget
    assert np.isnan(final_score(r["short"], "charts/success", budget))  # never reached the budget
    # rolling mean over 5 rows of [0]*10 + [0.8]*10 first reaches 0.48 at the 13th row
    assert frames_to_threshold(r["a"], "charts/success", 0.48, budget) == 13 * write_run.batch
    assert frames_to_threshold(r["a"], "charts/success", 0.9, budget) == float("inf")
    # AUC: the drawn curve, i.e. warm-up (iteration 1: no episode finished before it) left out,
    # then the rolling mean over 5 iterations from its first full window (iteration 6) on
    drawn = pd.Series(success[1:]).rolling(5).mean().to_numpy()[4:]
    assert score(r["a"], ScoreSpec("charts/success", "auc"), budget) == pytest.approx(
        np.trapezoid(drawn, np.arange(6, 21)) / 14)
    assert final_score(r["a"], "explore/distinct_states_total", budget) == 20 * 2  # cumulative: last value


def test_hydra_records_give_rerun_commands_and_sweep_params(tmp_path, write_run):
    run = write_run(tmp_path / "sweep", "method=rnd,seed=2", method="rnd", seed=2)
    (run / ".hydra").mkdir()
    (run / ".hydra" / "overrides.yaml").write_text("- method=rnd\n- seed=2\n- +experiment=demo\n")
    (tmp_path / "sweep" / "multirun.yaml").write_text(
        "hydra:\n  sweeper:\n    params:\n      method: none,rnd\n      seed: 1,2\n"
        "  overrides:\n    task: ['+experiment=demo']\n"
        "  launcher:\n    _target_: hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher\n    n_jobs: 2\n")
    loaded = load_run(run, tmp_path / "sweep")
    assert loaded.rerun_command == "python -m curiosity.train method=rnd seed=2 +experiment=demo"
    assert find_sweeps(tmp_path / "sweep") == [{"path": ".", "params": {"method": "none,rnd", "seed": "1,2"},
                                                 "overrides": ["+experiment=demo"], "launcher": "JoblibLauncher",
                                                 "n_jobs": 2}]


def test_one_early_success_spike_does_not_count_as_reaching_the_threshold(tmp_path, write_run):
    # iteration 1 often reports success 1.0 (only successful episodes end before the time limit)
    write_run(tmp_path, "a", success=np.r_[1.0, np.zeros(19)])
    (run,), _ = load_runs(tmp_path)
    assert frames_to_threshold(run, "charts/success", 0.5, 20 * write_run.batch) == float("inf")


def test_budget_is_rounded_down_to_whole_iterations(tmp_path, write_run):
    """total_frames=300000 with 2048-frame iterations trains 146 iterations = 299008 frames: complete."""
    batch = 16 * 128
    write_run(tmp_path, "odd", total_frames=20 * batch + 500, iterations=20,
              config_extra={"agent.num_steps": 128})
    runs, _ = load_runs(tmp_path)
    (run,) = runs
    # the synthetic writer logs frames in its own unit; what matters is the budget arithmetic
    assert run.total_frames == 20 * batch
    labels = label_runs(runs)
    assert task_budgets(runs, labels)["DoorKey-5x5-v0"] == 20 * batch
