"""``python -m analysis.report RUNS_DIR [--out DIR] [--metric M ...]``: the study's report.

Finds every run under RUNS_DIR, writes ``report.md``, ``figures/*.png`` and ``tables/*.csv``
into ``--out`` (default ``RUNS_DIR/report``). Broken, partial and unfinished runs never stop
it: they are skipped or cut at the common budget, and the report lists them.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import figures, tables
from analysis.checklist import build_checklist, provenance
from analysis.runs import (
    EPISODE_METRICS,
    EPISODES_COLUMN,
    VIEW_KEY,
    Labels,
    Run,
    Skipped,
    find_sweeps,
    flatten,
    label_runs,
    load_runs,
    predictor_view,
    tidy_table,
)
from analysis.scores import (
    FINAL_WINDOW,
    SMOOTH_ROWS,
    ScoreSpec,
    no_score_reason,
    score_table,
    task_budgets,
)
from analysis.stats import CONFIDENCE, N_RESAMPLES

# coverage twice: cells per episode separates methods on procedurally generated layouts,
# where the cumulative (x, y, dir) count saturates within ~100k frames for every method
DEFAULT_METRICS = ("charts/success", "charts/episode_return", "explore/cells_per_episode",
                   "explore/distinct_states_total")
OPTIONAL_METRICS = ("eval/success",)  # added when some run logged them


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        if np.isinf(v):
            return "never"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(v).replace("|", "\\|")


def md_table(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A GitHub-markdown table of ``df`` (numbers to 3 significant digits)."""
    if df is None or df.empty:
        return "_(none)_\n"
    cols = columns or list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _ci(row, name: str) -> str:
    v, lo, hi = row.get(name), row.get(f"{name}_low"), row.get(f"{name}_high")
    return f"{_fmt(v)} [{_fmt(lo)}, {_fmt(hi)}]"


def no_scores(runs: list[Run], labels: Labels, specs: list[ScoreSpec], budgets: dict) -> dict[str, list]:
    """Runs that reached their budget but have no value for some score: run name -> [(reason,
    [score labels])], the reasons from :func:`analysis.scores.no_score_reason` (e.g. every iteration
    of a smoke-test run inside the episode warm-up). Runs short of the budget are left out: the
    inventory already says they are not scored."""
    out: dict[str, list] = {}
    for r in runs:
        budget = budgets[labels.task[r.name]]
        if r.frames_reached < budget:
            continue
        by_reason: dict[str, list[str]] = {}
        for spec in specs:
            reason = no_score_reason(r, spec, budget)
            if reason is not None:
                by_reason.setdefault(reason, []).append(spec.label)
        if by_reason:
            out[r.name] = list(by_reason.items())
    return out


def no_score_lines(missing: dict[str, list]) -> str:
    """One markdown bullet per run and reason: ``run X: 2,048 frames (...), all inside the episode
    warm-up (...): no final charts/success, AUC charts/success``."""
    return "".join(f"- `{name}`: {reason}: no {', '.join(specs)}\n"
                   for name, items in missing.items() for reason, specs in items)


def inventory(runs: list[Run], labels: Labels, scores: pd.DataFrame, skipped: list[Skipped],
              primary: str | None = None) -> pd.DataFrame:
    """One row per run directory; ``primary``: the score column whose absence makes a run 'not scored'."""
    rows = []
    by_run = scores.set_index("run")
    for r in runs:
        s = by_run.loc[r.name]
        status = "finished" if r.finished else "unfinished"
        if not s["reached_budget"]:
            status += ", short of budget: not scored"
        else:
            if r.frames_reached > s["budget"]:
                status += f", cut at the budget ({int(s['budget']):,} frames)"
            if primary is not None and primary in s and np.isnan(float(s[primary])):
                status += ", no score (see 'Runs without a score')"
        rows.append({"run": r.name, "task": labels.task[r.name], "variant": labels.variant[r.name],
                     VIEW_KEY: predictor_view(r.config), "seed": r.seed,
                     "frames": r.frames_reached, "budget": int(s["budget"]),
                     "status": status, "wall_time_s": r.wall_time_s, "notes": "; ".join(r.notes) or "-"})
    for sk in skipped:
        rows.append({"run": sk.name, "task": "-", "variant": "-", VIEW_KEY: "-", "seed": None,
                     "frames": None, "budget": None, "status": "skipped", "wall_time_s": None,
                     "notes": sk.reason})
    columns = ["run", "task", "variant", VIEW_KEY, "seed", "frames", "budget", "status",
               "wall_time_s", "notes"]
    return pd.DataFrame(rows, columns=columns)


