"""Probes of what a method pays for, through the real trainer (issue 26).

Two measurements, both on the trainer's own path (rollout, ``score_rollout``, the reward
normalizer, GAE on the method's intrinsic stream), so they see what training sees:

- **Bonus by action type** (``bonus_by_action``): train a method for a few iterations on a
  task, then split the last rollout's valid rows by what the action did: ``turn``, ``move``,
  ``blocked`` (forward into a wall or a closed door), ``pickup``, ``drop``, ``toggle`` (each
  with an effect) and ``noop`` (pickup, drop, toggle or done with none), and average the raw
  bonus per type. A neutral view pays a turn in place no more than a move to a new cell.

- **What ending at the goal costs** (``goal_forgone``): on MiniGrid-Empty-8x8, two scripted
  envs in one rollout take the same path to the cell above the goal; env 0 then steps onto
  the goal (the episode ends and a new one starts: it wanders there), env 1 turns away and
  wanders without ending. With values 0 and lambda 1 the intrinsic advantage at the branch
  step is the intrinsic return each choice is credited with; ``forgone = int_coef *
  (G_int(wander on) - G_int(end at goal))`` in the units of the combined advantage, against
  ``ext_coef * r_goal``, the extrinsic reward the goal earns. The goal pays when forgone is
  smaller.

    python -m curiosity.tools.bonus_probe actions --methods count,ride,noveld,e3b,rnd --views egocentric,window9
    python -m curiosity.tools.bonus_probe goal --methods count,ride,noveld,e3b

Writes CSVs to ``--out`` (default ``bonus_probe/``) and prints markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from minigrid.core.actions import Actions

from curiosity.config import ConfigError, compose_config, validate

ACTION_TYPES = ("turn", "move", "blocked", "pickup", "drop", "toggle", "noop")
GOAL_ENV = "MiniGrid-Empty-8x8-v0"  # agent starts at (1, 1) facing east; the goal is at (6, 6)


class ScriptedPolicy:
    """Plays fixed actions ``(T, N)``, one row per rollout step, behind the trainer's policy
    interface (``curiosity/agent/policy.py``): log-probabilities and values 0, and it does not
    learn, so the trainer neither updates nor bootstraps from it (returns, not advantages)."""

    learns = False
    network = None

    def __init__(self, actions: np.ndarray):
        self.actions = np.asarray(actions)
        self.t = 0

    def step(self, obs: torch.Tensor, state: torch.Tensor, episode_start: np.ndarray):
        n, device = obs.shape[0], obs.device
        a = torch.as_tensor(self.actions[self.t], device=device, dtype=torch.long)
        self.t += 1
        zeros = torch.zeros(n, device=device)
        return a, zeros, zeros, zeros, state


def compose(overrides: list[str]):
    """The validated root config for ``overrides``."""
    cfg = compose_config(overrides)
    validate(cfg)
    return cfg


QUIET = ["logger.wandb_mode=disabled", "logger.progress=false", "logger.checkpoint_every=0",
         "logger.visitation_every=0"]


# ----------------------------------------------------------------------------- action types
def action_types(actions, x, y, carrying, episode_start, valid, changed) -> np.ndarray:
    """Type index per row ``(T, N)`` into ACTION_TYPES; -1 where unknown (an episode's first
    row: the pose before it is the reset pose, not recorded; invalid rows)."""
    a = np.asarray(actions)
    out = np.full(a.shape, -1)
    moved = np.zeros(a.shape, bool)
    moved[1:] = (x[1:] != x[:-1]) | (y[1:] != y[:-1])
    carried_change = np.zeros(a.shape, bool)
    carried_change[1:] = carrying[1:] != carrying[:-1]
    known = valid.copy()
    known[0] = False
    known &= ~episode_start
    out[np.isin(a, (int(Actions.left), int(Actions.right)))] = ACTION_TYPES.index("turn")
    fwd = a == int(Actions.forward)
    out[fwd & moved] = ACTION_TYPES.index("move")
    out[fwd & ~moved] = ACTION_TYPES.index("blocked")
    for act, name, effect in ((Actions.pickup, "pickup", carried_change), (Actions.drop, "drop", carried_change),
                              (Actions.toggle, "toggle", changed)):
        rows = a == int(act)
        out[rows & effect] = ACTION_TYPES.index(name)
        out[rows & ~effect] = ACTION_TYPES.index("noop")
    out[a == int(Actions.done)] = ACTION_TYPES.index("noop")
    out[~known] = -1
    return out


def bonus_by_action(method: str, view: str, env: str = "multiroom_n4_s5", iterations: int = 8,
                    seed: int = 1, extra: list[str] | None = None) -> dict:
    """Mean raw bonus per action type on the last rollout after ``iterations`` of training."""
    from curiosity.trainer import Trainer

    cfg = compose([f"env={env}", f"method={method}", f"view={view}", f"seed={seed}",
                   f"total_frames={10**9}", *QUIET, *(extra or [])])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp), hooks=[])
        try:
            trainer.train(max_iterations=iterations)
            s = trainer.storage
            cpu = lambda t: t.detach().cpu().numpy()  # noqa: E731
            fixed = getattr(s, "pred_next_obs_fixed", s.pred_next_obs)  # (before issue 26: one successor)
            changed = cpu((s.pred_obs[..., :3] != fixed[..., :3]).flatten(2).any(-1))
            types = action_types(cpu(s.actions), cpu(s.agent_x), cpu(s.agent_y), cpu(s.carrying),
                                 cpu(s.episode_start), cpu(s.valid) > 0, changed)
            raw = cpu(s.rewards_int_raw)
        finally:
            trainer.close()
    row = {"method": method, "view": view, "iterations": iterations, "seed": seed}
    for i, name in enumerate(ACTION_TYPES):
        sel = types == i
        row[f"{name}_n"] = int(sel.sum())
        row[name] = float(raw[sel].mean()) if sel.any() else float("nan")
    return row


# ----------------------------------------------------------------------------- goal forgone
def _walk(cells, start, direction) -> list[int]:
    """Actions that walk through adjacent ``cells`` from ``start`` facing ``direction``
    (MiniGrid: 0 east, 1 south, 2 west, 3 north; left turns counter-clockwise)."""
    steps = {(1, 0): 0, (0, 1): 1, (-1, 0): 2, (0, -1): 3}
    acts, pos, d = [], start, direction
    for cell in cells:
        want = steps[(cell[0] - pos[0], cell[1] - pos[1])]
        while d != want:
            right = (want - d) % 4 == 1
            acts.append(int(Actions.right if right else Actions.left))
            d = (d + (1 if right else -1)) % 4
        acts.append(int(Actions.forward))
        pos = cell
    return acts


def goal_scripts() -> tuple[np.ndarray, int]:
    """Actions ``(T, 2)`` and the branch step: env 0 ends at the goal, env 1 wanders on."""
    to_branch = _walk([(x, 1) for x in range(2, 7)] + [(6, y) for y in range(2, 6)], (1, 1), 0)
    branch = len(to_branch)  # both stand on (6, 5) facing south, the goal below
    # env 0: onto the goal; the next episode starts at (1, 1) facing east and wanders there
    fresh = _walk([(1, 2), (1, 3), (2, 3), (3, 3), (3, 2), (4, 2), (4, 3), (4, 4), (3, 4), (2, 4),
                   (1, 4), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5), (5, 4), (5, 3), (5, 2)], (1, 1), 0)
    env0 = to_branch + [int(Actions.forward)] + fresh
    # env 1: away from the goal through the cells it has not seen (then back over some it has)
    wander = _walk([(5, 5), (4, 5), (3, 5), (2, 5), (1, 5), (1, 6), (2, 6), (3, 6), (4, 6), (5, 6),
                    (5, 5), (5, 4), (4, 4), (3, 4), (2, 4), (1, 4), (1, 3), (2, 3), (3, 3), (4, 3),
                    (5, 3)], (6, 5), 1)
    env1 = to_branch + wander
    t = min(len(env0), len(env1))
    return np.stack([env0[:t], env1[:t]], axis=1), branch


def goal_forgone(method: str, view: str = "egocentric", extra: list[str] | None = None) -> dict:
    """Intrinsic return given up by ending at the goal vs the goal's extrinsic reward."""
    from curiosity.trainer import Trainer

    actions, branch = goal_scripts()
    cfg = compose([f"env.id={GOAL_ENV}", "env.num_envs=2", f"agent.num_steps={len(actions)}",
                   "agent.num_minibatches=1", f"method={method}", f"view={view}", "method.lambda_int=1.0",
                   "method.obs_norm_init_steps=0", f"total_frames={10**9}", *QUIET, *(extra or [])])
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp), hooks=[])
        try:
            trainer.policy = ScriptedPolicy(actions)  # values stay 0: returns, not advantages
            trainer.iteration += 1
            trainer.collect_rollout({"env": 0.0, "inference": 0.0, "storage": 0.0})
            trainer.score_intrinsic()
            gae = trainer.compute_advantages()
            s, m = trainer.storage, trainer.cfg.method
            assert bool(s.terminated[branch, 0]) and not bool(s.dones[:, 1].any()), "script went wrong"
            g_end, g_on = (float(gae["adv_int"][branch, n]) for n in (0, 1))
            r_goal = float(s.rewards_ext[branch, 0])
            raw = s.rewards_int_raw
        finally:
            trainer.close()
    forgone = m.int_coef * (g_on - g_end)
    return {"method": method, "view": view, "int_stream": m.int_stream, "reward_norm": m.reward_norm,
            "int_coef": m.int_coef, "ext_coef": m.ext_coef, "g_int_end": g_end, "g_int_wander": g_on,
            "raw_bonus_mean": float(raw.mean()), "forgone": forgone, "goal_reward": m.ext_coef * r_goal,
            "goal_pays": bool(forgone < m.ext_coef * r_goal)}


