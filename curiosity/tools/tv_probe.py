"""Offline noisy-TV probe: does an intrinsic module pay the TV less once it is trained more?

Streams random-policy transitions of a noisy-TV task (``env.noisy_tv=remote``) in
iterations of ``env.num_envs x agent.num_steps``, as the trainer sees them, and trains a
fresh module on each iteration with the trainer's schedule: running observation
normalization, ``method.update_epochs`` epochs of ``agent.num_minibatches`` minibatches over
a ``method.update_proportion`` draw, Adam at ``method.lr``, gradient clip
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
import math
from pathlib import Path

import torch
from torch import nn

from curiosity.config import ConfigError
from curiosity.envs import onehot_planes_batched
from curiosity.intrinsic import ObsNormalizer
from curiosity.tools.diagnose import collect, compose_method, to_batch, write_csv
from curiosity.trainer import build_intrinsic

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
    m, data = cfg.method, stream["data"]
    module = build_intrinsic(m, stream["obs_space"], stream["action_space"])
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    h, w, _ = stream["obs_space"].shape
    planes = onehot_planes_batched(data["obs"][:1]).shape[1]
    obs_norm = ObsNormalizer((planes, h, w), enabled=m.obs_norm)
    chunk = cfg.env.num_envs * cfg.agent.num_steps
    tv = held["data"]["action"] == cfg.env.tv_remote_action
    last = len(data["action"]) // chunk
    rows = []
    for iteration in range(1, last + 1):
        rows_idx = torch.arange((iteration - 1) * chunk, iteration * chunk)
        obs_norm.update(onehot_planes_batched(data["next_obs"][rows_idx]))
        for _ in range(epochs):
            keep = rows_idx[torch.rand(len(rows_idx)) < m.update_proportion]
            perm = keep[torch.randperm(len(keep))]
            mb = max(1, math.ceil(len(perm) / cfg.agent.num_minibatches))
            for i in range(0, len(perm), mb):
                loss, _ = module.loss(to_batch(data, perm[i : i + mb], obs_norm))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, m.max_grad_norm)
                optimizer.step()
        if iteration in score_at or iteration == last:
            module.eval()
            reward = module.reward(to_batch(held["data"], torch.arange(len(tv)), obs_norm))
            module.train()
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