def config_by_variant(runs: list[Run], labels: Labels) -> pd.DataFrame:
    """The config keys that differ between runs: one row per key, one column per variant
    (its value, or 'a \\| b' where it varies inside the variant). The first row, ``view``, is
    derived and always shown: what each variant's method saw (:func:`predictor_view`), so a
    comparison on unmatched observations shows it at a glance."""
    keys = [VIEW_KEY,
            *sorted(set(labels.method_keys) | set(labels.ablation_keys) | set(labels.task_keys))]
    cols: dict[str, dict[str, set]] = {}
    for r in runs:
        flat = {**flatten(r.config), VIEW_KEY: predictor_view(r.config)}
        col = cols.setdefault(labels.variant[r.name], {k: set() for k in keys})
        for k in keys:
            col[k].add(str(flat.get(k)))
    return pd.DataFrame([{"key": k, **{v: " | ".join(sorted(cols[v][k])) for v in sorted(cols)}} for k in keys])


def config_common(runs: list[Run]) -> pd.DataFrame:
    flats = [flatten(r.config) for r in runs]
    keys = sorted(set().union(*flats))
    return pd.DataFrame([{"key": k, "value": flats[0].get(k)} for k in keys
                         if len({repr(f.get(k)) for f in flats}) == 1])


def warmup_text(runs: list[Run]) -> str:
    """One sentence for the report: how much of each run the episode warm-up rule left out."""
    counted = [r for r in runs if EPISODES_COLUMN in r.metrics and r.num_envs is not None]
    if not counted:
        return ("No run logged `charts/episodes`: the episode warm-up rule (see Definitions) could not be "
                "applied, so the first points of per-episode curves may read high.")
    iters = np.array([int(r.warmup.sum()) for r in counted])
    frames = np.array([float(r.metrics.loc[r.warmup, "frames"].max()) if r.warmup.any() else 0.0
                       for r in counted])
    text = (f"Per-episode metrics leave out each run's warm-up (see Definitions): median {np.median(iters):g} "
            f"iterations (range {iters.min()}-{iters.max()}), up to {_fmt(float(frames.max()))} frames.")
    missing = len(runs) - len(counted)
    return text + (f" {missing} run(s) without `charts/episodes` are drawn unfiltered." if missing else "")


