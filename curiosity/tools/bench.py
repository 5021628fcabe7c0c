"""`make bench`: every method's training speed on the comparison's task, against SB3's PPO.

For each method with a ``conf/method/*.yaml`` (its own defaults: view, predictor, schedule),
on MiniGrid-MultiRoom-N4-S5 with 16 envs, one thread per process and ``--jobs`` processes
side by side (one per core: how the sweeps run), it trains real iterations and reports:

- SPS (env frames per wall second), the median over ``--repeats`` measurements taken in
  turn (every method's repeats spread over the whole run, so the load hits all alike);
- ``sps_vs_sb3``: the ratio to Stable-Baselines3's PPO (MiniGrid's documented CNN, the same
  envs and steps per rollout, 4 epochs of 4 minibatches: the reference setting, fixed while
  this project's own PPO settings may change) timed in the same run and the same way
  (``--peer``, on when the ``sb3`` extra is installed), also taken round by round
  (``sps_vs_sb3_rounds``: the median of each round's ratio, which load drifting over a run
  does not move), and the issue-29 target per method (``target``, ``meets``, judged on the
  per-round ratio: none >= 1.5, forward_transformer >= 0.5, every other learning method >= 1.0);
- the time split per iteration: env / inference (+ storage writes) / intrinsic scoring /
  intrinsic training / PPO update (bootstrap values, GAE and the epochs);
- the learner's achieved GFLOP/s (FLOPs counted by ``torch.utils.flop_counter`` on the first,
  untimed iteration, divided by the non-env time) against an fp32 matmul peak measured with
  the same thread count;
- the raw env step rate of each backend (random actions, no learner);
- ``cpu_sps`` (frames per CPU-second of the process) and ``cpu_share``: on cores shared with
  other jobs wall-clock SPS measures the load as much as the code, and these two say which.

Results print as a table (``--markdown`` as a Markdown table) and go to a CSV (``--out``,
medians) with every single measurement beside it (``*_repeats.csv``).

    python -m curiosity.tools.bench                       # every method, 3 repeats, 1 job per core
    python -m curiosity.tools.bench --methods none,forward_conv --repeats 5
    python -m curiosity.tools.bench --jobs 1 --backends python envpool env=doorkey_8x8
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import multiprocessing
import os
import platform
import socket
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from curiosity import paths
from curiosity.config import compose_config, validate
from curiosity.envs import make_vector_env
from curiosity.run.run_info import _cpu_model
from curiosity.tools.sb3_peer import sb3_available, sb3_ppo_sps
from curiosity.trainer import Trainer

ENV = "multiroom_n4_s5"  # the comparison's task (fair_multiroom, multiroom_300k)
BASELINE_METHOD = "none"  # SPS ratios are relative to extrinsic-only PPO
PEER_METHOD = "sb3_ppo"  # Stable-Baselines3's PPO, timed in the same run (--peer)
# reported time split per iteration (the trainer's timers; storage writes count as inference)
SPLIT = ("env", "inference", "intrinsic_score", "intrinsic_train", "update")
# issue 29's targets: SPS ratio to SB3's PPO measured in the same run (no target: random)
TARGETS = {"none": 1.5, "forward_transformer": 0.5}
DEFAULT_TARGET = 1.0
NO_TARGET = ("random",)


def target_ratio(method: str) -> float:
    """The SPS ratio to SB3's PPO this method should reach (NaN: no target)."""
    if method in NO_TARGET or method == PEER_METHOD:
        return float("nan")
    return TARGETS.get(method, DEFAULT_TARGET)


def available_methods() -> list[str]:
    """Every method with a config file, the baseline first."""
    names = paths.method_names()
    return sorted(names, key=lambda n: n != BASELINE_METHOD)


