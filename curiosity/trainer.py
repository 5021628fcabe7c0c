"""The training loop: rollout -> intrinsic reward -> GAE on two streams -> PPO + predictor.

Reads top to bottom in one place (CleanRL style); the pieces it calls live in ``agent/``,
``intrinsic/``, ``envs/`` and ``baselines/``.
"""

from __future__ import annotations

import math
import random
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from curiosity.agent import (
    ActorCritic,
    RolloutStorage,
    compute_gae,
    continuing_successor_values,
    explained_variance,
    make_policy,
    ppo_update,
    ppo_update_recurrent,
)
from curiosity.config import ConfigError
from curiosity.envs import make_vector_env
from curiosity.envs.interface import VectorEnv
from curiosity.envs.noisy_tv import TV_KEYS, tv_distraction_metrics
from curiosity.intrinsic import TransitionBatch
from curiosity.intrinsic.build import wants_state_keys
from curiosity.intrinsic.runtime import IntrinsicRuntime, predictor_sees_full_grid
from curiosity.run.checkpoint import check_resume_compatible, load_checkpoint, save_checkpoint
from curiosity.run.exploration import ExplorationTracker
from curiosity.run.hooks import Hook, standard_hooks
from curiosity.run.metrics import MetricsSink
from curiosity.run.nan_guard import NanGuard, NonFiniteError
from curiosity.run.run_info import collect_run_info, write_json
from curiosity.seeding import RunStreams

SCORE_CHUNK = 4096  # rows per forward pass when scoring a whole rollout


def seed_everything(seed: int, deterministic: bool) -> None:
    """Seed the global generators from the run's streams (``curiosity.seeding``), so no two
    runs share a torch, numpy or python stream and the same seed repeats exactly."""
    streams = RunStreams(seed)
    random.seed(streams.python_seed())
    np.random.seed(streams.numpy_seed())
    torch.manual_seed(streams.torch_seed())  # also seeds every CUDA device
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def _stats(x: torch.Tensor, prefix: str) -> dict:
    return {f"{prefix}_mean": float(x.mean()), f"{prefix}_min": float(x.min()), f"{prefix}_max": float(x.max())}


def _nanmean(values: list) -> float:
    return float(np.mean(values)) if values else float("nan")


