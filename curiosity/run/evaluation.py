"""Periodic evaluation on held-out levels, logged to ``eval.csv`` apart from training.

Every ``eval.every`` iterations (and after the last one) the current policy plays
``eval.episodes`` episodes, one on each held-out level seed (``envs.levels``), on its own
envs with its own RNG: evaluating never changes the training run's random streams, so a
run with evaluation on trains exactly like one with it off. The policy acts ``sampled``
(as in training) or ``greedy`` (argmax); the random-action agent always acts uniformly.
A recurrent policy gets its own state per evaluation episode, zero at the episode's start
and carried through it (never the training envs' state).
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from curiosity.envs.levels import heldout_level_seeds
from curiosity.envs.vector import make_single_env
from curiosity.seeding import RunStreams

EVAL_FILE = "eval.csv"
EVAL_FIELDS = (
    "iteration",
    "frames",
    "policy",
    "eval/episodes",
    "eval/success",
    "eval/episode_return",
    "eval/return_std",
    "eval/episode_length",
    "eval/wall_s",
)


class EvalLog:
    """Appends one row per evaluation to ``eval.csv``, flushed, cut back on resume."""

    def __init__(self, run_dir: Path, resume_iteration: int | None):
        self.path = Path(run_dir) / EVAL_FILE
        if self.path.exists():
            if resume_iteration is None:
                self.path.unlink()
            else:
                self._truncate(resume_iteration)

    def _truncate(self, iteration: int) -> None:
        with open(self.path, newline="") as f:
            keep = [r for r in csv.DictReader(f) if int(r["iteration"]) <= iteration]
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=EVAL_FIELDS)
            writer.writeheader()
            writer.writerows(keep)

    def write(self, row: dict) -> None:
        new_file = not self.path.exists()
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=EVAL_FIELDS)
            if new_file:
                writer.writeheader()
            writer.writerow(row)
            f.flush()
            os.fsync(f.fileno())


class HeldOutEvaluator:
    """Plays one episode per held-out level with the current policy and logs the result."""

    def __init__(self, cfg: DictConfig, run_dir: Path, device: torch.device,
                 resume_iteration: int | None = None, wandb_run=None):
        self.every = cfg.eval.every
        self.greedy = cfg.eval.policy == "greedy"
        self.policy_name = cfg.eval.policy
        self.seed = cfg.seed
        self.device = device
        env_cfg = OmegaConf.merge(cfg.env, {"train_levels": 0})  # layouts come from the held-out seeds
        self.level_seeds = heldout_level_seeds(cfg.eval.episodes)
        # each env pinned to its held-out level; the reset seed only seeds its wrappers
        # (sticky actions, TV), from the run's stream: independent across runs and evaluations
        self.envs = [make_single_env(env_cfg, level_seeds=[s]) for s in self.level_seeds]
        self.streams = RunStreams(cfg.seed)
        self.num_actions = int(self.envs[0].action_space.n)
        self.log = EvalLog(run_dir, resume_iteration)
        self.wandb_run = wandb_run

    def due(self, iteration: int, last_iteration: int) -> bool:
        return self.every > 0 and (iteration % self.every == 0 or iteration == last_iteration)

    def _actions(self, agent, obs: np.ndarray, gen: torch.Generator, memory: dict | None = None,
                 rows: torch.Tensor | None = None) -> np.ndarray:
        """Actions for ``obs``. A recurrent policy reads and updates ``memory`` (``state`` and
        ``start`` of every evaluation episode) at ``rows``, the episodes ``obs`` belongs to."""
        if agent is None:  # random-action agent: uniform in every mode
            logits = torch.zeros(len(obs), self.num_actions, device=self.device)
        elif memory is not None:
            logits, _, _, state = agent.step(torch.as_tensor(obs, device=self.device),
                                             memory["state"][rows], memory["start"][rows])
            memory["state"][rows] = state
            memory["start"][rows] = False
        else:
            logits = agent(torch.as_tensor(obs, device=self.device))[0]
        if self.greedy and agent is not None:
            actions = logits.argmax(dim=-1)
        else:
            actions = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen).squeeze(-1)
        return actions.cpu().numpy()

    def play(self, agent, iteration: int) -> dict[str, np.ndarray]:
        """Per-episode return, length and success on every held-out level (``agent=None``: random)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny batches: extra intra-op threads only spin (20x slower on 2 busy cores)
        try:
            return self._play(agent, iteration)
        finally:
            torch.set_num_threads(threads)

    @torch.inference_mode()
    def _play(self, agent, iteration: int) -> dict[str, np.ndarray]:
        gen = torch.Generator(device=self.device).manual_seed(self.streams.eval_seed(iteration))
        n = len(self.envs)
        obs = np.stack([env.reset(seed=self.streams.eval_seed(iteration, 1 + i))[0]
                        for i, env in enumerate(self.envs)])
        returns, lengths, success = np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n)
        active = np.ones(n, dtype=bool)
        memory = None
        if getattr(agent, "is_recurrent", False):  # one episode per env: reset at its first step
            memory = {"state": agent.initial_state(n, self.device),
                      "start": torch.ones(n, dtype=torch.bool, device=self.device)}
        while active.any():
            idx = np.flatnonzero(active)
            actions = self._actions(agent, obs[idx], gen, memory, torch.as_tensor(idx, device=self.device))
            for i, action in zip(idx, actions):
                next_obs, reward, terminated, truncated, info = self.envs[i].step(int(action))
                returns[i] += reward
                lengths[i] += 1
                if terminated or truncated:
                    active[i] = False
                    success[i] = info["episode_success"]
                else:
                    obs[i] = next_obs
        return {"return": returns, "length": lengths, "success": success}

    def evaluate(self, agent, iteration: int, frames: int) -> dict:
        """Play the held-out levels, append a row to eval.csv (and wandb), return the row."""
        start = time.perf_counter()
        episodes = self.play(agent, iteration)
        row = {
            "iteration": iteration,
            "frames": frames,
            "policy": self.policy_name,
            "eval/episodes": len(self.envs),
            "eval/success": float(episodes["success"].mean()),
            "eval/episode_return": float(episodes["return"].mean()),
            "eval/return_std": float(episodes["return"].std()),
            "eval/episode_length": float(episodes["length"].mean()),
            "eval/wall_s": time.perf_counter() - start,
        }
        self.log.write(row)
        if self.wandb_run is not None:
            self.wandb_run.log({k: v for k, v in row.items() if k.startswith("eval/")}, step=frames)
        return row

    def close(self) -> None:
        for env in self.envs:
            env.close()