def compose_bench_config(method: str, backend: str, num_envs: int, torch_threads: int, extra=()):
    """The config a `make bench` run trains with: the CLI's composition plus bench overrides
    (an ``env=`` among ``extra`` replaces the default task)."""
    task = [] if any(o.startswith("env=") for o in extra) else [f"env={ENV}"]
    if method == BASELINE_METHOD:  # method.* overrides size the measured methods (e.g.
        extra = [o for o in extra if not o.lstrip("+~").startswith("method.")]  # num_heads), not none
    cfg = compose_config([
        *task, f"method={method}", f"env.backend={backend}", f"env.num_envs={num_envs}",
        f"torch_threads={torch_threads}", "total_frames=100000000", "resume=false",
        "logger.wandb_mode=disabled", "logger.progress=false", "logger.checkpoint_every=0",
        "logger.visitation_every=0", *extra,
    ])
    validate(cfg)
    return cfg


def matmul_peak_gflops(threads: int, n: int = 1024, repeats: int = 5) -> float:
    """Best fp32 GFLOP/s of an n x n matmul with ``threads`` torch threads (the learner's setting)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    torch.set_num_threads(previous)
    return 2 * n**3 / best / 1e9


def raw_env_sps(cfg, steps: int) -> tuple[float, str]:
    """Env frames per second under uniform random actions, and the backend actually used."""
    envs = make_vector_env(cfg.env, cfg.seed)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, envs.summary.num_actions, size=(steps, envs.num_envs))
    envs.reset()
    start = time.perf_counter()
    for a in actions:
        envs.step(a)
    elapsed = time.perf_counter() - start
    backend = envs.backend
    envs.close()
    return steps * envs.num_envs / elapsed, backend


def bench_method(cfg, iterations: int) -> dict:
    """Train ``iterations`` timed iterations after one FLOP-counted one; return the row."""
    with tempfile.TemporaryDirectory(prefix="bench_") as run_dir:
        trainer = Trainer(cfg, Path(run_dir))
        try:
            with FlopCounterMode(display=False) as counter:
                trainer.train(max_iterations=1)
            timers = dict.fromkeys(SPLIT, 0.0)
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(iterations):
                row = trainer.train(max_iterations=1)
                for key, value in row.items():
                    if key.startswith("time/") and key not in ("time/sps", "time/elapsed"):
                        name = key[len("time/"):]
                        name = "inference" if name == "storage" else name  # written beside inference
                        timers[name] = timers.get(name, 0.0) + value
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            frames = iterations * trainer.batch_size
            backend_used = trainer.envs.backend
        finally:
            trainer.close()
    gflop = counter.get_total_flops() / 1e9
    learner_s = max(wall - timers["env"], 1e-9) / iterations
    out = {"backend_used": backend_used, "sps": frames / wall, "iteration_s": wall / iterations,
           # on shared cores wall time includes waiting: frames per CPU-second of this process
           # is the rate it would reach with its cores to itself; cpu_share says how much it got
           "cpu_sps": frames / max(cpu, 1e-9), "cpu_share": cpu / wall,
           "gflop_per_iteration": gflop, "learner_gflops": gflop / learner_s}
    out.update({f"{k}_s": v / iterations for k, v in timers.items()})
    out["env_fraction"] = timers["env"] / wall
    return out


def machine_info(torch_threads: int) -> dict:
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": socket.gethostname(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch_threads or torch.get_num_threads(),  # 0 = torch's default
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        "python": platform.python_version(),
    }


# the yardstick: SB3's PPO at issue 29's reference setting (4 epochs of 4 minibatches), whatever
# this project's own agent.update_epochs / num_minibatches are, so changing ours moves our rate only
PEER_EPOCHS, PEER_MINIBATCHES = 4, 4


def peer_row(iterations: int, num_envs: int, torch_threads: int, extra=()) -> dict:
    """Stable-Baselines3's PPO on this project's env, envs and steps per rollout, at the
    reference epochs and minibatches (``PEER_EPOCHS``, ``PEER_MINIBATCHES``)."""
    cfg = compose_bench_config(BASELINE_METHOD, "python", num_envs, torch_threads, extra)
    a = cfg.agent
    row = {"method": PEER_METHOD, "backend": "python", "backend_used": "python (SB3 DummyVecEnv)"}
    try:
        row.update(sb3_ppo_sps(cfg.env.id, num_envs, a.num_steps, PEER_EPOCHS, PEER_MINIBATCHES,
                               iterations))
    except Exception as err:  # the peer must not hide the project's numbers
        row["error"] = f"{type(err).__name__}: {err}".splitlines()[0]
    return row


def measure(task: dict) -> dict:
    """One measurement (a method on a backend, or the SB3 peer): the row, errors included.

    Runs in a worker process when ``--jobs`` > 1; sets its own torch threads first (a worker
    starts with torch's default, one thread per core, which would oversubscribe the cores)."""
    threads = task["torch_threads"]
    if threads:
        torch.set_num_threads(threads)
    base = {"method": task["method"], "backend": task["backend"], "repeat": task["repeat"]}
    if task["method"] == PEER_METHOD:
        return {**peer_row(task["iterations"], task["num_envs"], threads, task["extra"]), **base}
    row = dict(base)
    try:
        cfg = compose_bench_config(task["method"], task["backend"], task["num_envs"], threads, task["extra"])
        row.update(bench_method(cfg, task["iterations"]))
    except Exception as err:  # one broken method must not hide the others' numbers
        row["error"] = f"{type(err).__name__}: {err}".splitlines()[0]
        logging.getLogger(__name__).debug(traceback.format_exc())
    return row


def _worker_init(threads: int) -> None:
    """A bench worker: one process per core, ``threads`` torch threads (OpenMP included)."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


def run_tasks(tasks: list[dict], jobs: int, torch_threads: int) -> list[dict]:
    """Every measurement, ``jobs`` at a time in spawned worker processes of ``torch_threads``
    threads each (1: one at a time, in this process); a new Trainer per measurement."""
    def show(row):
        what = f"{row['sps']:8,.0f} SPS" if "sps" in row and pd.notna(row.get("sps")) else row.get("error")
        print(f"  {row['method']:>20s} {row['backend']:>8s} #{row['repeat'] + 1}: {what}", flush=True)
        return row

    if jobs <= 1:
        return [show(measure(task)) for task in tasks]
    # spawn: a forked child would inherit this process's torch thread pool and env state
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                                                initargs=(torch_threads,)) as pool:
        futures = [pool.submit(measure, task) for task in tasks]
        return [show(f.result()) for f in futures]


def summarize(single: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, backend): the median of every number over the repeats, the SPS
    range, the ratios to extrinsic-only PPO and to SB3's PPO (medians against medians), and
    the target."""
    single = single.copy()
    if "sps" not in single:
        single["sps"] = np.nan
    keys = ["method", "backend"]
    numeric = [c for c in single.columns if c not in keys and c != "repeat"
               and pd.api.types.is_numeric_dtype(single[c])]
    grouped = single.groupby(keys, sort=False)
    table = grouped[numeric].median().reset_index()
    table["sps_min"] = grouped["sps"].min().to_numpy()
    table["sps_max"] = grouped["sps"].max().to_numpy()
    table["repeats"] = grouped["sps"].count().to_numpy()
    for col in ("backend_used", "error"):
        if col in single:  # the last non-empty text of the repeats (an error in any repeat shows)
            table[col] = grouped[col].agg(lambda v: next((x for x in v[::-1] if isinstance(x, str)), np.nan)
                                          ).to_numpy()
    base = table[table.method == BASELINE_METHOD].set_index("backend")["sps"]
    table["sps_vs_none"] = table.sps / table.backend.map(base)
    peer_sps = table.loc[table.method == PEER_METHOD, "sps"]
    # every row against SB3's PPO measured in this same run (the issue's target ratios)
    table["sps_vs_sb3"] = table.sps / (peer_sps.iloc[0] if len(peer_sps) else np.nan)
    # the same ratio taken within each round (against the peer measured minutes apart, not
    # across the run), then the median: load that drifts over a run cancels
    peer_by_round = single[single.method == PEER_METHOD].set_index("repeat")["sps"]
    ratios = single.assign(ratio=single.sps / single["repeat"].map(peer_by_round))
    table["sps_vs_sb3_rounds"] = table.set_index(keys).index.map(
        ratios.groupby(keys, sort=False)["ratio"].median()).to_numpy()
    table["target"] = table.method.map(target_ratio)
    table["meets"] = np.where(table.target.isna() | table.sps_vs_sb3_rounds.isna(), "",
                              np.where(table.sps_vs_sb3_rounds >= table.target, "yes", "no"))
    return table


def run_bench(methods, backends, iterations: int, num_envs: int, torch_threads: int,
              env_steps: int, extra=(), peer: bool = False, repeats: int = 1,
              jobs: int = 1) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """One bench run: peak, raw env rates, then ``repeats`` rounds of every (method, backend)
    and the SB3 peer; returns the medians, the machine and every single measurement."""
    machine = machine_info(torch_threads)
    machine["matmul_peak_gflops"] = matmul_peak_gflops(torch_threads)
    machine["jobs"] = jobs
    raw = {}
    for backend in backends:
        cfg = compose_bench_config(BASELINE_METHOD, backend, num_envs, torch_threads, extra)
        raw[backend] = raw_env_sps(cfg, env_steps)
        print(f"raw env step rate, {backend} (used {raw[backend][1]}): {raw[backend][0]:,.0f} steps/s")
    common = {"iterations": iterations, "num_envs": num_envs, "torch_threads": torch_threads,
              "extra": list(extra)}
    tasks = []
    for repeat in range(repeats):  # rounds: each method's repeats spread over the whole run
        tasks += [{"method": m, "backend": b, "repeat": repeat, **common} for m in methods for b in backends]
        if peer:
            tasks.append({"method": PEER_METHOD, "backend": "python", "repeat": repeat, **common})
    single = pd.DataFrame(run_tasks(tasks, jobs, torch_threads))
    table = summarize(single)
    table["raw_env_sps"] = table.backend.map({b: v[0] for b, v in raw.items()})
    table["peak_fraction"] = table.get("learner_gflops", np.nan) / machine["matmul_peak_gflops"]
    machine["load_avg_1m_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for key in ("date", "cpu", "cores", "torch_threads", "matmul_peak_gflops", "jobs"):
        table[key] = machine[key]
    table["num_envs"], table["iterations"] = num_envs, iterations
    return table, machine, single


COLUMNS = ["method", "backend", "backend_used", "sps", "sps_min", "sps_max", "sps_vs_sb3", "sps_vs_sb3_rounds",
           "target", "meets",
           "sps_vs_none", "cpu_sps", "cpu_share", *[f"{k}_s" for k in SPLIT],
           "learner_gflops", "peak_fraction", "raw_env_sps", "error"]


def format_table(table: pd.DataFrame) -> str:
    shown = table[[c for c in COLUMNS if c in table]]
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}",
                           na_rep="-")


