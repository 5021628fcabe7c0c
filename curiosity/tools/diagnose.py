"""Predictor learnability diagnostic: how fast does each forward model learn, offline?

Collects transitions with (i) the null action (``done``, a no-op in most MiniGrid tasks:
s' = s, so a delta predictor only has to learn "nothing changes"), (ii) a uniform random
policy, (iii) a trained policy from a checkpoint; trains a fresh predictor per
(architecture, data source) on 80% of them and writes loss-versus-updates curves:

    <out>/<method>/<source>.csv   update, train_loss, heldout_error (every --eval-every)
    <out>/<method>.png            one line per data source (train solid, held-out dashed)
    <out>/summary.csv             first / final losses and updates to halve the loss

Usage (extra ``key=value`` arguments are Hydra overrides applied to every method):

    python -m curiosity.tools.diagnose env=doorkey_5x5 --methods forward_conv,forward_transformer \
        --sources null,random,checkpoint --checkpoint runs/<exp>/<run> --updates 300
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from minigrid.core.actions import Actions  # noqa: E402
from torch.distributions import Categorical  # noqa: E402

from curiosity.agent import ActorCritic  # noqa: E402
from curiosity.config import ConfigError, compose_config, validate  # noqa: E402
from curiosity.envs import make_vector_env  # noqa: E402
from curiosity.intrinsic import ObsNormalizer, TransitionBatch  # noqa: E402
from curiosity.intrinsic.runtime import IntrinsicRuntime  # noqa: E402
from curiosity.run.checkpoint import CHECKPOINT_DIR, LATEST  # noqa: E402

SOURCES = ("null", "random", "checkpoint")
NULL_ACTION = int(Actions.done)  # does nothing in most tasks
HELDOUT_FRACTION = 0.2


def compose_method(method: str, overrides: list[str]):
    cfg = compose_config([f"method={method}", *overrides])
    validate(cfg)
    if cfg.method.module is None:
        raise ConfigError(f"method={method}: has no predictor (method.module is null)")
    return cfg


def load_policy(path: str, obs_shape, num_actions: int) -> ActorCritic:
    """The actor-critic of a checkpoint file, or of a run directory's latest checkpoint."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT_DIR / LATEST
    if not p.exists():
        raise FileNotFoundError(f"--checkpoint={path}: no checkpoint at {p}")
    state = torch.load(p, map_location="cpu", weights_only=False)
    agent_cfg = state["config"]["agent"]
    policy = ActorCritic(obs_shape, num_actions, agent_cfg["conv_channels"], agent_cfg["hidden_size"],
                         recurrent=agent_cfg.get("recurrent", "none"))
    try:
        policy.load_state_dict(state["agent"])
    except RuntimeError as err:
        raise ValueError(f"--checkpoint={path}: does not fit this env's observations ({err})") from None
    return policy.eval()


@torch.no_grad()
def collect(cfg, source: str, num_transitions: int, policy: ActorCritic | None, seed: int) -> dict:
    """``num_transitions`` valid (obs, action, next_obs) rows in the predictor's view."""
    full = cfg.method.predictor_full_obs
    envs = make_vector_env(cfg.env, seed, full_grid_info=full, grid_crop=cfg.method.get("predictor_crop", 0))
    rng = np.random.default_rng(seed)
    obs, info = envs.reset()
    current_full = info.get("full_grid")
    # a recurrent policy's state, reset where an episode starts (after a done or an invalid row)
    memory = policy.initial_state(envs.num_envs) if policy is not None else None
    start = np.ones(envs.num_envs, dtype=bool)
    rows = {"obs": [], "action": [], "next_obs": []}
    try:
        for _ in range(math.ceil(num_transitions / envs.num_envs)):
            if source == "null":
                actions = np.full(envs.num_envs, NULL_ACTION)
            elif source == "random":
                actions = rng.integers(envs.summary.num_actions, size=envs.num_envs)
            else:
                logits, _, _, memory = policy.step(torch.as_tensor(obs), memory, torch.as_tensor(start))
                actions = Categorical(logits=logits).sample().numpy()
            before = current_full if full else obs
            obs, _, terminated, truncated, info = envs.step(actions)
            valid = info["valid"]
            start = terminated | truncated | ~np.asarray(valid, dtype=bool)
            rows["obs"].append(before[valid])
            rows["action"].append(actions[valid])
            rows["next_obs"].append((info["next_full_grid"] if full else info["next_obs"])[valid])
            if full:
                current_full = info["full_grid"]
        space = envs.full_grid_space if full else envs.single_observation_space
        action_space = envs.single_action_space
    finally:
        envs.close()
    data = {k: torch.as_tensor(np.concatenate(v)[:num_transitions]) for k, v in rows.items()}
    data["action"] = data["action"].long()
    return {"data": data, "obs_space": space, "action_space": action_space}


def to_batch(data: dict, idx: torch.Tensor, obs_norm: ObsNormalizer) -> TransitionBatch:
    obs, nxt = data["obs"][idx], data["next_obs"][idx]
    return TransitionBatch.from_grids(obs, data["action"][idx], nxt, obs_norm)