class Trainer:
    def __init__(self, cfg: DictConfig, run_dir: Path, hooks: list[Hook] | None = None):
        """``hooks``: what runs after each iteration and at the end (None: the standard
        evaluation, visitation and checkpoint hooks; ``curiosity.run.hooks``)."""
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(cfg.device)
        seed_everything(cfg.seed, cfg.deterministic)
        if cfg.torch_threads:  # 0 = auto, decided by curiosity.train (1 thread in parallel sweeps)
            torch.set_num_threads(cfg.torch_threads)

        # a checkpoint to resume from is read first: a changed setting is refused before any
        # work, and envs that cannot be restored are reseeded for the resumed iteration
        resume_state = load_checkpoint(self.run_dir, map_location=self.device) if cfg.resume else None
        if resume_state is not None:
            check_resume_compatible(resume_state.get("config"), cfg)
        generation = 0 if resume_state is None else int(resume_state["iteration"])
        # the predictor's own grid is built only for a method with a predictor: extrinsic-only
        # PPO and random actions in a matched-view comparison would pay for it and lose envpool
        self.predictor_grid = predictor_sees_full_grid(cfg.method)
        self.envs: VectorEnv = make_vector_env(cfg.env, cfg.seed, full_grid_info=self.predictor_grid,
                                    grid_crop=cfg.method.predictor_crop, generation=generation,
                                    state_keys=wants_state_keys(cfg.method))
        spec = self.envs.summary
        self.num_envs = cfg.env.num_envs
        self.num_actions = spec.num_actions
        self.batch_size = cfg.agent.num_steps * self.num_envs
        self.num_iterations = cfg.total_frames // self.batch_size

        a = cfg.agent
        self.agent = ActorCritic(spec.obs_shape, spec.num_actions, a.conv_channels, a.hidden_size,
                                 recurrent=a.recurrent).to(self.device)
        self.optimizer = torch.optim.Adam(self.agent.parameters(), lr=a.lr, eps=a.adam_eps)
        # what acts: the network, or uniform actions for the random-action agent (policy.learns)
        self.policy = make_policy(cfg.method, self.agent, spec.num_actions)

        m = cfg.method
        # the predictor's grid: the policy's view, or the whole grid (method.predictor_full_obs)
        # or a window of it around the agent (method.predictor_crop)
        pred_space = self.envs.full_grid_space if self.predictor_grid else self.envs.single_observation_space
        # the method at run time: module, its optimizer, both normalizers, scoring, its update
        self.runtime = IntrinsicRuntime(m, pred_space, self.envs.single_action_space, self.num_envs, self.device)
        self.storage = RolloutStorage(a.num_steps, self.num_envs, spec.obs_shape, self.device,
                                      pred_shape=pred_space.shape if self.predictor_grid else None,
                                      state_size=self.agent.state_size)
        # a forward model's change target is cut from the window the step was taken in; every
        # other method scores the grid the agent acts from next (curiosity/envs/full_grid.py)
        self.storage.same_window = self.runtime.same_window_successor
        # True where the obs to act on next begins an episode (the rollout's episode_start)
        self.next_episode_start = np.ones(self.num_envs, dtype=bool)
        # the recurrent policy's state carried to the next step, (N, S); (N, 0) when feed-forward
        self.agent_state = self.agent.initial_state(self.num_envs, self.device)
        self.explore = ExplorationTracker(self.num_envs, spec.grid_width, spec.grid_height)
        self.nan_guard = NanGuard(self)  # stops the run at the first NaN/inf, dumps to nan_dump/
        # this rollout's noisy-TV flags (tv_action, tv_in_view, tv_in_prev_view) for the tv/* metrics
        self.tv_flags = None
        if cfg.env.noisy_tv != "none":
            self.tv_flags = np.zeros((len(TV_KEYS), a.num_steps, self.num_envs), dtype=bool)

        self.iteration = 0
        self.elapsed = 0.0  # wall seconds of training, carried across resumes
        self.obs = None
        self._warned_unpicklable = False
        self.resumed = resume_state is not None
        if self.resumed:
            self._resume(resume_state)
        if not self.resumed:
            self.obs, info = self.envs.reset()
            if self.runtime.module is not None and m.obs_norm and m.obs_norm_init_steps > 0:
                self._init_obs_norm(m.obs_norm_init_steps)
                # warm-up steps are not training frames: start from the same reset as without them
                self.obs, info = self.envs.reset()
            self.explore.start(info["agent_x"], info["agent_y"], info["agent_dir"])
            self.storage.start_predictor(info)
        OmegaConf.save(cfg, self.run_dir / "config.yaml", resolve=True)
        info_path = self.run_dir / "run_info.json"
        if not info_path.exists():
            write_json(info_path, collect_run_info(cfg.device))
        self.sink = MetricsSink(self.run_dir, cfg, cfg.total_frames,
                                resume_iteration=self.iteration if self.resumed else None)
        self.hooks = standard_hooks(cfg) if hooks is None else list(hooks)
        for hook in self.hooks:
            hook.setup(self)

    # ------------------------------------------------------------------ the method's parts (runtime)
    @property
    def intrinsic(self):
        """The method's module (None for none/random): ``self.runtime.module``."""
        return self.runtime.module

    @intrinsic.setter
    def intrinsic(self, module) -> None:
        """Swap in another module (a test's probe); the optimizer stays the one built."""
        self.runtime.module = module

    @property
    def obs_norm(self):
        """The predictor's input statistics: ``self.runtime.obs_norm``."""
        return self.runtime.obs_norm

    # ------------------------------------------------------------------ setup helpers
    def _init_obs_norm(self, steps_per_env: int) -> None:
        """Initialise observation statistics from uniform-random steps (RND)."""
        for _ in range(steps_per_env):
            actions = np.random.randint(self.num_actions, size=self.num_envs)
            self.obs, *_ , info = self.envs.step(actions)
            self.runtime.observe(self.storage.advance_predictor(info, info["next_obs"]))

    def _resume(self, state: dict) -> None:
        try:
            self.agent.load_state_dict(state["agent"])
        except RuntimeError as err:  # same config keys, other code (e.g. a recurrent network
            # saved before its core gained a LayerNorm and the heads their skip input)
            first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
            raise ConfigError(f"the checkpoint's policy network does not fit this code's ({first});"
                              " it was saved by an incompatible version: resume with that"
                              " version, or start over (resume=false or a new run directory)") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.runtime.load_state_dict(state)
        self.explore.load_state_dict(state["explore"])
        torch.set_rng_state(state["torch_rng"])
        if self.device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        self.iteration, self.elapsed = state["iteration"], state["elapsed"]
        if state.get("envs") is not None and self.envs.snapshottable:
            self.envs.restore(state["envs"])
            self.obs = state["obs"]
            self.storage.load_predictor_state(state["pred_view"])
            self.next_episode_start = np.asarray(state.get("next_episode_start", self.next_episode_start))
            if state.get("agent_state") is not None:
                self.agent_state = state["agent_state"].to(self.device)
        else:  # the envs were built with streams for this iteration (generation), not the start's
            warnings.warn("resuming without the envs' state (async, envpool or unpicklable envs):"
                          " episodes restart on fresh layouts, so the continued run is not"
                          " bit-identical to an uninterrupted one", stacklevel=2)
            self.obs, info = self.envs.reset()
            self.explore.restart_episodes(info["agent_x"], info["agent_y"], info["agent_dir"])
            self.storage.start_predictor(info)
            self.next_episode_start[:] = True  # (the recurrent state resets with them)

    def _envs_snapshot(self) -> bytes | None:
        """The pickled envs, or None (warned once) when they cannot be pickled: a user task
        holding a lambda, a file handle or a generator must never lose the run at its first
        checkpoint; everything else is saved and a resume restarts episodes."""
        if not self.envs.snapshottable:  # async workers and envpool cannot be saved
            return None
        try:
            return self.envs.snapshot()
        except Exception as err:  # pickling user objects can raise anything
            if not self._warned_unpicklable:
                warnings.warn(f"checkpoint: the envs of env.id={self.cfg.env.id} cannot be pickled"
                              f" ({type(err).__name__}: {err}); saving everything else, a resume"
                              " will restart episodes", stacklevel=2)
                self._warned_unpicklable = True
            return None

    def checkpoint(self) -> None:
        save_checkpoint(self.run_dir, self.checkpoint_state())

    def checkpoint_state(self) -> dict:
        return {
            "iteration": self.iteration,
            "frames": self.iteration * self.batch_size,
            "elapsed": self.elapsed,
            "agent": self.agent.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            **self.runtime.state_dict(),  # intrinsic, int_optimizer, obs_norm, rew_norm
            "explore": self.explore.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None,
            "numpy_rng": np.random.get_state(),
            "python_rng": random.getstate(),
            "envs": self._envs_snapshot(),
            "obs": self.obs,
            "pred_view": self.storage.predictor_state(),
            "next_episode_start": self.next_episode_start.copy(),
            "agent_state": self.agent_state.clone(),
            "config": OmegaConf.to_container(self.cfg, resolve=True),
        }

    # ------------------------------------------------------------------ one iteration
    def collect_rollout(self, timers: dict) -> dict:
        s, dev = self.storage, self.device
        episodes = {"return": [], "length": [], "success": [], "cells": []}
        for step in range(self.cfg.agent.num_steps):
            t0 = time.perf_counter()
            with torch.inference_mode():
                obs_t = torch.as_tensor(self.obs, device=dev)
                if self.agent.is_recurrent:  # the state entering the step (reset inside where obs begins an episode)
                    s.states[step] = self.agent_state
                action, logprob, v_ext, v_int, self.agent_state = self.policy.step(
                    obs_t, self.agent_state, self.next_episode_start)
                s.obs[step] = obs_t
                s.actions[step] = action
                s.logprobs[step] = logprob
                s.values_ext[step] = v_ext
                s.values_int[step] = v_int
                actions_np = action.cpu().numpy()
            t1 = time.perf_counter()
            self.obs, reward, terminated, truncated, info = self.envs.step(actions_np)
            t2 = time.perf_counter()
            done = np.logical_or(terminated, truncated)
            s.record_step(step, info["next_obs"], reward, terminated, truncated, self.next_episode_start, info)
            # the next obs begins an episode after an episode end, and after an invalid row
            # (envpool's autoreset row: its obs was the final one, the reset obs comes next)
            self.next_episode_start = done | ~np.asarray(info["valid"], dtype=bool)
            if self.tv_flags is not None:
                for row, key in enumerate(TV_KEYS):
                    self.tv_flags[row, step] = info[key]
            cells = self.explore.step(info["agent_x"], info["agent_y"], info["agent_dir"], done,
                                      info["reset_x"], info["reset_y"], info["reset_dir"])
            episodes["cells"].extend(cells)
            ended = np.flatnonzero(done & info["valid"])
            episodes["return"].extend(info["episode_return"][ended].tolist())
            episodes["length"].extend(info["episode_length"][ended].tolist())
            episodes["success"].extend(info["episode_success"][ended].tolist())
            timers["inference"] += t1 - t0
            timers["env"] += t2 - t1
            timers["storage"] += time.perf_counter() - t2
        t3 = time.perf_counter()
        s.upload()  # the env's outputs reach the device once per rollout
        timers["storage"] += time.perf_counter() - t3
        return episodes

    @torch.inference_mode()
    def _bootstrap_values(self) -> None:
        """V(successor) for every row.

        Episodic streams (extrinsic, and intrinsic with ``method.int_stream=episodic``): the final obs
        at episode ends, so truncation bootstraps. Mid-episode the successor is the next
        row's obs, whose values the rollout already computed; only episode ends, invalid
        rows and the last step need a forward pass (about 1/13 of an iteration's FLOPs saved).
        The continuing intrinsic stream (RND's definition) takes the next valid row's value
        instead, and V_int(obs to act on next) after the last row.
        """
        s = self.storage
        if not self.policy.learns:  # no values to bootstrap (the random agent's stay 0)
            return
        s.next_values_ext[:-1] = s.values_ext[1:]
        s.next_values_int[:-1] = s.values_int[1:]
        need = (s.dones > 0) | (s.valid < 1)
        need[-1] = True
        idx = torch.nonzero(need.reshape(-1), as_tuple=True)[0]
        flat = s.flat("next_obs")[idx]
        if self.agent.is_recurrent:  # a successor is read with the state after its step
            after = s.states_after(self.agent_state)
            after = after.reshape(-1, after.shape[-1])[idx]
            ext, intr = zip(*(self.agent.values(flat[i : i + SCORE_CHUNK], after[i : i + SCORE_CHUNK])
                              for i in range(0, len(flat), SCORE_CHUNK)))
        else:
            ext, intr = zip(*(self.agent.values(flat[i : i + SCORE_CHUNK]) for i in range(0, len(flat), SCORE_CHUNK)))
        s.next_values_ext.view(-1)[idx] = torch.cat(ext)
        s.next_values_int.view(-1)[idx] = torch.cat(intr)
        if self.cfg.method.int_stream == "continuing" and self.agent.is_recurrent:
            start = torch.as_tensor(self.next_episode_start, device=self.device)
            last_int = self.agent.step(torch.as_tensor(self.obs, device=self.device), self.agent_state, start)[2]
            s.next_values_int.copy_(continuing_successor_values(s.values_int, s.valid, last_int))
        elif self.cfg.method.int_stream == "continuing":
            last_int = self.agent.values(torch.as_tensor(self.obs, device=self.device))[1]
            s.next_values_int.copy_(continuing_successor_values(s.values_int, s.valid, last_int))

    def _transitions(self, idx: torch.Tensor | None = None) -> TransitionBatch:
        return self.storage.rollout(self.runtime.obs_norm).transitions(idx)

    @torch.no_grad()
    def score_intrinsic(self) -> None:
        """Fill rewards_int (raw and normalized) before GAE; invalid rows score 0. The
        successors' planes feed the input statistics first (the grid acted from next)."""
        s = self.storage
        self.runtime.observe(s.pred_next_obs, s.valid)
        raw, normalized = self.runtime.score(s.rollout())
        s.rewards_int_raw.copy_(raw)
        s.rewards_int.copy_(normalized)

    def train_intrinsic(self) -> dict:
        """Train the predictor on ``update_proportion`` of the valid rows, ``update_epochs`` times
        (not for a policy that does not learn)."""
        if not self.policy.learns:
            return {}
        return self.runtime.train(self.storage.rollout(), self.cfg.agent.num_minibatches)

    def compute_advantages(self) -> dict:
        s, a, m = self.storage, self.cfg.agent, self.cfg.method
        adv_ext, ret_ext = compute_gae(s.rewards_ext, s.values_ext, s.next_values_ext, s.terminated,
                                       s.dones, s.valid, a.gamma, a.gae_lambda)
        if m.int_stream == "episodic":
            term_int, done_int = s.terminated, s.dones
        else:  # non-episodic: the intrinsic return flows across episode ends (RND)
            term_int = done_int = torch.zeros_like(s.dones)
        adv_int, ret_int = compute_gae(s.rewards_int, s.values_int, s.next_values_int, term_int,
                                       done_int, s.valid, m.gamma_int, m.lambda_int)
        return {"adv_ext": adv_ext, "ret_ext": ret_ext, "adv_int": adv_int, "ret_int": ret_int,
                "advantages": m.ext_coef * adv_ext + m.int_coef * adv_int}

    def update_policy(self, gae: dict) -> dict:
        if not self.policy.learns:
            return {}
        s, a = self.storage, self.cfg.agent
        if a.anneal_lr:
            # iteration counts from 1: the first update uses the full lr, the last lr/N (CleanRL)
            frac = 1.0 - (self.iteration - 1) / self.num_iterations
            self.optimizer.param_groups[0]["lr"] = a.lr * frac
        idx = torch.nonzero(s.valid.reshape(-1), as_tuple=True)[0]
        flat = lambda x: x.reshape(-1, *x.shape[2:])[idx]  # noqa: E731
        batch = {
            "obs": flat(s.obs), "actions": flat(s.actions), "logprobs": flat(s.logprobs),
            "advantages": flat(gae["advantages"]), "returns_ext": flat(gae["ret_ext"]),
            "returns_int": flat(gae["ret_int"]), "values_ext": flat(s.values_ext),
            "values_int": flat(s.values_int),
        }
        use_int = self.runtime.module is not None and self.cfg.method.int_coef > 0
        if self.agent.is_recurrent:  # whole env sequences, replayed from the rollout's first state
            seq = {"obs": s.obs, "actions": s.actions, "logprobs": s.logprobs,
                   "advantages": gae["advantages"], "returns_ext": gae["ret_ext"], "returns_int": gae["ret_int"],
                   "values_ext": s.values_ext, "values_int": s.values_int, "valid": s.valid,
                   "episode_start": s.episode_start, "initial_state": s.states[0]}
            out = ppo_update_recurrent(self.agent, self.optimizer, seq, a, use_int_value=use_int)
        else:
            out = ppo_update(self.agent, self.optimizer, batch, a, use_int_value=use_int)
        out["losses/explained_var_ext"] = explained_variance(batch["values_ext"], batch["returns_ext"])
        out["losses/explained_var_int"] = (explained_variance(batch["values_int"], batch["returns_int"])
                                           if use_int else float("nan"))
        out["losses/lr"] = self.optimizer.param_groups[0]["lr"]
        return out

    def iteration_metrics(self, episodes: dict, timers: dict, update: dict, int_update: dict) -> dict:
        s = self.storage
        valid = s.valid.bool()
        frames = self.iteration * self.batch_size
        counts = torch.bincount(s.actions[valid], minlength=self.num_actions).float()
        freqs = (counts / counts.sum().clamp(min=1)).tolist()
        row = {
            "iteration": self.iteration,
            "frames": frames,
            "charts/episodes": len(episodes["return"]),
            "charts/episode_return": _nanmean(episodes["return"]),
            "charts/episode_length": _nanmean(episodes["length"]),
            "charts/success": _nanmean(episodes["success"]),
            "explore/cells_per_episode": _nanmean(episodes["cells"]),
            "explore/distinct_states_total": self.explore.distinct_states,
            "reward/ext_mean": float(s.rewards_ext[valid].mean()),
            "reward/int_raw_mean": float(s.rewards_int_raw[valid].mean()),
            "reward/int_raw_max": float(s.rewards_int_raw[valid].max()),
            "reward/int_norm_mean": float(s.rewards_int[valid].mean()),
            "reward/int_scaled_mean": float(self.cfg.method.int_coef * s.rewards_int[valid].mean()),
            **_stats(s.values_ext[valid], "values/ext"),
            **_stats(s.values_int[valid], "values/int"),
            **{f"actions/freq_{i}": f for i, f in enumerate(freqs)},
        }
        row.update(update)
        row.update(int_update)
        if self.tv_flags is not None:  # same keys every iteration (NaN share when no intrinsic reward)
            flags = torch.as_tensor(self.tv_flags, device=self.device)
            row.update(tv_distraction_metrics(*flags, s.rewards_int_raw, s.valid))
        sps = self.batch_size / max(sum(timers.values()), 1e-9)
        row.update({f"time/{k}": v for k, v in timers.items()})
        row["time/sps"] = sps
        row["time/elapsed"] = self.elapsed
        return row

    # ------------------------------------------------------------------ the loop
    def train(self, max_iterations: int | None = None) -> dict:
        """Run until ``total_frames`` (or ``max_iterations`` more iterations, for tests)."""
        stop_at = self.num_iterations if max_iterations is None else min(
            self.num_iterations, self.iteration + max_iterations)
        row = {}
        try:
            while self.iteration < stop_at:
                start = time.perf_counter()
                # intrinsic_score: scoring the rollout; intrinsic_train: the method's own update
                timers = {"env": 0.0, "inference": 0.0, "storage": 0.0, "intrinsic_score": 0.0,
                          "intrinsic_train": 0.0, "update": 0.0}
                self.iteration += 1
                episodes = self.collect_rollout(timers)

                t0 = time.perf_counter()
                self.score_intrinsic()
                self.nan_guard.check_rollout()
                t_scored = time.perf_counter()
                int_update = self.train_intrinsic()
                t1 = time.perf_counter()
                self._bootstrap_values()
                gae = self.compute_advantages()
                update = self.update_policy(gae)
                t2 = time.perf_counter()
                timers["intrinsic_score"] += t_scored - t0
                timers["intrinsic_train"] += t1 - t_scored
                timers["update"] += t2 - t1
                self.elapsed += time.perf_counter() - start

                row = self.iteration_metrics(episodes, timers, update, int_update)
                self.sink.log(row)
                self.nan_guard.check_metrics(row)
                for hook in self.hooks:  # evaluation, visitation, checkpoints, renders
                    hook.after_iteration(self, row)
        except NonFiniteError as err:
            dump = self.nan_guard.dump(err)
            raise NonFiniteError(err.quantity, err.iteration, f"{err.detail} (dump: {dump})") from None
        finally:
            self.sink.bar.refresh()
        if self.iteration >= self.num_iterations:
            for hook in self.hooks:
                hook.on_finish(self, row)
            self.write_summary(row)
        return row

    def write_summary(self, last_row: dict) -> None:
        write_json(self.run_dir / "summary.json", {
            "status": "finished",
            "iterations": self.iteration,
            "frames": self.iteration * self.batch_size,
            "wall_time_s": self.elapsed,
            "env": self.cfg.env.id,
            "method": self.cfg.method.name,
            "seed": self.cfg.seed,
            "last_metrics": {k: v for k, v in last_row.items() if not isinstance(v, float) or math.isfinite(v)},
        })

    def close(self) -> None:
        for hook in getattr(self, "hooks", ()):
            hook.close()
        self.sink.close()
        self.envs.close()