def markdown_table(table: pd.DataFrame) -> str:
    """The docs' table: SPS (range), ratio to SB3 and target, and the time split."""
    head = ["method", "backend", "SPS (min-max)", "vs SB3", "vs SB3 by round", "target", "env s", "inference s",
            "int. score s", "int. train s", "PPO update s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    fmt = lambda v, spec: "-" if pd.isna(v) else format(v, spec)  # noqa: E731
    for _, r in table.iterrows():
        target = "" if pd.isna(r.get("target")) else f">= {r.target:g} ({r.meets})"
        sps = (f"{r.sps:,.0f} ({r.sps_min:,.0f}-{r.sps_max:,.0f})" if pd.notna(r.get("sps"))
               else f"error: {r.get('error')}")
        cells = [r.method, r.backend, sps, fmt(r.get("sps_vs_sb3"), ".2f"), fmt(r.get("sps_vs_sb3_rounds"), ".2f"),
                 target,
                 *[fmt(r.get(f"{k}_s"), ".3f") for k in SPLIT]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


BACKENDS = ("python", "envpool")


def parse_names(values: list[str] | None, known, option: str) -> list[str] | None:
    """``--methods none,rnd`` and ``--methods none rnd`` (and mixes) as one list of names.

    Raises ValueError naming the first unknown name and the known ones (an unknown name
    would otherwise reach Hydra's composer as a sweep value and fail there, far from here).
    """
    if values is None:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    if not names:
        raise ValueError(f"{option}: no names given")
    unknown = [n for n in names if n not in known]
    if unknown:
        hint = " (Hydra overrides go before the options or after --)" if "=" in unknown[0] else ""
        raise ValueError(f"{option} {unknown[0]!r}: unknown; choose from {', '.join(known)}{hint}")
    return list(dict.fromkeys(names))


def build_parser() -> argparse.ArgumentParser:
    from curiosity.tools.prog import prog_name

    parser = argparse.ArgumentParser(prog=prog_name("curiosity.tools.bench"), description=__doc__.split("\n\n")[0],
                                     epilog="Other arguments are Hydra overrides (key=value), e.g. "
                                            "agent.num_steps=64 or env=doorkey_8x8.")
    parser.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                        help="methods to time, comma- or space-separated conf/method names "
                             "(default: every conf/method/*.yaml; 'none' is always added as the baseline)")
    parser.add_argument("--backends", nargs="+", default=["python"], metavar="BACKEND",
                        help="env backends, comma- or space-separated: python, envpool (default: python, "
                             "what the studies run; envpool falls back to python where it is not installed "
                             "or the method needs the python env)")
    parser.add_argument("--iterations", type=int, default=2,
                        help="timed PPO iterations per measurement, after one FLOP-counted warm-up (default 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="measurements per method/backend, taken in rounds; the table gives medians "
                             "(default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="measurements side by side, one process each (default: one per core, as the "
                             "sweeps run; 1: one at a time, in this process)")
    parser.add_argument("--num-envs", type=int, default=16, help="parallel envs per run (default 16)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch CPU threads per process (default 1: one process per core, as the sweeps "
                             "run; 0: torch's default, one per core, what a single run alone uses)")
    parser.add_argument("--env-steps", type=int, default=500,
                        help="vector steps for the raw env rate (random actions, no learner; default 500)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=sb3_available(),
                        help="also time Stable-Baselines3's PPO on the same env, envs, steps, epochs and "
                             "minibatches (the sps_vs_sb3 column; default: on when the sb3 extra is installed)")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown (the docs')")
    parser.add_argument("--out", type=Path, default=Path("bench_results/bench.csv"),
                        help="CSV of the medians, one row per method/backend; every single measurement "
                             "goes beside it as *_repeats.csv (default bench_results/bench.csv)")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. agent.num_steps=64")
    return parser


def main(argv=None) -> pd.DataFrame:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.methods = parse_names(args.methods, available_methods(), "--methods")
        args.backends = parse_names(args.backends, BACKENDS, "--backends")
    except ValueError as err:
        parser.error(str(err))
    for key in ("iterations", "repeats", "jobs", "num_envs", "env_steps"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')}={getattr(args, key)}: must be >= 1")
    if args.torch_threads < 0:
        parser.error(f"--torch-threads={args.torch_threads}: must be >= 0")
    methods = args.methods or available_methods()
    if BASELINE_METHOD not in methods:
        methods = [BASELINE_METHOD, *methods]  # the ratio column needs the baseline
    table, machine, single = run_bench(methods, args.backends, args.iterations, args.num_envs,
                                       args.torch_threads, args.env_steps, args.overrides, peer=args.peer,
                                       repeats=args.repeats, jobs=args.jobs)
    print()
    print(f"{machine['date']}  {machine['cpu']} x{machine['cores']}  torch {machine['torch']}"
          f" ({machine['torch_threads']} thread(s) x {machine['jobs']} job(s))  load avg"
          f" {machine['load_avg_1m']:.1f} -> {machine['load_avg_1m_end']:.1f}")
    print(f"fp32 matmul peak (1024^3, same threads): {machine['matmul_peak_gflops']:.1f} GFLOP/s")
    env_name = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("env=")), ENV)
    print(f"{env_name} ({args.num_envs} envs), {args.iterations} timed iteration(s) per measurement,"
          f" medians of {args.repeats}; times are per iteration")
    print(format_table(table))
    if args.markdown:
        print()
        print(markdown_table(table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    single.to_csv(args.out.with_name(args.out.stem + "_repeats.csv"), index=False)
    print(f"\nwrote {args.out} (every measurement: {args.out.stem}_repeats.csv)")
    return table


if __name__ == "__main__":
    main()
