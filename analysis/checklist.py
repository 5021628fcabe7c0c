"""Pineau's Machine Learning Reproducibility Checklist (v2.0, 2020), filled in from the runs.

Only what the run directories record is filled in; every item they cannot answer is marked
``open`` for the authors, never guessed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from analysis.runs import Labels, Run, flatten

FILLED, OPEN, PARTIAL = "filled", "open", "partly filled"


@dataclass
class Item:
    section: str
    text: str  # the checklist's wording
    status: str  # filled | partly filled | open
    answer: str


def _counts(values) -> str:
    return ", ".join(f"{v} ({n})" if n > 1 else str(v) for v, n in sorted(Counter(values).items(), key=str))


def _common_config(runs: list[Run]) -> dict:
    flats = [flatten(r.config) for r in runs]
    keys = sorted(set().union(*flats)) if flats else []
    return {k: flats[0].get(k) for k in keys if len({repr(f.get(k)) for f in flats}) == 1}


def _tune(run: Run) -> dict | None:
    tune = (run.config.get("method") or {}).get("tune")
    return tune if isinstance(tune, dict) else None


def _space_text(space: dict | None) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in (space or {}).items()) + "}"


def tuning_record(runs: list[Run]) -> tuple[str, bool]:
    """What the runs' ``method.tune`` records say about tuning (docs/fair_protocol.md), and
    whether every method with an intrinsic module has one.

    Tuning trials (``conf/experiment/tune.yaml``) record the space, the budget ``trials`` and
    their ``trial`` id; runs of a tuned method (``method=tuned/<task>/<method>``, written by
    ``curiosity-select``) record the space, the budget and the ``selected`` trial with the rule.
    """
    trials: dict[str, dict] = {}
    selected: dict[str, dict] = {}
    untuned = set()
    for r in runs:
        tune = _tune(r)
        has_module = (r.config.get("method") or {}).get("module") is not None
        if tune and tune.get("trial") is not None:
            rec = trials.setdefault(r.method, {"space": tune.get("space"), "budget": set(),
                                               "ids": set(), "seeds": set(), "envs": set()})
            rec["budget"].add(tune.get("trials"))
            rec["ids"].add(tune.get("trial"))
            rec["seeds"].add(r.seed)
            rec["envs"].add(r.env)
        elif tune and tune.get("selected"):
            selected.setdefault(r.method, {**tune["selected"], "space": tune.get("space"),
                                           "trials": tune.get("trials")})
        elif has_module:
            untuned.add(r.method)
    parts = []
    if trials:
        budgets = sorted({b for rec in trials.values() for b in rec["budget"]}, key=str)
        equal = " for every method" if len(budgets) == 1 else ", NOT equal"
        per_method = "; ".join(
            f"{m}: {len(rec['ids'])} trial(s) run on {', '.join(sorted(rec['envs']))}, "
            f"seeds {_counts(sorted(rec['seeds']))}, space {_space_text(rec['space'])}"
            for m, rec in sorted(trials.items()))
        parts.append(
            "Tuning trials in these runs (conf/experiment/tune.yaml; equal budget: "
            f"method.tune.trials = {'/'.join(map(str, budgets))}{equal}): {per_method}. "
            "Selection: `curiosity-select` (highest mean AUC of charts/success over the tuning "
            "seeds; ties: fewer frames to the threshold, then the lower trial id).")
    if selected:
        per_method = "; ".join(
            f"{m}: trial {s.get('trial')} {s.get('point')} of {s.get('trials_run')} run "
            f"(method.tune.trials={s.get('trials')}) over {_space_text(s.get('space'))} "
            f"on {s.get('task')}, seeds {' '.join(map(str, s.get('seeds') or []))}, "
            f"mean AUC {s.get('auc')}; rule: {s.get('rule')}"
            for m, s in sorted(selected.items()))
        parts.append("Tuned methods (method=tuned/<task>/<method>, selected by curiosity-select): "
                     f"{per_method}.")
    if untuned:
        parts.append("Not tuned here (each method's configured values, conf/method/<name>.yaml): "
                     + ", ".join(sorted(untuned)) + ".")
    if not parts:
        return "How hyperparameters were selected is open (no tuning record in the runs).", False
    return " ".join(parts), not untuned


def build_checklist(runs: list[Run], labels: Labels, ctx: dict) -> list[Item]:
    """``ctx`` carries what the report knows: commands, definitions, budgets, output paths."""
    items: list[Item] = []

    def add(section, text, status, answer):
        items.append(Item(section, text, status, answer))

    infos = [r.run_info for r in runs if r.run_info]
    sec = "Models and algorithms"
    methods = sorted({r.method for r in runs})
    targets = sorted({str(flatten(r.config).get("method.module._target_")) for r in runs
                      if flatten(r.config).get("method.module._target_")})
    add(sec, "A clear description of the mathematical setting, algorithm, and/or model.", PARTIAL,
        f"PPO with an intrinsic-reward module per method ({', '.join(methods)}; modules: "
        f"{', '.join(targets) or 'none'}); the code and docs/design.md describe them, the write-up is open.")
    add(sec, "A clear explanation of any assumptions.", OPEN, "Not recorded in the runs.")
    add(sec, "An analysis of the complexity (time, space, sample size) of any algorithm.", PARTIAL,
        "Sample size: frame budgets per task "
        + ", ".join(f"{t}: {b:,}" for t, b in ctx["budgets"].items())
        + "; measured wall clock below. An analytic complexity analysis is open.")

    sec = "Theoretical claims"
    add(sec, "A clear statement of the claim.", OPEN, "No theoretical claim is made by the runs.")
    add(sec, "A complete proof of the claim.", OPEN, "No theoretical claim is made by the runs.")

    sec = "Datasets (here: simulation environments)"
    envs = sorted({r.env for r in runs})
    minigrid = _counts(i.get("packages", {}).get("minigrid") for i in infos) or "not recorded"
    add(sec, "The relevant statistics, such as number of examples.", FILLED,
        f"Environments: {', '.join(envs)}; frames per run: {_counts(r.frames_reached for r in runs)}; "
        "agents generate their own data, there is no fixed dataset.")
    levels = _counts(flatten(r.config).get("env.train_levels", 0) for r in runs)
    has_eval = any(any(c.startswith("eval/") for c in r.metrics.columns) for r in runs)
    add(sec, "The details of train / validation / test splits.", FILLED if has_eval else PARTIAL,
        f"env.train_levels per run: {levels} (0 = a fresh procedurally generated layout each episode). "
        + ("Held-out evaluation (eval.csv) is present." if has_eval else
           "No held-out evaluation in these runs: scores are from training episodes."))
    add(sec, "An explanation of any data that were excluded, and all pre-processing step.", FILLED,
        f"{ctx['n_skipped']} run director(ies) skipped and {ctx['n_unscored']} run(s) not scored "
        "(see 'Runs' above, with reasons). Observations: MiniGrid symbolic grids, one-hot encoded "
        "(docs/design.md).")
    add(sec, "A link to a downloadable version of the dataset or simulation environment.", PARTIAL,
        f"minigrid package version(s): {minigrid} (PyPI package `minigrid`); a URL is for the authors.")
    add(sec, "For new data collected, a complete description of the data collection process.", FILLED,
        "Not applicable: no human-collected data.")

    sec = "Shared code"
    pkgs: dict[str, set] = {}
    for info in infos:
        for k, v in (info.get("packages") or {}).items():
            pkgs.setdefault(k, set()).add(str(v))
    pythons = _counts(i.get("python") for i in infos)
    add(sec, "Specification of dependencies.", FILLED if infos else OPEN,
        (f"Python {pythons}; " + ", ".join(f"{k} {'/'.join(sorted(v))}" for k, v in sorted(pkgs.items()))
         + "; declared in pyproject.toml.") if infos else "No run_info.json in the runs.")
    add(sec, "Training code.", FILLED, "`curiosity/` (entry point `python -m curiosity.train`).")
    add(sec, "Evaluation code.", FILLED, "`analysis/` (this report: `python -m analysis.report`)"
        + ("; held-out evaluation `curiosity/run/evaluation.py`." if has_eval else "."))
    ckpts = sum((r.path / "checkpoints").is_dir() for r in runs)
    add(sec, "(Pre-)trained model(s).", FILLED if ckpts else OPEN,
        f"{ckpts} of {len(runs)} runs hold a checkpoint in RUN/checkpoints/ (not published anywhere)."
        if ckpts else "No checkpoints in the run directories.")
    add(sec, "README file includes table of results accompanied by precise command to run to produce those results.",
        PARTIAL, f"This report's tables come with the command that made them: `{ctx['report_command']}`; "
        "each run's training command is under 'Provenance and commands' below. The README table is for the authors.")

    sec = "Experimental results"
    flat_all = _common_config(runs)
    differing = {k: v for k, v in labels.method_keys.items()}
    hp_lines = [f"shared by every run: {len(flat_all)} keys (tables/config_common.csv)"]
    if differing:
        hp_lines.append("differ between methods: " + "; ".join(
            f"{k} = " + ", ".join(f"{m}: {v}" for m, v in sorted(vals.items())) for k, vals in differing.items()))
    if labels.ablation_keys:
        hp_lines.append("swept (ablations): " + ", ".join(labels.ablation_keys))
    if labels.task_keys:
        hp_lines.append("env options varied: " + ", ".join(labels.task_keys))
    for sweep in ctx.get("sweeps", []):
        params = ", ".join(f"{k}: {v}" for k, v in sweep["params"].items())
        hp_lines.append(f"Hydra sweep `{sweep['path']}` over {{{params}}} with {' '.join(sweep['overrides'])} "
                        f"({sweep['launcher']}, n_jobs={sweep['n_jobs']})")
    tuning, tuned_all = tuning_record(runs)
    add(sec, "The range of hyper-parameters considered, method to select the best hyper-parameter "
        "configuration, and specification of all hyper-parameters used to generate results.",
        FILLED if tuned_all else PARTIAL,
        "; ".join(hp_lines) + ". Resolved configs: RUN/config.yaml. " + tuning)
    per_group = Counter((labels.task[r.name], labels.variant[r.name]) for r in runs)
    seeds = _counts(r.seed for r in runs)
    add(sec, "The exact number of training and evaluation runs.", FILLED,
        f"{len(runs)} training runs loaded ({ctx['n_scored']} scored at the budget); runs per (task, variant): "
        + "; ".join(f"{t} / {v}: {n}" for (t, v), n in sorted(per_group.items())) + f". Seeds: {seeds}."
        + (" Held-out evaluation episodes per evaluation: "
           + _counts(flatten(r.config).get("eval.episodes") for r in runs) if has_eval else ""))
    add(sec, "A clear definition of the specific measure or statistics used to report results.", FILLED,
        "See 'Definitions' above.")
    add(sec, "A description of results with central tendency (e.g. mean) & variation (e.g. error bars).", FILLED,
        "Mean, median and IQM with 95% stratified percentile-bootstrap CIs over seeds; std, CV, worst seed; "
        "see the tables and 'Definitions'.")
    walls = np.array([r.wall_time_s for r in runs if r.wall_time_s is not None], float)
    if len(walls):
        per_method = {}
        for r in runs:
            if r.wall_time_s is not None:
                per_method.setdefault(labels.variant[r.name], []).append(r.wall_time_s)
        answer = (f"wall clock per run: mean {walls.mean():.0f} s (min {walls.min():.0f}, max {walls.max():.0f}); "
                  f"total {walls.sum() / 3600:.2f} h over {len(walls)} runs; per variant: "
                  + ", ".join(f"{v} {np.mean(w):.0f} s" for v, w in sorted(per_method.items()))
                  + ". Energy cost: open.")
        add(sec, "The average runtime for each result, or estimated energy cost.", FILLED, answer)
    else:
        add(sec, "The average runtime for each result, or estimated energy cost.", OPEN, "No timings recorded.")
    if infos:
        cpus = _counts(f"{i.get('cpu')} x{i.get('cpu_count')}" for i in infos)
        gpus = _counts(i.get("gpu") or "none" for i in infos)
        devices = _counts(i.get("device") for i in infos)
        threads = _counts(i.get("torch_threads") for i in infos)
        hosts = _counts(i.get("hostname") for i in infos)
        add(sec, "A description of the computing infrastructure used.", FILLED,
            f"CPU: {cpus}; GPU: {gpus}; device: {devices}; torch threads: {threads}; hosts: {hosts}. "
            "Runs may have shared the machine (see the launcher in the commands).")
    else:
        add(sec, "A description of the computing infrastructure used.", OPEN, "No run_info.json in the runs.")
    return items


def provenance(runs: list[Run]) -> dict:
    """Git commits, dirty flags and commands recorded at run time."""
    infos = [(r.name, r.run_info) for r in runs]
    return {
        "commits": Counter(str(i.get("git_commit")) for _, i in infos if i),
        "dirty": [n for n, i in infos if i and i.get("git_dirty")],
        "unknown": [n for n, i in infos if not i],
        "commands": {r.name: r.rerun_command for r in runs if r.rerun_command},
        "launched_by": sorted({i.get("command") for _, i in infos if i and i.get("command")}),
    }
