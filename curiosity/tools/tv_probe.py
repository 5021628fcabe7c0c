"""Offline noisy-TV probe: does an intrinsic module pay the TV less once it is trained more?

Streams random-policy transitions of a noisy-TV task (``env.noisy_tv=remote``) in
iterations of ``env.num_envs x agent.num_steps``, as the trainer sees them, and trains a
fresh module on each iteration with the trainer's own schedule (``IntrinsicRuntime.train``,
``curiosity/intrinsic/runtime.py``): running observation normalization,
``method.update_epochs`` epochs of exactly ``agent.num_minibatches`` minibatches over a
``method.update_proportion`` draw, Adam at ``method.lr``, gradient clip
``method.max_grad_norm``. At the chosen iterations it scores held-out transitions from
another seed and reports the mean reward on TV transitions (the remote action,
``env.tv_remote_action``) against all others. ``--settings`` overrides (lr, epochs) per
run, which is how disagreement's paper schedule was compared against more training
(docs/methods/forward_reward_kinds.md):

    python -m curiosity.tools.tv_probe --methods disagreement --settings 1e-4x1,1e-3x4,1e-3x16 \
        +experiment=noisy_tv env.noisy_tv=remote

Writes ``<out>/tv_probe.csv``: method, lr, epochs, iteration, tv_reward, other_reward,
ratio (tv / other), tv_share (TV's share of the summed reward; its share of the data is
``tv_fraction``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from omegaconf import OmegaConf

from curiosity.config import ConfigError
from curiosity.intrinsic.runtime import IntrinsicRuntime, grid_rollout
from curiosity.tools.diagnose import collect, compose_method, write_csv

HELDOUT_SEED_OFFSET = 1000


def parse_settings(text: str) -> list[tuple[float, int]]:
    """``"1e-4x1,1e-3x4"`` -> ``[(1e-4, 1), (1e-3, 4)]`` (lr x predictor epochs)."""
    out = []
    for item in text.split(","):
        try:
            lr, epochs = item.split("x")
            out.append((float(lr), int(epochs)))
        except ValueError:
            raise ConfigError(f"--settings={text}: items must be LRxEPOCHS, e.g. 1e-4x1") from None
        if out[-1][0] <= 0 or out[-1][1] < 1:
            raise ConfigError(f"--settings={text}: lr must be > 0 and epochs >= 1")
    return out


def train_and_score(cfg, stream: dict, held: dict, lr: float, epochs: int, score_at: set[int],
                    seed: int) -> list[dict]:
    """Train one fresh module on ``stream`` chunk by chunk; score ``held`` at ``score_at``
    and after the last full chunk (invalid rows at episode ends make the stream a little
    shorter than asked, so that may be one iteration early)."""
    torch.manual_seed(seed)
    data, held_data = stream["data"], held["data"]
    m = OmegaConf.merge(cfg.method, {"lr": lr, "update_epochs": epochs})  # this setting's schedule
    runtime = IntrinsicRuntime(m, stream["obs_space"], stream["action_space"], cfg.env.num_envs)
    chunk = cfg.env.num_envs * cfg.agent.num_steps
    tv = held_data["action"] == cfg.env.tv_remote_action
    last = len(data["action"]) // chunk
    rows = []
    for iteration in range(1, last + 1):
        part = slice((iteration - 1) * chunk, iteration * chunk)
        runtime.observe(data["next_obs"][part])
        # one iteration's rows (training reads no episode structure: one column will do)
        runtime.train(grid_rollout(data["obs"][part, None], data["action"][part, None], data["next_obs"][part, None]),
                      cfg.agent.num_minibatches)
        if iteration in score_at or iteration == last:
            reward = runtime.reward(runtime.transitions(held_data["obs"], held_data["action"], held_data["next_obs"]))
            tv_mean, other_mean = float(reward[tv].mean()), float(reward[~tv].mean())
            total = reward.sum()
            rows.append({"method": m.name, "lr": lr, "epochs": epochs, "iteration": iteration,
                         "tv_reward": tv_mean, "other_reward": other_mean,
                         "ratio": tv_mean / other_mean if other_mean > 0 else float("nan"),
                         "tv_share": float(reward[tv].sum() / total) if total > 0 else float("nan"),
                         "tv_fraction": float(tv.float().mean())})
    return rows


def run(methods: list[str], settings: list[tuple[float, int]], overrides: list[str], out: Path,
        iterations: int, score_at: set[int], heldout: int, seed: int) -> list[dict]:
    rows = []
    for method in methods:
        cfg = compose_method(method, overrides)
        if cfg.env.noisy_tv != "remote":
            raise ConfigError(f"env.noisy_tv={cfg.env.noisy_tv}: the probe needs the remote TV")
        chunk = cfg.env.num_envs * cfg.agent.num_steps
        stream = collect(cfg, "random", iterations * chunk, None, seed)
        held = collect(cfg, "random", heldout, None, seed + HELDOUT_SEED_OFFSET)
        for lr, epochs in settings:
            new = train_and_score(cfg, stream, held, lr, epochs, score_at, seed)
            for r in new:
                print(f"{method:14s} lr={lr:g} epochs={epochs:2d} it={r['iteration']:3d}"
                      f"  TV {r['tv_reward']:.3g}  other {r['other_reward']:.3g}"
                      f"  ratio {r['ratio']:.2f}  TV share {r['tv_share']:.2f}")
            rows.extend(new)
    write_csv(out / "tv_probe.csv", rows)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="disagreement", help="comma-separated method names")
    parser.add_argument("--settings", default="1e-4x1,1e-3x4", help="comma-separated LRxEPOCHS")
    parser.add_argument("--iterations", type=int, default=64,
                        help="rollouts of num_envs x num_steps streamed")
    parser.add_argument("--score-at", default="1,4,16",
                        help="iterations to score at (the last is always scored)")
    parser.add_argument("--heldout", type=int, default=2048, help="held-out transitions scored")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", default="tv_probe", help="output folder")
    args, overrides = parser.parse_known_args(argv)
    for key in ("iterations", "heldout"):
        if getattr(args, key) < 1:
            parser.error(f"--{key}={getattr(args, key)}: must be >= 1")
    torch.set_num_threads(args.threads)
    try:
        score_at = {int(v) for v in args.score_at.split(",") if v}
        run(args.methods.split(","), parse_settings(args.settings), overrides, Path(args.out),
            args.iterations, score_at, args.heldout, args.seed)
    except ValueError as err:  # ConfigError is a ValueError; so is a bad --score-at
        parser.exit(2, f"config error: {err}\n")


if __name__ == "__main__":
    main()