# ----------------------------------------------------------------------------- CLI
def _table(rows: list[dict], keys: list[str]) -> str:
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def _write(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m curiosity.tools.bonus_probe", description=__doc__.splitlines()[0])
    p.add_argument("probe", choices=("actions", "goal"))
    p.add_argument("--methods", default="count,ride,noveld,e3b,rnd,icm,disagreement,forward_conv")
    p.add_argument("--views", default="egocentric,window9")
    p.add_argument("--env", default="multiroom_n4_s5", help="env config for the actions probe")
    p.add_argument("--iterations", type=int, default=8, help="training iterations before the actions probe")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="bonus_probe")
    p.add_argument("overrides", nargs="*", help="config overrides for every run (key=value)")
    args = p.parse_intermixed_args(argv)
    torch.set_num_threads(1)
    rows = []
    try:
        for view in args.views.split(","):
            for method in args.methods.split(","):
                if args.probe == "actions":
                    rows.append(bonus_by_action(method, view, args.env, args.iterations, args.seed, args.overrides))
                else:
                    rows.append(goal_forgone(method, view, args.overrides))
                print(rows[-1], file=sys.stderr, flush=True)
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    _write(rows, Path(args.out) / f"{args.probe}.csv")
    keys = (["method", "view", *ACTION_TYPES] if args.probe == "actions" else
            ["method", "view", "int_stream", "reward_norm", "int_coef", "g_int_end", "g_int_wander", "forgone",
             "goal_reward", "goal_pays"])
    print(_table(rows, keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
