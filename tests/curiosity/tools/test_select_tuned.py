"""curiosity-select (issue 15.2) on a tiny synthetic tuning sweep: the best trial by AUC of
charts/success wins, a trial missing a seed does not count, ties go to fewer frames to the
threshold, and the written yaml is a method Hydra composes with its tuning record."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from curiosity.config import register_configs, validate
from curiosity.tools.select_tuned import Trial, best, main, separated, task_slug

REPO = Path(__file__).resolve().parents[3]
SPACE = {"int_coef": [0.5, 1.0, 2.0], "lr": [1.0e-4, 1.0e-3]}
POINTS = [
    {"int_coef": 1.0, "lr": 1.0e-4},
    {"int_coef": 2.0, "lr": 1.0e-3},
    {"int_coef": 0.5, "lr": 1.0e-3},
    {"int_coef": 0.5, "lr": 1.0e-4},
]
N = 20  # iterations per synthetic run


def _write_run():
    """tests/analysis/conftest.py's ``write_run`` (synthetic run folders in the trainer's format)."""
    spec = importlib.util.spec_from_file_location(
        "analysis_synthetic_runs", REPO / "tests" / "analysis" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_run


def _method(trial: int) -> dict:
    return {
        "module": {"_target_": "baselines.rnd.RND", "channels": 32},
        "update_epochs": 1,
        "predictor_full_obs": True,
        "predictor_crop": 9,
        **POINTS[trial],
        "tune": {
            "space": SPACE,
            "trials": 4,
            "trial": trial,
            "draw_seed": 0,
            "point": POINTS[trial],
        },
    }


@pytest.fixture
def tuning_sweep(tmp_path):
    """rnd x 4 trials x seeds 1001, 1002 on DoorKey-8x8: trial 2 learns fastest but lost a seed,
    trial 1 is the best complete one."""
    write_run = _write_run()
    root = tmp_path / "tune"
    success = {0: np.linspace(0, 0.5, N), 1: np.linspace(0, 1, N), 2: np.ones(N), 3: np.zeros(N)}
    for trial, curve in success.items():
        for seed in (1001, 1002):
            if trial == 2 and seed == 1002:
                continue  # crashed before it started: the trial is incomplete
            write_run(
                root,
                f"method=rnd,method.tune.trial={trial},seed={seed}",
                method="rnd",
                env="MiniGrid-DoorKey-8x8-v0",
                seed=seed,
                success=curve,
                config_extra={
                    "method.tune": None,
                    **{f"method.{k}": v for k, v in _method(trial).items()},
                },
            )
    write_run(
        root, "an_ordinary_run", method="rnd", env="MiniGrid-DoorKey-8x8-v0", seed=1
    )  # no tune record
    return root


def _cells(trial: int) -> np.ndarray:
    return np.full(N, 3.0 + 2 * trial)  # cells per episode: trial 1 at 5, the reference at 4


@pytest.fixture
def tuning_sweep_with_reference(tmp_path):
    """rnd trials 0 and 1 (trial 1 better) with cells per episode, and extrinsic-only PPO at
    both tuning seeds (no tune record: nothing to tune): the exploration reference."""
    write_run = _write_run()
    root = tmp_path / "tune_ref"
    for trial, curve in {0: np.zeros(N), 1: np.linspace(0, 1, N)}.items():
        for seed in (1001, 1002):
            write_run(
                root, f"rnd_t{trial}_s{seed}", method="rnd", env="MiniGrid-DoorKey-8x8-v0",
                seed=seed, success=curve, extra_columns={"explore/cells_per_episode": _cells(trial)},
                config_extra={"method.tune": None,
                              **{f"method.{k}": v for k, v in _method(trial).items()}},
            )
    for seed in (1001, 1002):
        write_run(
            root, f"none_s{seed}", method="none", env="MiniGrid-DoorKey-8x8-v0", seed=seed,
            success=np.zeros(N), extra_columns={"explore/cells_per_episode": np.full(N, 4.0)},
        )
    return root


def test_select_picks_the_best_complete_trial_and_writes_a_tuned_method(
    tuning_sweep, tmp_path, capsys
):
    out = tmp_path / "conf" / "method" / "tuned"
    written = main([str(tuning_sweep), "--out-dir", str(out)])
    assert written == [out / "doorkey_8x8" / "rnd.yaml"]
    text = written[0].read_text()
    data = yaml.safe_load(text)
    assert (
        data["name"] == "rnd" and data["int_coef"] == 2.0 and data["lr"] == 1.0e-3
    )  # trial 1's point
    assert data["module"]["_target_"] == "baselines.rnd.RND"
    selected = data["tune"]["selected"]
    assert (
        selected["trial"] == 1 and selected["seeds"] == [1001, 1002] and selected["trials_run"] == 4
    )
    assert data["tune"]["trials"] == 4 and data["tune"]["space"] == SPACE
    scores = {s["trial"]: s["auc"] for s in data["tune"]["scores"]}
    assert scores[2] is None  # incomplete: not scored
    assert scores[1] > scores[0] > scores[3]
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Trials: 4 run of method.tune.trials=4" in line for line in header)
    assert any(line.startswith("# Space: int_coef: [0.5, 1.0, 2.0]") for line in header)
    assert any("<- chosen" in line and line.startswith("#   1:") for line in header)
    assert any(line.startswith("# Command: curiosity-select ") for line in header)
    assert header[-1] == "# Use: method=tuned/doorkey_8x8/rnd (docs/fair_protocol.md)."
    assert selected["task"] == "doorkey_8x8" and selected["env"] == "MiniGrid-DoorKey-8x8-v0"
    assert "rnd on doorkey_8x8: trial 1" in capsys.readouterr().out

    # the written file is a method: Hydra composes it from a config search path and it validates
    conf = tmp_path / "conf_copy"
    shutil.copytree(REPO / "conf", conf)
    shutil.copytree(out, conf / "method" / "tuned", dirs_exist_ok=True)  # beside the committed tuned/ tasks
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
            cfg = compose(
                config_name="config",
                overrides=["+experiment=method_comparison", "method=tuned/doorkey_8x8/rnd"],
            )
    finally:
        GlobalHydra.instance().clear()
    validate(cfg)
    assert cfg.method.name == "rnd" and cfg.method.int_coef == 2.0 and cfg.method.lr == 1.0e-3
    assert cfg.method.tune.selected.trial == 1 and cfg.method.tune.get("trial") is None


def test_ties_go_to_fewer_frames_then_the_lower_trial():
    def trial(i, auc, frames, complete=True):
        return Trial("t", "rnd", i, auc=auc, frames_to=frames, complete=complete)

    assert best([trial(0, 0.5, 900.0), trial(1, 0.5, 400.0), trial(2, 0.4, 100.0)]).trial == 1
    assert best([trial(3, 0.5, 400.0), trial(1, 0.5, 400.0)]).trial == 1
    assert best([trial(0, 0.1, 1.0), trial(1, 0.9, 1.0, complete=False)]).trial == 0
    with pytest.raises(ValueError, match="no trial with every seed"):
        best([trial(0, 0.1, 1.0, complete=False)])


def test_trials_that_do_not_separate_keep_the_defaults():
    """Issue 27: AUCs within the margin (e.g. every trial at 0 success) are noise, not a ranking."""
    def trial(i, auc, frames):
        return Trial("t", "rnd", i, auc=auc, frames_to=frames, complete=True)

    flat = [trial(0, 0.0, 300.0), trial(1, 0.0, 300.0), trial(2, 0.03, 250.0), trial(3, 0.01, 300.0)]
    assert not separated(flat) and best(flat).trial == 0  # not trial 2, the noise's winner
    apart = [trial(0, 0.0, 300.0), trial(1, 0.2, 200.0), trial(2, 0.03, 250.0)]
    assert separated(apart) and best(apart).trial == 1


def test_dry_run_writes_nothing_and_a_folder_without_trials_is_refused(
    tuning_sweep, tmp_path, capsys
):
    out = tmp_path / "out"
    assert main([str(tuning_sweep), "--out-dir", str(out), "--dry-run"]) == [] and not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit):
        main([str(empty)])
    assert "no tuning runs" in capsys.readouterr().err


def test_task_slug():
    assert task_slug("MiniGrid-DoorKey-8x8-v0") == "doorkey_8x8"
    assert task_slug("MiniGrid-MultiRoom-N4-S5-v1") == "multiroom_n4_s5"


def test_the_record_scores_every_trial_and_judges_exploration_against_extrinsic_only_ppo(
    tuning_sweep_with_reference, tmp_path, capsys
):
    """Issue 27: the tuning record holds every trial's final success and cells per episode,
    `none`'s runs in the folder are the reference (not a method to tune), and the chosen
    trial is marked as exploring only when its cells per episode beat the reference's."""
    out = tmp_path / "out"
    written = main([str(tuning_sweep_with_reference), "--out-dir", str(out), "--table"])
    assert written == [out / "doorkey_8x8" / "rnd.yaml"]  # no none.yaml: nothing to tune
    scores = {s["trial"]: s for s in yaml.safe_load(written[0].read_text())["tune"]["scores"]}
    assert scores[1]["cells_per_episode"] == 5.0 and scores[0]["cells_per_episode"] == 3.0
    assert scores[0]["final_success"] == 0.0 and scores[1]["final_success"] > 0.8
    table = capsys.readouterr().out
    assert "extrinsic-only PPO (`none`) at seeds 1001, 1002" in table
    assert "4.0 cells per episode" in table
    rows = {line.split(" | ")[1]: line for line in table.splitlines() if line.startswith("| rnd")}
    assert rows["**1**"].endswith("chosen; explores |") and rows["0"].endswith("|  |")

    # a chosen trial that explores less than extrinsic-only PPO is flagged, not hidden
    for seed in (1001, 1002):
        run = tuning_sweep_with_reference / f"none_s{seed}"
        metrics = run / "metrics.csv"
        df = pd.read_csv(metrics)
        df["explore/cells_per_episode"] = 9.0
        df.to_csv(metrics, index=False)
    main([str(tuning_sweep_with_reference), "--dry-run", "--table"])
    assert "chosen; does NOT explore |" in capsys.readouterr().out
