"""`make bench`: training speed of every method on both env backends, against the hardware.

For each method with a ``conf/method/*.yaml`` and each backend (python, envpool), on
MiniGrid-DoorKey-8x8-v0 with 16 envs, it runs real trainer iterations and reports:

- SPS (env frames per wall second) and its ratio to extrinsic-only PPO (method ``none``)
  on the same backend;
- the time split per iteration: env / inference (+ storage writes) / intrinsic / update;
- the learner's achieved GFLOP/s (FLOPs counted by ``torch.utils.flop_counter`` on one
  iteration, divided by the non-env time) against an fp32 matmul peak measured in the
  same run with the same thread count;
- the raw env step rate of each backend (random actions, no learner), same run;
- Stable-Baselines3's PPO on the same env, envs, steps, epochs and minibatches (``--peer``,
  on when the ``sb3`` extra is installed), and every row's ratio to it (``sps_vs_sb3``);
- ``cpu_sps`` (frames per CPU-second of the process) and ``cpu_share`` (CPU-seconds per wall
  second): on cores shared with other jobs, wall-clock SPS measures the load as much as the
  code, and these two say which.

The first iteration of each run is the FLOP-counted one (it also warms up); the timed
iterations follow. Results print as a table and go to a CSV (``--out``).

    python -m curiosity.tools.bench                       # every method, both backends
    python -m curiosity.tools.bench --methods none --backends envpool --iterations 3
    python -m curiosity.tools.bench --methods none,rnd --backends python   # or: --methods none rnd
"""

from __future__ import annotations

import argparse
import logging
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

ENV = "doorkey_8x8"
BASELINE_METHOD = "none"  # SPS ratios are relative to extrinsic-only PPO
PEER_METHOD = "sb3_ppo"  # Stable-Baselines3's PPO, timed in the same run (--peer)
SPLIT = ("env", "inference", "intrinsic", "update")  # reported time split per iteration


def available_methods() -> list[str]:
    """Every method with a config file, the baseline first."""
    names = paths.method_names()
    return sorted(names, key=lambda n: n != BASELINE_METHOD)


