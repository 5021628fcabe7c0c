"""Cost of one PPO minibatch step of the actor-critic, per network size, eager vs torch.compile.

The update is most of an iteration on the CPU (docs/results/speed.md), so this isolates it:
forward, loss, backward and an Adam step on ``--rows`` random 7x7 grids, each network timed
in alternating blocks (``--repeats`` of ``--steps`` steps, the median reported) so load on a
shared machine hits every variant alike. Ratios are against the first network in the list.

    python -m curiosity.tools.update_bench                      # the widths of docs/results/speed.md
    python -m curiosity.tools.update_bench --networks 32x256 --compile   # + torch.compile
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from curiosity.agent.network import ActorCritic
from curiosity.tools.prog import prog_name

DEFAULT_NETWORKS = "32x256,32x128,32x64,16x256,16x64"


def parse_networks(text: str) -> list[tuple[int, int]]:
    """``"32x256,16x64"`` -> ``[(32, 256), (16, 64)]`` (conv channels x hidden units)."""
    out = []
    for item in text.split(","):
        parts = item.strip().split("x")
        if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise ValueError(f"--networks item {item!r}: expected CHANNELSxHIDDEN, e.g. 32x256")
        out.append((int(parts[0]), int(parts[1])))
    return out


def _step_fn(model: torch.nn.Module, optimizer: torch.optim.Optimizer, grid: torch.Tensor):
    def step() -> None:
        logits, value_ext, value_int = model(grid)[:3]
        loss = logits.logsumexp(-1).mean() + value_ext.square().mean() + value_int.square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return step


def measure(networks: list[tuple[int, int]], rows: int = 512, steps: int = 10, repeats: int = 5,
            compile_: bool = False, seed: int = 0) -> list[dict]:
    """Median milliseconds per minibatch step of each variant (and its ratio to the first)."""
    torch.manual_seed(seed)
    grid = torch.randint(0, 3, (rows, 7, 7, 4), dtype=torch.uint8)
    variants = {}
    for channels, hidden in networks:
        net = ActorCritic((7, 7, 4), 7, channels=channels, hidden=hidden)
        optimizer = torch.optim.Adam(net.parameters(), lr=2.5e-4)
        variants[f"{channels}x{hidden} eager"] = _step_fn(net, optimizer, grid)
        if compile_:
            variants[f"{channels}x{hidden} compiled"] = _step_fn(torch.compile(net), optimizer, grid)
    for step in variants.values():  # warm-up (and compilation) outside the timing
        step()
        step()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, step in variants.items():
            start = time.perf_counter()
            for _ in range(steps):
                step()
            times[name].append((time.perf_counter() - start) / steps * 1000.0)
    first = statistics.median(next(iter(times.values())))
    return [{"variant": name, "ms_per_step": statistics.median(t), "ratio": statistics.median(t) / first}
            for name, t in times.items()]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog=prog_name("curiosity.tools.update_bench"), description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", default=DEFAULT_NETWORKS, help=f"CHANNELSxHIDDEN list (default {DEFAULT_NETWORKS})")
    parser.add_argument("--rows", type=int, default=512, help="minibatch rows (default 512: 2048 frames / 4 minibatches)")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per variant (median reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: one run of two side by side)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of each network")
    args = parser.parse_args(argv)
    try:
        networks = parse_networks(args.networks)
    except ValueError as err:
        parser.error(str(err))
    for key in ("rows", "steps", "repeats", "threads"):
        if getattr(args, key) < 1:
            parser.error(f"--{key}={getattr(args, key)}: must be >= 1")
    torch.set_num_threads(args.threads)
    results = measure(networks, args.rows, args.steps, args.repeats, args.compile)
    print(f"PPO minibatch step, {args.rows} rows of 7x7 grids, {args.threads} thread(s), median of {args.repeats}:")
    print(f"{'variant':<22} {'ms/step':>8} {'ratio':>6}")
    for r in results:
        print(f"{r['variant']:<22} {r['ms_per_step']:>8.1f} {r['ratio']:>6.2f}")
    return results


if __name__ == "__main__":
    main()