class _NoFigures:
    """Stands in for the figures module when figures are switched off (every figure: None)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class Report:
    """Builds every table and figure, then writes report.md around them."""

    def __init__(self, root: Path, out: Path, metrics: list[str], threshold: float, solve_threshold: float,
                 aggregate: str, command: str, with_figures: bool = True):
        self.root, self.out = Path(root), Path(out)
        self.draw = figures if with_figures else _NoFigures()
        self.fig_dir, self.tab_dir = self.out / "figures", self.out / "tables"
        self.metrics, self.threshold, self.solve_threshold = metrics, threshold, solve_threshold
        self.aggregate, self.command = aggregate, command
        self.md: list[str] = []
        self.primary_score: str | None = None  # the score column a run needs to count as scored
        self.missing: dict[str, list] = {}  # runs at the budget with no value for some score, and why

    def rel(self, path: Path) -> str:
        return str(Path(path).relative_to(self.out))

    def table_csv(self, df: pd.DataFrame, name: str) -> str:
        self.tab_dir.mkdir(parents=True, exist_ok=True)
        path = self.tab_dir / f"{name}.csv"
        df.to_csv(path, index=False)
        return self.rel(path)

    def figure(self, path: Path | None, caption: str) -> None:
        if path is None:
            return
        self.md.append(f"![{caption}]({self.rel(path)})\n\n_{caption}_\n")

    def build(self) -> Path:
        t0 = time.time()
        self.out.mkdir(parents=True, exist_ok=True)
        # outputs of an earlier report here would outlive runs that are gone: start clean
        for stale in [*self.fig_dir.glob("*.png"), *self.tab_dir.glob("*.csv")]:
            stale.unlink()
        runs, skipped = load_runs(self.root)
        runs = [r for r in runs if not _inside(r.path, self.out)]
        self.md += [f"# Report: {self.root}\n",
                    f"Generated by `{self.command}` on {time.strftime('%Y-%m-%d %H:%M:%S')}.\n"]
        if not runs:
            self.md.append("No usable run was found.\n")
            self._runs_section([], None, pd.DataFrame(columns=["run", "reached_budget", "budget"]), skipped)
            return self._write()
        labels = label_runs(runs)
        budgets = task_budgets(runs, labels)
        present = {c for r in runs for c in r.metrics.columns}
        metrics = [m for m in self.metrics if m in present]
        metrics += [m for m in OPTIONAL_METRICS if m in present and m not in metrics]
        if not metrics:
            raise SystemExit(f"--metric {self.metrics}: none of these columns is in any metrics.csv")
        primary = metrics[0]
        finals = [ScoreSpec(m, "final") for m in metrics]
        auc = ScoreSpec(primary, "auc")
        reach = ScoreSpec(primary, "frames_to", self.threshold)
        specs = [*finals, auc, reach]
        scores = score_table(runs, labels, specs, budgets, self.solve_threshold)
        colors = figures.variant_colors(labels.variant.values())
        self.primary_score = finals[0].label
        self.missing = no_scores(runs, labels, specs, budgets)

        self._runs_section(runs, labels, scores, skipped)
        self._setup_section(runs, labels, budgets)
        self.table_csv(tidy_table(runs, labels), "tidy")
        self.table_csv(scores, "scores")
        self._results_section(runs, labels, budgets, scores, specs, finals[0], reach, colors, metrics)
        self._definitions(primary)
        self._checklist(runs, labels, budgets, scores, skipped)
        self.md.append(f"\n_Report built in {time.time() - t0:.0f} s._\n")
        return self._write()

    # ------------------------------------------------------------------ sections
    def _runs_section(self, runs, labels, scores, skipped) -> None:
        inv = inventory(runs, labels, scores, skipped, self.primary_score)
        self.table_csv(inv, "runs")
        reached = scores["reached_budget"].astype(bool)
        n_reached = int(reached.sum())
        if self.primary_score in scores.columns:  # reaching the budget is not enough: the score may be NaN
            reached &= scores[self.primary_score].astype(float).notna()
        n_scored = int(reached.sum())
        n_unfinished = sum(not r.finished for r in runs)
        self.md.append("## Runs\n")
        scored_text = ("and are scored" if n_scored == n_reached else
                       f"({n_scored} of them with a {self.primary_score} score)")
        self.md.append(f"{len(runs) + len(skipped)} run directories found under `{self.root}`: "
                       f"{len(runs)} loaded ({n_unfinished} unfinished), {len(skipped)} skipped; "
                       f"{n_reached} reached their task's frame budget {scored_text}.\n")
        problems = inv[(inv["status"] != "finished") | (inv["notes"] != "-")]
        if len(problems):
            self.md.append("Runs that were skipped, cut, not scored or repaired while loading:\n")
            self.md.append(md_table(problems, ["run", "status", "frames", "budget", "notes"]))
        if self.missing:
            self.md.append("### Runs without a score\n")
            self.md.append(f"{len(self.missing)} run(s) reached the budget but some scores could not be read "
                           "off their curves; the tables and figures leave those scores out:\n")
            self.md.append(no_score_lines(self.missing))
        self.md.append(f"Full inventory: `{self.rel(self.tab_dir / 'runs.csv')}`.\n")
        self.n_skipped, self.n_unscored, self.n_scored = len(skipped), len(runs) - n_scored, n_scored

    def _setup_section(self, runs, labels: Labels, budgets) -> None:
        self.md.append("## Setup\n")
        groups = pd.DataFrame([{"task": labels.task[r.name], "variant": labels.variant[r.name], "seed": r.seed}
                               for r in runs])
        summary = groups.groupby(["task", "variant"])["seed"].agg(
            seeds=lambda s: " ".join(str(v) for v in sorted(s)), n="count").reset_index()
        summary["budget (frames)"] = summary["task"].map(budgets)
        self.md.append(md_table(summary))
        differing = config_by_variant(runs, labels)
        self.md.append(f"Config keys that differ between variants (`{self.table_csv(differing, 'config_by_variant')}`); "
                       f"keys shared by every run: `{self.table_csv(config_common(runs), 'config_common')}`.\n")
        self.md.append(md_table(differing))

    def _results_section(self, runs, labels, budgets, scores, specs, final, reach, colors, metrics) -> None:
        self.md.append("## Results\n")
        self.md.append("### Learning curves\n")
        self.md.append(warmup_text(runs) + "\n")
        for m in metrics:
            path = self.draw.learning_curves(runs, labels, m, budgets, colors,
                                           self.fig_dir / f"curves_{_slug(m)}.png", self.aggregate)
            if path is None and self.draw is figures:
                self.md.append(f"_No curve of {m}: no run has a value of it to draw"
                               + (" after the episode warm-up" if m in EPISODE_METRICS else "") + "._\n")
            self.figure(path, f"Learning curves of {m}: {self.aggregate} over seeds with 95% bootstrap CI band; "
                              "thin lines are individual seeds.")

        self.md.append("### Scores per method\n")
        for spec in specs:
            summ = tables.summary_table(scores, spec)
            if summ.empty:
                continue
            name = self.table_csv(summ, f"summary_{spec.slug}")
            self.md.append(f"#### {spec.label}\n")
            if not (summ["n"] > 0).any():
                self.md.append(f"No run has a score for {spec.label} (see 'Runs without a score'). (`{name}`)\n")
                continue
            shown = summ.copy()
            for agg in ("mean", "median", "IQM"):
                shown[f"{agg} [95% CI]"] = [_ci(r, agg) for _, r in summ.iterrows()]
            cols = ["task", "variant", "n", "mean [95% CI]", "median [95% CI]", "IQM [95% CI]", "std", "worst",
                    "cv", "frac_solved"]
            self.md.append(md_table(shown, [c for c in cols if c in shown]))
            self.md.append(f"(`{name}`)\n")
            if spec == final:
                est = tables.estimates_long(summ)
                self.figure(self.draw.interval_plot(est, spec, colors, self.fig_dir / f"intervals_{spec.slug}.png"),
                            f"Final performance: median, IQM and mean of {spec.label} with 95% stratified "
                            "bootstrap CIs.")

        self.md.append("### Probability of improvement\n")
        matrix, pairs = tables.poi_tables(scores, final)
        self.table_csv(matrix.reset_index(names="X"), f"poi_matrix_{final.slug}")
        self.table_csv(pairs, f"poi_pairs_{final.slug}")
        if len(pairs) and not np.isfinite(pairs["P(X>Y)"].to_numpy(float)).any():
            self.md.append(f"No pair of variants can be compared: no run has a {final.label} score.\n")
        self.figure(self.draw.poi_matrix(matrix, final, self.fig_dir / f"poi_{final.slug}.png"),
                    f"P(X > Y) on {final.label}: the chance a random run of X beats a random run of Y.")
        self.md.append(md_table(pairs))

        self.md.append("### Performance profiles\n")
        prof, taus, xlabel = tables.profiles(scores, final)
        if not prof:
            self.md.append(f"No profile: no run has a score for {final.label}.\n")
        self.figure(self.draw.performance_profiles(prof, taus, xlabel, colors, self.fig_dir / f"profile_{final.slug}.png"),
                    "Performance profile: fraction of runs scoring above each threshold tau (higher curve = better), "
                    "with 95% stratified bootstrap bands.")

        self.md.append("### Seed brittleness\n")
        britt = tables.brittleness_table(scores, final, reach)
        self.table_csv(britt, "brittleness")
        self.md.append(f"Spread over seeds of {final.label} and of {reach.label}. Failed seeds: final success "
                       f"below {self.solve_threshold:g}; never reached: the threshold was not reached within "
                       "the budget.\n")
        self.md.append(md_table(britt))
        self.figure(self.draw.strip_plot(scores[scores["reached_budget"]], final, colors,
                                       self.fig_dir / f"seeds_{final.slug}.png"),
                    f"Every seed's {final.label}; hollow markers are seeds that did not solve the task.")
        self.figure(self.draw.strip_plot(scores[scores["reached_budget"]], reach, colors,
                                       self.fig_dir / f"seeds_{reach.slug}.png"),
                    f"Every seed's {reach.label} (seeds that never reached it are not drawn; see the table).")

        self.md.append("### Exploration\n")
        for path in self.draw.coverage_heatmaps(runs, labels, lambda t: self.fig_dir / f"coverage_{_slug(t)}.png") or []:
            self.figure(path, "Coverage: share of all visits per grid cell over the whole of training, "
                              "averaged over seeds (log colour scale; white cells were never visited).")
        self.figure(self.draw.intrinsic_reward(runs, labels, budgets, colors, self.fig_dir / "intrinsic_reward.png"),
                    "Intrinsic reward per step over training (raw and after normalization); methods without an "
                    "intrinsic reward are left out.")
        tv = self.draw.noisy_tv_panel(runs, labels, budgets, colors, self.fig_dir / "noisy_tv.png")
        if tv is not None:
            self.md.append("### Noisy TV\n")
            self.figure(tv, "Noisy TV: how often agents use the TV remote, have the TV in view, and how much of "
                            "their intrinsic reward comes from TV steps.")

    def _definitions(self, primary: str) -> None:
        self.md.append("## Definitions\n")
        self.md.append("\n".join([
            "- **Budget**: per task, the most common configured `total_frames` among its runs, rounded down to whole iterations (num_steps x num_envs frames) as the trainer does. Every score is "
            "read at the budget: longer runs are cut there; runs that stopped short (unfinished or configured "
            "shorter) are not scored, but their curves are drawn as far as they go.",
            f"- **final M**: mean of metric M over the logged iterations in the last {FINAL_WINDOW:.0%} of the "
            "budget's frames (for the cumulative `explore/distinct_states_total` and for held-out `eval/*` "
            "columns: the last value at or before the budget). `charts/success` is the fraction of training "
            "episodes ending in an iteration that reached the goal; final scores weight each iteration by the "
            "episodes it finished.",
            f"- **Episode warm-up** (per-episode metrics: {', '.join(f'`{m}`' for m in EPISODE_METRICS)}): "
            "in the first iterations the episodes that finish are the short ones (all envs start together "
            "and a failure only ends at the time limit), so success reads near 1 even for random actions. "
            "An iteration enters curves, AUC, frames-to-threshold and final scores only once the episodes "
            "finished in the iterations before it reach the run's number of parallel envs (each env has, on "
            "average, ended its first episode); no larger per-iteration minimum is imposed, since iterations "
            "with few finished episodes are the failing ones and dropping them would select again. Curves "
            f"are then an episode-weighted rolling mean over {SMOOTH_ROWS} iterations, drawn from the first "
            "full window; the tidy table keeps every row and marks these with `warmup`.",
            "- **No score**: a run that reached the budget has no value for a score when its curve holds "
            "nothing to read it from: the metric has no value (not logged, or no episode finished), or every "
            "iteration up to the budget is inside the episode warm-up (a smoke test of a few iterations). "
            "Such runs are named under 'Runs without a score' with the reason and left out of the statistics.",
            "- **AUC M**: the time-average of M over training (trapezoid rule over frames up to the budget); "
            "for per-episode metrics, of the drawn curve (after the warm-up, episode-weighted).",
            f"- **frames to M >= t**: first frame at which the (episode-weighted) rolling mean of M over {SMOOTH_ROWS} logged "
            f"iterations (a full window) reaches t (t = {self.threshold:g} for {primary}); seeds that never reach it count as "
            "the budget in means/CIs (a censored value: the truth is larger) and are listed as 'never reached'.",
            f"- **solved**: final `charts/success` >= {self.solve_threshold:g}; 'frac_solved' is the fraction of "
            "seeds that solved.",
            "- **mean / median / IQM**: over seeds (IQM = mean of the middle 50%, 25% trimmed each side); "
            "**std** with ddof = 1; **cv** = std / |mean|; **worst** = the worst seed.",
            f"- **95% CI**: percentile bootstrap ({N_RESAMPLES} resamples, fixed seed) over seeds; for "
            "aggregates over tasks, stratified: each task's runs are resampled on their own. Learning-curve "
            f"bands are pointwise bootstrap CIs of the {self.aggregate}. With few seeds (e.g. 3) these intervals "
            "are optimistic: a bootstrap cannot see variation it never sampled.",
            "- **P(X > Y)**: probability that a random run of X scores better than a random run of Y on the "
            "same task (ties count one half) = Mann-Whitney U / (n_X n_Y), averaged over tasks; 95% CI by "
            "stratified bootstrap; the two-sided Mann-Whitney p-value is given for single-task comparisons.",
            "- **Normalized scores** (aggregates over tasks, performance profiles): success rates as they are; "
            "frames-to-threshold as a fraction of the budget; other metrics (score - random agent mean) / "
            "(best run - random agent mean), with the worst run in place of the random agent on tasks without one.",
            "- **Performance profile**: for each tau, the fraction of runs (averaged over tasks) whose normalized "
            "score exceeds tau (Agarwal et al. 2021).",
            f"- Confidence level {CONFIDENCE:.0%}. Statistics: scipy (`scipy.stats.bootstrap`, `trim_mean`, "
            "`mannwhitneyu`).",
        ]) + "\n")

    def _checklist(self, runs, labels, budgets, scores, skipped) -> None:
        ctx = {"budgets": budgets, "sweeps": find_sweeps(self.root), "n_skipped": self.n_skipped, "n_unscored": self.n_unscored,
               "n_scored": self.n_scored, "report_command": self.command}
        items = build_checklist(runs, labels, ctx)
        self.table_csv(pd.DataFrame([vars(i) for i in items]), "checklist")
        self.md.append("## Reproducibility checklist (Pineau, ML Reproducibility Checklist v2.0)\n")
        section = None
        for item in items:
            if item.section != section:
                section = item.section
                self.md.append(f"\n**{section}**\n")
            box = "x" if item.status == "filled" else " "
            self.md.append(f"- [{box}] {item.text} _({item.status})_ {item.answer}")
        open_items = [i for i in items if i.status != "filled"]
        self.md.append(f"\n**Open or partly open items ({len(open_items)})**, for the authors: "
                       + "; ".join(i.text for i in open_items) + "\n")

        prov = provenance(runs)
        self.md.append("## Provenance and commands\n")
        self.md.append("Git commits at run time: " + ", ".join(f"`{c[:12]}` ({n} runs)" for c, n in prov["commits"].items())
                       + (f". **Dirty working tree** in {len(prov['dirty'])} run(s): {', '.join(prov['dirty'][:10])}"
                          + (", ..." if len(prov["dirty"]) > 10 else "") + " (their code is not exactly the commit)."
                          if prov["dirty"] else ". No run had uncommitted changes.")
                       + (f" No provenance recorded for: {', '.join(prov['unknown'])}." if prov["unknown"] else "")
                       + "\n")
        self.md.append(f"Reproduce this report's tables and figures:\n\n```\n{self.command}\n```\n")
        launched = prov["launched_by"]
        self.md.append(f"The runs were launched by ({len(launched)} distinct command lines):\n\n```\n"
                       + "\n".join(launched[:20]) + ("\n..." if len(launched) > 20 else "") + "\n```\n")
        commands = sorted(set(prov["commands"].values()))
        self.md.append(f"Each run alone ({len(commands)} commands; per run: "
                       f"`{self.rel(self.tab_dir / 'commands.csv')}`):\n\n```\n" + "\n".join(commands[:50])
                       + ("\n..." if len(commands) > 50 else "") + "\n```\n")
        self.table_csv(pd.DataFrame([{"run": k, "command": v} for k, v in sorted(prov["commands"].items())]),
                       "commands")

    def _write(self) -> Path:
        path = self.out / "report.md"
        path.write_text("\n".join(self.md))
        return path


def _inside(path: Path, parent: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(parent).resolve())
        return True
    except ValueError:
        return False


def _prog_name() -> str:
    """``curiosity-report`` when run as that console script, else ``python -m analysis.report``
    (analysis imports nothing from the training code, so not curiosity.tools.cli's helper)."""
    invoked = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return invoked if invoked.startswith("curiosity-") else "python -m analysis.report"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=_prog_name(), description=__doc__.splitlines()[0])
    parser.add_argument("runs_dir", type=Path, help="folder holding run directories (searched recursively)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default RUNS_DIR/report)")
    parser.add_argument("--metric", action="append", default=None,
                        help="metrics.csv column to score (repeatable; the first drives the comparison figures; "
                             f"default {' '.join(DEFAULT_METRICS)})")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="frames-to-threshold level of the first metric (default 0.5)")
    parser.add_argument("--solve-threshold", type=float, default=0.5,
                        help="a seed 'solves' a task when its final charts/success is at least this (default 0.5)")
    parser.add_argument("--no-figures", action="store_true", help="tables and report.md only (fast)")
    parser.add_argument("--aggregate", choices=["IQM", "mean", "median"], default="IQM",
                        help="learning-curve aggregate over seeds (default IQM)")
    return parser


def main(argv: list[str] | None = None) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.runs_dir.is_dir():
        parser.error(f"runs_dir={args.runs_dir}: not a directory")
    out = args.out or args.runs_dir / "report"
    command = " ".join(shlex.quote(a) for a in ["python", "-m", "analysis.report", *(argv if argv is not None else sys.argv[1:])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty slices of unfinished runs are expected
        path = Report(args.runs_dir, out, args.metric or list(DEFAULT_METRICS), args.threshold,
                      args.solve_threshold, args.aggregate, command, not args.no_figures).build()
    print(f"report: {path}")
    return path


if __name__ == "__main__":
    main()