def compose_bench_config(method: str, backend: str, num_envs: int, torch_threads: int, extra=()):
    """The config a `make bench` run trains with: the CLI's composition plus bench overrides."""
    cfg = compose_config([
        f"env={ENV}", f"method={method}", f"env.backend={backend}", f"env.num_envs={num_envs}",
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
            timers = {k: 0.0 for k in SPLIT}
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(iterations):
                row = trainer.train(max_iterations=1)
                for key, value in row.items():
                    if key.startswith("time/") and key not in ("time/sps", "time/elapsed"):
                        name = key[len("time/"):]
                        # storage writes happen inside the rollout, next to inference
                        timers["inference" if name == "storage" else name] = timers.get(
                            "inference" if name == "storage" else name, 0.0) + value
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


def peer_row(iterations: int, num_envs: int, torch_threads: int, extra=()) -> dict:
    """Stable-Baselines3's PPO with this project's env, envs, steps, epochs and minibatches."""
    cfg = compose_bench_config(BASELINE_METHOD, "python", num_envs, torch_threads, extra)
    a = cfg.agent
    row = {"method": PEER_METHOD, "backend": "python", "backend_used": "python (SB3 DummyVecEnv)"}
    try:
        row.update(sb3_ppo_sps(cfg.env.id, num_envs, a.num_steps, a.update_epochs, a.num_minibatches,
                               iterations))
    except Exception as err:  # the peer must not hide the project's numbers
        row["error"] = f"{type(err).__name__}: {err}".splitlines()[0]
    return row


def run_bench(methods, backends, iterations: int, num_envs: int, torch_threads: int,
              env_steps: int, extra=(), peer: bool = False) -> tuple[pd.DataFrame, dict]:
    """One bench run: peak, raw env rates, then every (method, backend) and the SB3 peer;
    returns rows + machine."""
    machine = machine_info(torch_threads)
    machine["matmul_peak_gflops"] = matmul_peak_gflops(torch_threads)
    raw = {}
    for backend in backends:
        cfg = compose_bench_config(BASELINE_METHOD, backend, num_envs, torch_threads, extra)
        raw[backend] = raw_env_sps(cfg, env_steps)
        print(f"raw env step rate, {backend} (used {raw[backend][1]}): {raw[backend][0]:,.0f} steps/s")
    rows = []
    for method in methods:
        for backend in backends:
            row = {"method": method, "backend": backend}
            try:
                cfg = compose_bench_config(method, backend, num_envs, torch_threads, extra)
                row.update(bench_method(cfg, iterations))
            except Exception as err:  # one broken method must not hide the others' numbers
                row["error"] = f"{type(err).__name__}: {err}".splitlines()[0]
                logging.getLogger(__name__).debug(traceback.format_exc())
            row["raw_env_sps"] = raw[backend][0]
            rows.append(row)
            print(f"  {method:>20s} {backend:>8s}: " + (
                f"{row['sps']:8,.0f} SPS" if "sps" in row else row["error"]), flush=True)
    if peer:
        row = peer_row(iterations, num_envs, torch_threads, extra)
        rows.append(row)
        print(f"  {PEER_METHOD:>20s} {'python':>8s}: " + (
            f"{row['sps']:8,.0f} SPS" if "sps" in row else row["error"]), flush=True)
    table = pd.DataFrame(rows)
    if "sps" not in table:
        table["sps"] = np.nan
    base = table[table.method == BASELINE_METHOD].set_index("backend")["sps"]
    table["sps_vs_none"] = table.sps / table.backend.map(base)
    peer_sps = table.loc[table.method == PEER_METHOD, "sps"]
    # every row against SB3's PPO measured in this same run (the issue's target ratios)
    table["sps_vs_sb3"] = table.sps / (peer_sps.iloc[0] if len(peer_sps) else np.nan)
    table["peak_fraction"] = table.get("learner_gflops", np.nan) / machine["matmul_peak_gflops"]
    machine["load_avg_1m_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for key in ("date", "cpu", "cores", "torch_threads", "matmul_peak_gflops"):
        table[key] = machine[key]
    table["num_envs"], table["iterations"] = num_envs, iterations
    return table, machine


def format_table(table: pd.DataFrame) -> str:
    cols = ["method", "backend", "backend_used", "sps", "sps_vs_none", "sps_vs_sb3", "cpu_sps", "cpu_share",
            *[f"{k}_s" for k in SPLIT],
            "env_fraction", "learner_gflops", "peak_fraction", "raw_env_sps", "error"]
    shown = table[[c for c in cols if c in table]]
    return shown.to_string(index=False, float_format=lambda v: f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}",
                           na_rep="-")


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
                                            "agent.num_steps=64 or env=doorkey_5x5.")
    parser.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                        help="methods to time, comma- or space-separated conf/method names "
                             "(default: every conf/method/*.yaml; 'none' is always added as the baseline)")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), metavar="BACKEND",
                        help="env backends, comma- or space-separated: python, envpool (default: both; "
                             "envpool falls back to python where it is not installed)")
    parser.add_argument("--iterations", type=int, default=2,
                        help="timed PPO iterations per method/backend, after one FLOP-counted warm-up (default 2)")
    parser.add_argument("--num-envs", type=int, default=16, help="parallel envs per run (default 16)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch CPU threads; 0: torch's default (one per core, what a single run uses)")
    parser.add_argument("--env-steps", type=int, default=500,
                        help="vector steps for the raw env rate (random actions, no learner; default 500)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=sb3_available(),
                        help="also time Stable-Baselines3's PPO on the same env, envs, steps, epochs and "
                             "minibatches (the sps_vs_sb3 column; default: on when the sb3 extra is installed)")
    parser.add_argument("--out", type=Path, default=Path("bench_results/bench.csv"),
                        help="CSV written with one row per method/backend (default bench_results/bench.csv)")
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
    for key in ("iterations", "num_envs", "env_steps"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')}={getattr(args, key)}: must be >= 1")
    methods = args.methods or available_methods()
    if BASELINE_METHOD not in methods:
        methods = [BASELINE_METHOD, *methods]  # the ratio column needs the baseline
    table, machine = run_bench(methods, args.backends, args.iterations, args.num_envs,
                               args.torch_threads, args.env_steps, args.overrides, peer=args.peer)
    print()
    print(f"{machine['date']}  {machine['cpu']} x{machine['cores']}  torch {machine['torch']}"
          f" ({machine['torch_threads']} thread(s))  load avg {machine['load_avg_1m']:.1f}"
          f" -> {machine['load_avg_1m_end']:.1f}")
    print(f"fp32 matmul peak (1024^3, same threads): {machine['matmul_peak_gflops']:.1f} GFLOP/s")
    env_name = next((o.split("=", 1)[1] for o in args.overrides if o.startswith("env=")), ENV)
    print(f"{env_name} ({args.num_envs} envs), {args.iterations} timed iteration(s) each; times are per iteration")
    print(format_table(table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(f"\nwrote {args.out}")
    return table


if __name__ == "__main__":
    main()
