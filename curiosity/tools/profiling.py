"""Where a training run's time goes, measured over a few iterations.

    python -m curiosity.tools.profiling [--iterations N] [--warmup W] [--torch-profiler] [--json FILE]
                                [hydra overrides, e.g. env=multiroom_n2_s4 method=rnd]

Builds the run exactly as ``curiosity.train`` does (in a temporary directory, wandb and
checkpoints off), times every phase of each iteration by wrapping the trainer's own
methods (the rollout's env / inference / storage split comes from the trainer's timers),
and prints a table: env stepping, policy inference, storage, intrinsic scoring and
training, bootstrap values, GAE, PPO update, and metrics logging. The first ``--warmup``
iterations (lazy initialisation, allocator warm-up) are not counted.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from curiosity.config import ConfigError, validate
from curiosity.config import compose_config as base_compose

QUIET = ["logger.wandb_mode=disabled", "logger.progress=false", "logger.checkpoint_every=0",
         "logger.visitation_every=0", "logger.render_every=0", "resume=false"]
# (trainer method, label); the order is the order of the table
TIMED_METHODS = [
    ("score_intrinsic", "intrinsic: score rollout"),
    ("train_intrinsic", "intrinsic: train predictor"),
    ("_bootstrap_values", "update: bootstrap values"),
    ("compute_advantages", "update: GAE (two streams)"),
    ("update_policy", "update: PPO epochs"),
]
ROLLOUT_TIMERS = [("env", "rollout: env step"), ("inference", "rollout: policy inference"),
                  ("storage", "rollout: storage + bookkeeping")]


def compose_config(overrides: list[str]):
    return base_compose([*overrides, *QUIET])


class PhaseTimer:
    """Seconds per phase, accumulated by wrapping bound methods of one trainer."""

    def __init__(self, device: torch.device):
        self.seconds: dict[str, float] = defaultdict(float)
        self.sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        self.counting = False

    def wrap(self, obj, name: str, label: str) -> None:
        method = getattr(obj, name)

        @functools.wraps(method)
        def timed(*args, **kwargs):
            self.sync()
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.sync()
                if self.counting:
                    self.seconds[label] += time.perf_counter() - start

        setattr(obj, name, timed)  # instance attribute: shadows the class method in train()

    def wrap_rollout(self, trainer) -> None:
        """collect_rollout fills its own env/inference/storage timers: keep those splits."""
        method = trainer.collect_rollout

        def timed(timers):
            out = method(timers)
            if self.counting:
                for key, label in ROLLOUT_TIMERS:
                    self.seconds[label] += timers[key]
            return out

        trainer.collect_rollout = timed


def profile_run(cfg, iterations: int, warmup: int, run_dir: Path, torch_profiler: bool = False) -> dict:
    """Train ``warmup + iterations`` iterations of ``cfg``; return the timing report."""
    from curiosity.trainer import Trainer

    trainer = Trainer(cfg, run_dir)
    timer = PhaseTimer(trainer.device)
    timer.wrap_rollout(trainer)
    for name, label in TIMED_METHODS:
        timer.wrap(trainer, name, label)
    timer.wrap(trainer.sink, "log", "metrics logging")
    prof = None
    try:
        if warmup:
            trainer.train(max_iterations=warmup)
        timer.counting = True
        if torch_profiler:
            prof = torch.profiler.profile(activities=_activities(trainer.device))
            prof.__enter__()
        start = time.perf_counter()
        trainer.train(max_iterations=iterations)
        wall = time.perf_counter() - start
    finally:
        if prof is not None:
            prof.__exit__(None, None, None)
        trainer.close()
    done = trainer.iteration - warmup
    frames = done * trainer.batch_size
    phases = {label: timer.seconds.get(label, 0.0) for _, label in ROLLOUT_TIMERS + TIMED_METHODS}
    phases["metrics logging"] = timer.seconds.get("metrics logging", 0.0)
    phases["other (loop, metrics)"] = max(wall - sum(phases.values()), 0.0)
    report = {
        "env": cfg.env.id, "method": cfg.method.name, "device": str(trainer.device),
        "num_envs": trainer.num_envs, "num_steps": cfg.agent.num_steps,
        "iterations": done, "frames": frames, "wall_s": wall, "sps": frames / max(wall, 1e-9),
        "phases_s": phases,
    }
    if prof is not None:
        sort = "self_cuda_time_total" if trainer.device.type == "cuda" else "self_cpu_time_total"
        report["torch_ops"] = prof.key_averages().table(sort_by=sort, row_limit=15)
    return report


def _activities(device: torch.device):
    acts = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        acts.append(torch.profiler.ProfilerActivity.CUDA)
    return acts


def format_report(r: dict) -> str:
    lines = [f"profile: {r['env']}  method={r['method']}  device={r['device']}  "
             f"{r['num_envs']} envs x {r['num_steps']} steps, {r['iterations']} iterations "
             f"({r['frames']} frames) in {r['wall_s']:.2f} s = {r['sps']:.0f} frames/s",
             f"{'phase':<34}{'total s':>9}{'ms/iter':>10}{'share':>8}"]
    for label, sec in r["phases_s"].items():
        lines.append(f"{label:<34}{sec:>9.3f}{1000 * sec / max(r['iterations'], 1):>10.1f}"
                     f"{100 * sec / max(r['wall_s'], 1e-9):>7.1f}%")
    groups = defaultdict(float)
    for label, sec in r["phases_s"].items():
        groups[label.split(":")[0] if ":" in label else "other"] += sec
    lines.append("by group: " + ", ".join(f"{g} {100 * s / max(r['wall_s'], 1e-9):.0f}%" for g, s in groups.items()))
    if "torch_ops" in r:
        lines += ["", r["torch_ops"]]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from curiosity.tools.prog import prog_name

    p = argparse.ArgumentParser(prog=prog_name("curiosity.tools.profiling"), description=__doc__.split("\n\n")[0],
                                epilog="Other arguments are Hydra overrides (key=value).")
    p.add_argument("--iterations", type=int, default=5, help="measured iterations")
    p.add_argument("--warmup", type=int, default=1, help="iterations run first and not counted")
    p.add_argument("--torch-profiler", action="store_true", help="also print torch's top operators")
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    p.add_argument("--run-dir", type=Path, default=None, help="keep the run's files here (default: a temp dir)")
    return p


def main(argv=None) -> None:
    p = build_parser()
    args, overrides = p.parse_known_args(argv)
    bad = [o for o in overrides if "=" not in o]
    if bad:
        p.error(f"unrecognized arguments: {' '.join(bad)} (overrides are key=value)")
    if args.iterations < 1 or args.warmup < 0:
        p.error("--iterations must be >= 1 and --warmup >= 0")
    cfg = compose_config(overrides)
    batch = cfg.agent.num_steps * cfg.env.num_envs
    cfg.total_frames = (args.warmup + args.iterations + 1) * batch  # never reaches the end-of-run writes
    try:
        validate(cfg)
    except ConfigError as err:
        sys.exit(f"config error: {err}")
    with tempfile.TemporaryDirectory() as tmp:
        report = profile_run(cfg, args.iterations, args.warmup, args.run_dir or Path(tmp), args.torch_profiler)
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
