"""The report shows what makes a comparison fair (issue 15): each run's predictor view in the
config table and the runs inventory, and the tuning record in the reproducibility checklist."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.checklist import FILLED, PARTIAL, build_checklist
from analysis.report import main
from analysis.runs import label_runs, load_runs, predictor_view

HP_ITEM = "The range of hyper-parameters considered"
RND = {"_target_": "baselines.rnd.RND"}


@pytest.mark.parametrize(
    "method, env, view",
    [
        ({"module": RND, "predictor_full_obs": False, "predictor_crop": 0}, {}, "egocentric 7x7"),
        ({"module": RND, "predictor_full_obs": False, "predictor_crop": 9}, {}, "egocentric 7x7"),
        ({"module": RND, "predictor_full_obs": True, "predictor_crop": 9}, {}, "window 9x9"),
        ({"module": RND, "predictor_full_obs": True, "predictor_crop": 0}, {}, "whole grid"),
        ({"module": RND, "predictor_full_obs": False}, {"full_obs": True}, "whole grid"),
        ({"module": None}, {}, "-"),
        ({"module": {"_target_": "baselines.count.CountBonus", "key": "state"}}, {},
         "egocentric 7x7 + count on exact state (privileged)"),
        ({"module": {"_target_": "baselines.ride.RIDE", "count_key": "pose"}, "predictor_full_obs": True,
          "predictor_crop": 9}, {}, "window 9x9 + count on pose (privileged)"),
        ({"module": {"_target_": "baselines.ride.RIDE", "count_key": "obs"}}, {}, "egocentric 7x7"),
        # the privileged arm's view preset (method.count_key) over the module's own key
        ({"module": {"_target_": "baselines.noveld.NovelD"}, "predictor_full_obs": True, "predictor_crop": 9,
          "count_key": "state"}, {}, "window 9x9 + count on exact state (privileged)"),
        ({"module": {"_target_": "baselines.count.CountBonus", "key": "state"}, "count_key": "obs"}, {},
         "egocentric 7x7"),
        ({"module": RND, "predictor_full_obs": True, "predictor_crop": 9, "count_key": "state"}, {},
         "window 9x9"),  # rnd counts nothing: the arm's key does not make it privileged
    ],
)
def test_predictor_view(method, env, view):
    assert predictor_view({"method": method, "env": env}) == view


def test_config_table_and_inventory_show_each_runs_view(tmp_path, write_run):
    root = tmp_path / "runs"
    for seed in (1, 2):
        write_run(
            root,
            f"rnd_{seed}",
            method="rnd",
            seed=seed,
            int_coef=1.0,
            config_extra={"method.module": RND, "method.predictor_full_obs": False},
        )
        write_run(
            root,
            f"fc_{seed}",
            method="forward_conv",
            seed=seed,
            int_coef=1.0,
            config_extra={
                "method.module": {"_target_": "x.ForwardConv"},
                "method.predictor_full_obs": True,
                "method.predictor_crop": 9,
            },
        )
        write_run(root, f"none_{seed}", method="none", seed=seed)
    out = tmp_path / "report"
    text = main([str(root), "--out", str(out), "--no-figures"]).read_text()
    table = pd.read_csv(out / "tables" / "config_by_variant.csv").set_index("key")
    assert table.index[0] == "view"
    assert table.loc["view", "rnd"] == "egocentric 7x7"
    assert table.loc["view", "forward_conv"] == "window 9x9"
    assert table.loc["view", "none"] == "-"
    assert "| view | window 9x9 | - | egocentric 7x7 |" in text
    runs = pd.read_csv(out / "tables" / "runs.csv").set_index("run")
    assert (
        runs.loc["fc_1", "view"] == "window 9x9" and runs.loc["rnd_2", "view"] == "egocentric 7x7"
    )


def _tune(trial=None, selected=None) -> dict:
    tune = {"space": {"int_coef": [0.5, 1.0], "lr": [1e-4, 1e-3]}, "trials": 4}
    if trial is not None:
        tune |= {"trial": trial, "point": {"int_coef": 0.5, "lr": 1e-4}}
    if selected is not None:
        tune["selected"] = selected
    return tune


def _hp_item(root):
    runs, _ = load_runs(root)
    labels = label_runs(runs)
    ctx = {
        "budgets": {"t": 1},
        "n_skipped": 0,
        "n_unscored": 0,
        "n_scored": len(runs),
        "report_command": "report",
    }
    return next(i for i in build_checklist(runs, labels, ctx) if i.text.startswith(HP_ITEM)), labels


def test_checklist_reports_the_tuning_trials(tmp_path, write_run):
    root = tmp_path / "tune"
    for method in ("rnd", "icm"):
        for trial in range(4):
            for seed in (1001, 1002):
                write_run(
                    root,
                    f"{method}_{trial}_{seed}",
                    method=method,
                    seed=seed,
                    int_coef=0.5,
                    config_extra={"method.module": RND, "method.tune": _tune(trial)},
                )
    item, labels = _hp_item(root)
    assert item.status == FILLED
    assert "method.tune.trials = 4 for every method" in item.answer
    assert "rnd: 4 trial(s) run on MiniGrid-DoorKey-5x5-v0, seeds 1001, 1002" in item.answer
    assert "space {int_coef: [0.5, 1.0], lr: [0.0001, 0.001]}" in item.answer
    assert "Selection: `curiosity-select` (highest mean AUC of charts/success" in item.answer
    assert not any(
        k.startswith("method.tune") for k in labels.ablation_keys
    )  # trials are not variants


def test_checklist_reports_the_selection_of_tuned_methods_and_the_untuned_ones(tmp_path, write_run):
    root = tmp_path / "compare"
    selected = {
        "task": "doorkey_8x8",
        "trial": 3,
        "point": {"int_coef": 1.0},
        "trials_run": 4,
        "seeds": [1001, 1002, 1003],
        "auc": 0.42,
        "rule": "highest mean AUC of charts/success",
    }
    for seed in (1, 2):
        write_run(
            root,
            f"rnd_{seed}",
            method="rnd",
            seed=seed,
            int_coef=1.0,
            config_extra={"method.module": RND, "method.tune": _tune(selected=selected)},
        )
        write_run(
            root,
            f"icm_{seed}",
            method="icm",
            seed=seed,
            int_coef=1.0,
            config_extra={"method.module": {"_target_": "baselines.icm.ICM"}},
        )
        write_run(root, f"none_{seed}", method="none", seed=seed)
    item, _ = _hp_item(root)
    assert item.status == PARTIAL  # icm ran untuned
    assert "rnd: trial 3 {'int_coef': 1.0} of 4 run (method.tune.trials=4)" in item.answer
    assert "on doorkey_8x8, seeds 1001 1002 1003, mean AUC 0.42" in item.answer
    assert (
        "Not tuned here (each method's configured values, conf/method/<name>.yaml): icm."
        in item.answer
    )


def test_checklist_without_tuning_records_says_selection_is_open(runs_tree):
    item, _ = _hp_item(runs_tree)
    assert item.status == PARTIAL and "How hyperparameters were selected is open" in item.answer
