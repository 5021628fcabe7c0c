"""``curiosity-select RUNS_DIR``: pick each method's best tuning trial and write its tuned yaml.

Reads the runs of a tuning sweep (``conf/experiment/tune.yaml``: every run's config carries
``method.tune`` with the space, the budget ``trials``, the ``trial`` id and its ``point``),
scores every trial by the area under its ``charts/success`` curve at the task's frame budget
(``analysis.scores.auc_score``, the report's AUC: warm-up dropped, episode-weighted), averaged
over the trial's seeds, and picks per (task, method) the trial with the highest mean AUC;
ties go to fewer mean frames to the success threshold (a seed that never reached it counts as
the budget), then to the lower trial id (trial 0 is the method's defaults). A trial counts
only when every tuning seed of that method reached the budget.

Writes ``conf/method/tuned/<task>/<method>.yaml``: the method section exactly as the chosen
trial ran it (base method + the chosen values), a ``tune`` record (space, trials, seeds,
selection rule, chosen trial and point, every trial's score) and a header comment saying
the same and the command, so ``method=tuned/<task>/<method>`` runs the tuned method
(e.g. in ``+experiment=method_comparison``). The task name is the env id without
``MiniGrid-`` and the version (``doorkey_8x8``), or ``--task``.

Beside the AUC, every trial records its final success and final cells per episode (means over
its seeds), and ``--table`` prints the whole tuning record as markdown, with extrinsic-only
PPO's runs in the same folder (``method=none`` at the tuning seeds, run without the tuning
preset, which refuses a method with nothing to tune) as the reference a trial must out-explore (issue 27: a method's best trial explores, or the record shows none did).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from analysis.runs import Run, label_runs, load_runs
from analysis.scores import auc_score, final_score, frames_to_threshold, task_budgets
from curiosity.paths import METHOD_DIR
from curiosity.tools.prog import prog_name

RULE = (
    "highest mean AUC of {metric} over the tuning seeds at the budget; ties: fewer mean "
    "frames to {metric} >= {threshold:g} (never reached = the budget); then the lower trial id; "
    "trials whose AUCs span less than {separation:g} did not separate: the defaults (the lowest "
    "trial id) are kept"
)
# the smallest spread of the trials' mean AUCs that counts as a difference between settings
# (issue 27: a method whose trials do not separate is reported as such, its selection is not
# the noise's winner)
SEPARATION = 0.05
# what "explores" is measured by: a trial explores when its final cells per episode (mean over
# its seeds) are above extrinsic-only PPO's at the same seeds and budget
CELLS = "explore/cells_per_episode"
REFERENCE = "none"


@dataclass
class Trial:
    """One trial of one method on one task: its runs (one per seed) and their scores."""

    task: str
    method: str
    trial: int
    runs: list[Run] = field(default_factory=list)
    auc: float = float("nan")  # mean over seeds
    frames_to: float = float("nan")  # mean over seeds (never reached = the budget)
    success: float = float("nan")  # final charts/success, mean over seeds
    cells: float = float("nan")  # final cells per episode, mean over seeds
    complete: bool = False

    @property
    def point(self) -> dict:
        return dict(self.runs[0].config["method"]["tune"].get("point") or {})

    @property
    def seeds(self) -> list[int]:
        return sorted(r.seed for r in self.runs)


def task_slug(env_id: str) -> str:
    """``MiniGrid-DoorKey-8x8-v0`` -> ``doorkey_8x8`` (the tuned yaml's folder)."""
    name = re.sub(r"-v\d+$", "", env_id.removeprefix("MiniGrid-"))
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def tuning_runs(runs: list[Run]) -> list[Run]:
    """The runs that are tuning trials (their config records ``method.tune.trial`` and a
    space to draw it from)."""
    out = []
    for r in runs:
        tune = (r.config.get("method") or {}).get("tune")
        if isinstance(tune, dict) and tune.get("trial") is not None and tune.get("space"):
            out.append(r)
    return out


def reference_runs(runs: list[Run]) -> list[Run]:
    """Extrinsic-only PPO's runs (``method=none``): what a trial's exploration is compared to."""
    return [r for r in runs if r.method == REFERENCE]


def final_means(runs: list[Run], budget: int) -> tuple[float, float]:
    """(final success, final cells per episode), each the mean over ``runs``."""
    return (
        float(np.mean([final_score(r, "charts/success", budget) for r in runs])),
        float(np.mean([final_score(r, CELLS, budget) for r in runs])),
    )


def score_trials(
    runs: list[Run], metric: str, threshold: float, budget: int | None = None
) -> tuple[list[Trial], dict[str, int]]:
    """Every (task, method, trial) with its mean scores; ``budgets`` per task."""
    labels = label_runs(runs)
    budgets = (
        task_budgets(runs, labels)
        if budget is None
        else {t: budget for t in set(labels.task.values())}
    )
    trials: dict[tuple, Trial] = {}
    for r in runs:
        key = (labels.task[r.name], r.method, int(r.config["method"]["tune"]["trial"]))
        trials.setdefault(key, Trial(*key)).runs.append(r)
    seeds_of: dict[tuple, set] = {}
    for (task, method, _), t in trials.items():
        seeds_of.setdefault((task, method), set()).update(t.seeds)
    for (task, method, _), t in trials.items():
        b = budgets[task]
        aucs = np.array([auc_score(r, metric, b) for r in t.runs], float)
        reach = np.array([frames_to_threshold(r, metric, threshold, b) for r in t.runs], float)
        t.complete = set(t.seeds) == seeds_of[(task, method)] and bool(np.isfinite(aucs).all())
        if t.complete:
            t.auc = float(aucs.mean())
            t.frames_to = float(np.where(np.isinf(reach), b, reach).mean())
            t.success, t.cells = final_means(t.runs, b)
    return sorted(trials.values(), key=lambda t: (t.task, t.method, t.trial)), budgets


def separated(trials: list[Trial]) -> bool:
    """Whether the complete trials' mean AUCs span at least :data:`SEPARATION`."""
    aucs = [t.auc for t in trials if t.complete]
    return len(aucs) > 1 and max(aucs) - min(aucs) >= SEPARATION


def best(trials: list[Trial]) -> Trial:
    """The selection rule (:data:`RULE`) over one method's complete trials."""
    complete = [t for t in trials if t.complete]
    if not complete:
        raise ValueError(
            f"method {trials[0].method} on {trials[0].task}: no trial with every seed at the budget"
        )
    if not separated(complete):  # no setting beat another: keep the defaults, not the noise's pick
        return min(complete, key=lambda t: t.trial)
    return min(complete, key=lambda t: (-t.auc, t.frames_to, t.trial))


def tuned_yaml(
    chosen: Trial,
    trials: list[Trial],
    task: str,
    metric: str,
    threshold: float,
    budget: int,
    command: str,
) -> str:
    """The tuned method yaml for ``method=tuned/<task>/<method>``: header comment, the chosen
    run's method section, the record."""
    run = chosen.runs[0]
    method = {k: v for k, v in run.config["method"].items() if k != "tune"}
    tune = run.config["method"]["tune"]
    rule = RULE.format(metric=metric, threshold=threshold, separation=SEPARATION)
    apart = separated(trials)
    scores = [
        {
            "trial": t.trial,
            "point": t.point,
            "seeds": t.seeds,
            "auc": None if not t.complete else round(t.auc, 6),
            "frames_to": None if not t.complete else round(t.frames_to, 1),
            "final_success": None if not t.complete else _round(t.success, 4),
            "cells_per_episode": None if not t.complete else _round(t.cells, 2),
        }
        for t in trials
    ]
    method["tune"] = {
        "space": tune.get("space"),
        "trials": tune.get("trials"),
        "draw_seed": tune.get("draw_seed"),
        "selected": {
            "task": task,
            "env": run.env,
            "trial": chosen.trial,
            "point": chosen.point,
            "auc": round(chosen.auc, 6),
            "frames_to": round(chosen.frames_to, 1),
            "seeds": chosen.seeds,
            "budget": budget,
            "trials_run": len(trials),
            "separated": apart,
            "rule": rule,
            "command": command,
        },
        "scores": scores,
    }
    lines = [
        f"# Tuned {chosen.method} for {task} ({run.env}), written by curiosity-select.",
        f"# Base: conf/method/{chosen.method}.yaml as the trial ran it, with the chosen values:",
        f"#   {', '.join(f'{k}={v}' for k, v in chosen.point.items()) or '(none)'}",
        f"# Trials: {len(trials)} run of method.tune.trials={tune.get('trials')}, seeds "
        f"{' '.join(map(str, chosen.seeds))}, {budget:,} frames each; predictor view: "
        f"predictor_full_obs={method.get('predictor_full_obs')} predictor_crop={method.get('predictor_crop')}.",
        "# Space: " + "; ".join(f"{k}: {v}" for k, v in (tune.get("space") or {}).items()),
        f"# Rule: {rule}.",
        *([] if apart else ["# The trials did NOT separate (AUC spread below the margin): the defaults are kept;"
                            " report this method as untuned, not ranked by its tuning."]),
        "# Scores (trial: mean AUC, mean frames to threshold, final success, cells per episode, point):",
        *[
            f"#   {s['trial']}: {'-' if s['auc'] is None else format(s['auc'], '.4f')}, "
            f"{'-' if s['frames_to'] is None else format(s['frames_to'], ',.0f')}, "
            f"{'-' if s['final_success'] is None else format(s['final_success'], '.3f')}, "
            f"{'-' if s['cells_per_episode'] is None else format(s['cells_per_episode'], '.1f')}, {s['point']}"
            + ("  <- chosen" if s["trial"] == chosen.trial else "")
            for s in scores
        ],
        f"# Command: {command}",
        f"# Use: method=tuned/{task}/{chosen.method} (docs/fair_protocol.md).",
    ]
    return (
        "\n".join(lines) + "\n" + yaml.safe_dump(method, sort_keys=False, default_flow_style=None)
    )


def _round(x: float, digits: int) -> float | None:
    return None if not np.isfinite(x) else round(float(x), digits)


def _num(x: float, spec: str) -> str:
    return "-" if x is None or not np.isfinite(x) else format(x, spec)


def record_table(
    groups: dict[tuple, list[Trial]],
    references: dict[str, list[Run]],
    budgets: dict[str, int],
    chosen: dict[tuple, Trial],
) -> str:
    """The tuning record as markdown: per task, extrinsic-only PPO's reference, then per method
    every trial's point and scores, the chosen one in bold, whether the trials separated and
    whether the chosen trial explores (final cells per episode above the reference's)."""
    out = []
    for task in sorted({task for task, _ in groups}):
        b = budgets[task]
        refs = references.get(task, [])
        ref_success, ref_cells = final_means(refs, b) if refs else (float("nan"), float("nan"))
        out.append(f"### {task}: {b:,} frames per trial\n")
        if refs:
            out.append(
                f"Reference, extrinsic-only PPO (`none`) at seeds "
                f"{', '.join(str(r.seed) for r in sorted(refs, key=lambda r: r.seed))}: final "
                f"success {_num(ref_success, '.3f')}, {_num(ref_cells, '.1f')} cells per episode.\n"
            )
        else:
            out.append("Reference: no `none` run in the folder, so \"explores\" is not judged.\n")
        out.append(
            "| method | trial | point | AUC | frames to 0.5 | final success | cells/episode | "
            "verdict |\n|---|---|---|---|---|---|---|---|"
        )
        for (t_task, method), group in sorted(groups.items()):
            if t_task != task:
                continue
            pick = chosen.get((t_task, method))
            apart = separated(group)
            for t in group:
                is_pick = pick is not None and t.trial == pick.trial
                verdict = ""
                if is_pick:
                    verdict = "chosen" if apart else "defaults kept: trials did not separate"
                    if np.isfinite(ref_cells) and t.complete:
                        verdict += "; explores" if t.cells > ref_cells else "; does NOT explore"
                point = ", ".join(f"{k}={v}" for k, v in t.point.items())
                cells = [method, str(t.trial), point, _num(t.auc, ".3f"),
                         _num(t.frames_to, ",.0f"), _num(t.success, ".3f"), _num(t.cells, ".1f"),
                         verdict]
                if is_pick:
                    cells[1] = f"**{t.trial}**"
                out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog_name("curiosity.tools.select_tuned"),
        description="Pick each method's best tuning trial (conf/experiment/"
        "tune.yaml runs) and write conf/method/tuned/<task>/<method>.yaml.",
        epilog="Rule: "
        + RULE.format(metric="the metric", threshold=0.5, separation=SEPARATION).replace(
            ">= 0.5", ">= --threshold")
        + ". docs/fair_protocol.md",
    )
    parser.add_argument("runs_dir", type=Path, help="folder of tuning runs (searched recursively)")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=METHOD_DIR / "tuned",
        help="where <task>/<method>.yaml go (default conf/method/tuned)",
    )
    parser.add_argument(
        "--task",
        default=None,
        help="name of the task folder (default: from the env id, e.g. doorkey_8x8); "
        "only when the runs are of one task",
    )
    parser.add_argument(
        "--metric",
        default="charts/success",
        help="metrics.csv column whose AUC ranks trials (default charts/success)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="tie-break: frames until the smoothed metric reaches this (default 0.5)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        help="frames to score at (default: per task, the runs' most common total_frames)",
    )
    parser.add_argument(
        "--method",
        action="append",
        default=None,
        help="only this method (repeatable; default every method found)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the choices, write nothing")
    parser.add_argument(
        "--table",
        action="store_true",
        help="also print the tuning record as markdown (every trial's scores; extrinsic-only "
        "PPO's runs in runs_dir as the exploration reference)",
    )
    return parser