def train_offline(cfg, collected: dict, updates: int, batch_size: int, eval_every: int, seed: int) -> list[dict]:
    """Train a fresh predictor; one row per update (held-out error every ``eval_every``).

    The method runs as in training (``IntrinsicRuntime``: its Adam at ``method.lr``, clip at
    ``method.max_grad_norm``, inputs normalized by the training rows' statistics); the
    held-out error is its stateless ``reward`` in eval mode, the row's loss its own training
    loss (a method with nothing to train, a count, logs that loss and takes no step)."""
    torch.manual_seed(seed)
    m, data = cfg.method, collected["data"]
    runtime = IntrinsicRuntime(m, collected["obs_space"], collected["action_space"], cfg.env.num_envs)
    n = len(data["action"])
    perm = torch.randperm(n)
    n_held = max(1, int(n * HELDOUT_FRACTION))
    held, train = perm[:n_held], perm[n_held:]
    runtime.observe(data["next_obs"][train])
    rows = []
    for update in range(1, updates + 1):
        idx = train[torch.randint(len(train), (min(batch_size, len(train)),))]
        batch = to_batch(data, idx, runtime.obs_norm)
        metrics = runtime.train_step(batch)
        loss = metrics["losses/intrinsic"] if metrics else runtime.eval_loss(batch)
        row = {"update": update, "train_loss": loss, "heldout_error": float("nan")}
        if update == 1 or update % eval_every == 0 or update == updates:
            row["heldout_error"] = float(runtime.reward(to_batch(data, held, runtime.obs_norm)).mean())
        rows.append(row)
    return rows


def updates_to_halve(losses: list[float]) -> int | None:
    """First update whose loss is at most half the first one (None if never)."""
    hits = [i + 1 for i, v in enumerate(losses) if v <= 0.5 * losses[0]]
    return hits[0] if hits else None


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot_method(path: Path, method: str, curves: dict[str, list[dict]]) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (source, rows) in enumerate(curves.items()):
        color = f"C{i}"
        ax.plot([r["update"] for r in rows], [r["train_loss"] for r in rows], color=color, label=f"{source} train")
        held = [(r["update"], r["heldout_error"]) for r in rows if not math.isnan(r["heldout_error"])]
        ax.plot(*zip(*held), color=color, linestyle="--", marker=".", label=f"{source} held-out")
    ax.set_yscale("log")
    ax.set_xlabel("predictor updates")
    ax.set_ylabel("prediction error (loss)")
    ax.set_title(f"{method}: learnability by data source")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(methods: list[str], sources: list[str], overrides: list[str], out: Path, checkpoint: str | None,
        transitions: int, updates: int, batch_size: int, eval_every: int, seed: int) -> list[dict]:
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise ConfigError(f"--sources={','.join(bad)}: unknown data source (choose from {', '.join(SOURCES)})")
    if "checkpoint" in sources and checkpoint is None:
        raise ConfigError("--sources=checkpoint: needs --checkpoint PATH (a run directory or a .pt file)")
    summary = []
    for method in methods:
        cfg = compose_method(method, overrides)
        curves = {}
        for source in sources:
            policy = None
            if source == "checkpoint":
                probe = make_vector_env(cfg.env, seed)
                policy = load_policy(checkpoint, probe.summary.obs_shape, probe.summary.num_actions)
                probe.close()
            collected = collect(cfg, source, transitions, policy, seed)
            rows = train_offline(cfg, collected, updates, batch_size, eval_every, seed)
            write_csv(out / method / f"{source}.csv", rows)
            curves[source] = rows
            losses = [r["train_loss"] for r in rows]
            held = [r["heldout_error"] for r in rows if not math.isnan(r["heldout_error"])]
            summary.append({"method": method, "source": source, "transitions": len(collected["data"]["action"]),
                            "first_loss": losses[0], "final_loss": losses[-1],
                            "final_heldout_error": held[-1], "updates_to_halve": updates_to_halve(losses)})
            print(f"{method:22s} {source:10s} loss {losses[0]:.4g} -> {losses[-1]:.4g}"
                  f"  held-out {held[-1]:.4g}  halved after {summary[-1]['updates_to_halve']}")
        plot_method(out / f"{method}.png", method, curves)
    write_csv(out / "summary.csv", summary)
    return summary


def build_parser() -> argparse.ArgumentParser:
    from curiosity.tools.prog import prog_name

    parser = argparse.ArgumentParser(prog=prog_name("curiosity.tools.diagnose"), description=__doc__.split("\n\n")[0],
                                     epilog="Other arguments are Hydra overrides (key=value), e.g. env=doorkey_8x8.")
    parser.add_argument("--methods", default="forward_conv,forward_resnet,forward_transformer",
                        help="comma-separated conf/method names")
    parser.add_argument("--sources", default="null,random", help="comma-separated: null, random, checkpoint")
    parser.add_argument("--checkpoint", default=None, help="run directory or .pt file (for --sources checkpoint)")
    parser.add_argument("--transitions", type=int, default=2048, help="transitions collected per data source")
    parser.add_argument("--updates", type=int, default=300, help="predictor updates per curve")
    parser.add_argument("--batch-size", type=int, default=256, help="transitions per update")
    parser.add_argument("--eval-every", type=int, default=10, help="updates between held-out evaluations")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data collection and the predictors (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--out", default="diagnose", help="output folder for curves, plots and summary.csv (default diagnose)")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args, overrides = parser.parse_known_args(argv)
    for key in ("transitions", "updates", "batch_size", "eval_every"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')}={getattr(args, key)}: must be >= 1")
    torch.set_num_threads(args.threads)
    try:
        run(args.methods.split(","), args.sources.split(","), overrides, Path(args.out), args.checkpoint,
            args.transitions, args.updates, args.batch_size, args.eval_every, args.seed)
    except ConfigError as err:
        parser.exit(2, f"config error: {err}\n")


if __name__ == "__main__":
    main()