def main(argv: list[str] | None = None) -> list[Path]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.runs_dir.is_dir():
        parser.error(f"runs_dir={args.runs_dir}: not a directory")
    command = " ".join(
        shlex.quote(a) for a in ["curiosity-select", *(argv if argv is not None else sys.argv[1:])]
    )
    loaded = load_runs(args.runs_dir)[0]
    runs = tuning_runs(loaded)
    if args.method:
        runs = [r for r in runs if r.method in args.method]
    if not runs:
        parser.error(
            f"runs_dir={args.runs_dir}: no tuning runs (configs with method.tune.trial)"
            + (f" of method {', '.join(args.method)}" if args.method else "")
        )
    envs = sorted({r.env for r in runs})
    if args.task and len(envs) > 1:
        parser.error(f"--task={args.task}: the runs hold {len(envs)} tasks ({', '.join(envs)})")
    trials, budgets = score_trials(runs, args.metric, args.threshold, args.budget)
    written = []
    groups: dict[tuple, list[Trial]] = {}
    for t in trials:
        groups.setdefault((t.task, t.method), []).append(t)
    picks: dict[tuple, Trial] = {}
    for (task, method), group in sorted(groups.items()):
        try:
            chosen = best(group)
        except ValueError as err:
            print(f"skipped: {err}", file=sys.stderr)
            continue
        picks[(task, method)] = chosen
        slug = args.task or task_slug(chosen.runs[0].env)
        text = tuned_yaml(chosen, group, slug, args.metric, args.threshold, budgets[task], command)
        path = args.out_dir / slug / f"{method}.yaml"
        print(
            f"{method} on {slug}: trial {chosen.trial} {chosen.point} (AUC {chosen.auc:.4f}, "
            f"{sum(t.complete for t in group)}/{len(group)} complete trials"
            + ("" if separated(group) else "; the trials did not separate: defaults kept") + ")"
            + ("" if args.dry_run else f" -> {path}")
        )
        if not args.dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    if args.table:
        # a reference belongs to the task of the tuning runs on its env (its own labels could
        # name the task differently: they see only the keys that vary among the references)
        task_of_env: dict[str, set] = {}
        for t in trials:
            for r in t.runs:
                task_of_env.setdefault(r.env, set()).add(t.task)
        by_task: dict[str, list[Run]] = {}
        for r in reference_runs(loaded):
            tasks = task_of_env.get(r.env, set())
            if len(tasks) == 1:
                by_task.setdefault(next(iter(tasks)), []).append(r)
        print(record_table(groups, by_task, budgets, picks))
    return written


if __name__ == "__main__":
    main()
