"""One owner of an intrinsic-reward method at run time: :class:`IntrinsicRuntime`.

Running a method takes more than its module: an Adam optimizer over the parameters that
require grad, the observation normalizer of the predictor's inputs (``ObsNormalizer``), the
reward normalizer (``IntrinsicRewardNormalizer``), the predictor's update schedule, scoring
and the state a checkpoint keeps. ``IntrinsicRuntime`` holds them all, built once from the
method's config, the predictor's grid space, the action space, the number of envs (the
method's episodic memory and the reward normalizer keep one stream per env) and the device.
Every place that runs a method uses it, so they cannot drift apart: the trainer, the tools
(``curiosity/tools/run_state.py`` for the renderer and the heatmaps, ``tv_probe.py``,
``diagnose.py``) and the library (``library.py``, ``sb3.py``).

- :meth:`observe` folds successor grids into the input statistics (``method.obs_norm``);
- :meth:`score` scores a ``(T, N)`` :class:`~curiosity.intrinsic.rollout.Rollout`, always through
  the module's ``score_rollout`` (so an episodic method reads and updates its per-env memory,
  resetting an env's where ``episode_start`` says), in eval mode without gradients, invalid
  rows 0; then the reward normalizer (the running std of the discounted intrinsic return,
  along time per env);
- :meth:`train` is the trainer's predictor update: ``method.update_epochs`` times a random
  ``method.update_proportion`` of the valid rows, in exactly ``num_minibatches`` minibatches
  (``curiosity.agent.ppo.minibatches``), Adam at ``method.lr``, the gradient clipped at
  ``method.max_grad_norm``; metrics ``intrinsic/<name>``, ``grad_norm/intrinsic[_<child>]``,
  ``losses/intrinsic``;
- :meth:`state_dict` / :meth:`load_state_dict` use the checkpoint's keys (``intrinsic``,
  ``int_optimizer``, ``obs_norm``, ``rew_norm``), so a run's checkpoint loads into it.

Stateless questions (the heatmaps' probe transitions, held-out prediction errors) use the
module's ``reward`` (:meth:`reward`) and ``loss`` (:meth:`eval_loss`), in eval mode: an
episodic method answers them as for an episode's first step. A tool that plays its own
episode scores it with :meth:`score_episode`, with fresh episodic memory and without leaving
a trace in the run's.

A method without a module (``none``, ``random``) has a runtime too: it scores 0, observes
and trains nothing, and still saves its (untouched) normalizers, as checkpoints always did.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses

import gymnasium as gym
import torch
from torch import nn

from curiosity.agent.ppo import grad_norm_tensor, minibatches
from curiosity.envs.encoding import OBS_PLANES
from curiosity.intrinsic.base import IntrinsicModule
from curiosity.intrinsic.build import build_intrinsic
from curiosity.intrinsic.normalization import IntrinsicRewardNormalizer, ObsNormalizer
from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch

STATE_KEYS = ("intrinsic", "int_optimizer", "obs_norm", "rew_norm")  # a checkpoint's method pieces


def predictor_sees_full_grid(method) -> bool:
    """Whether the method's predictor reads its own grid (the whole grid or a window of it:
    ``method.predictor_full_obs``) rather than the policy's view. Only a method with a module
    has a predictor: extrinsic-only PPO and random actions in a matched-view comparison
    (``view=window9``) neither build that grid nor size their (unused) normalizers by it."""
    return bool(method.get("predictor_full_obs", False)) and method.module is not None


@contextlib.contextmanager
def eval_mode(module: nn.Module | None):
    """Put ``module`` in eval mode for the block and restore its previous mode after."""
    was_training = module is not None and module.training
    if module is not None:
        module.eval()
    try:
        yield
    finally:
        if was_training:
            module.train()


def grid_rollout(obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor,
                 episode_start: torch.Tensor | None = None, valid: torch.Tensor | None = None) -> Rollout:
    """A :class:`Rollout` of ``(T, N)`` transitions known only as grids: ``obs``/``next_obs``
    ``(T, N, H, W, 4)``, ``action`` ``(T, N)``, ``episode_start`` ``(T, N)`` bool (default: no
    episode begins in it; a new module's memory is that of an episode's start), ``valid``
    (default all). The pose, the carried object and the state key are unknown (-1 / None),
    and so are the episode ends: a method resets its memory at ``episode_start`` only."""
    t, n = action.shape
    dev = action.device
    unknown = torch.full((t, n), -1, dtype=torch.long, device=dev)
    never = torch.zeros((t, n), dtype=torch.bool, device=dev)
    return Rollout(obs=obs, next_obs=next_obs, action=action.long(), terminated=never, truncated=never,
                   done=never, valid=torch.ones_like(never) if valid is None else valid.bool(),
                   episode_start=never if episode_start is None else episode_start.bool(),
                   agent_x=unknown, agent_y=unknown, agent_dir=unknown, carrying=unknown)


class IntrinsicRuntime:
    """A method's module, optimizer, normalizers, scoring, update schedule and state (module doc).

    ``obs_space``: the predictor's compact grid Box ``(H, W, 4)``; ``num_envs``: the parallel
    streams (episodic memory, reward normalizer) a scored rollout has. ``module``: a module
    built elsewhere to run instead of ``method.module`` (a test's probe).
    """

    def __init__(self, method, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 num_envs: int = 1, device: str | torch.device = "cpu", module: IntrinsicModule | None = None):
        self.method = method
        self.obs_space, self.action_space = obs_space, action_space
        self.num_envs, self.device = int(num_envs), torch.device(device)
        # the module first (its initialisation draws from torch's global RNG), then the rest
        self.module = build_intrinsic(method, obs_space, action_space, self.num_envs) if module is None else module
        self.optimizer: torch.optim.Optimizer | None = None
        if self.module is not None:
            self.module.to(self.device)
            trainable = self.trainable_parameters()
            if trainable:  # frozen parts (RND's target) stay in the state dict, out of Adam
                self.optimizer = torch.optim.Adam(trainable, lr=method.lr)
        h, w, _ = obs_space.shape
        self.obs_norm = ObsNormalizer((OBS_PLANES, h, w), device=self.device, enabled=method.obs_norm)
        self.rew_norm = IntrinsicRewardNormalizer(self.num_envs, method.gamma_int, device=self.device,
                                                  enabled=method.reward_norm)

    # ------------------------------------------------------------------ facts
    @property
    def same_window_successor(self) -> bool:
        """Whether the module reads the same-window successor (a forward model's change target)."""
        return bool(getattr(self.module, "same_window_successor", False))

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [] if self.module is None else [p for p in self.module.parameters() if p.requires_grad]

    def transitions(self, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor) -> TransitionBatch:
        """B transitions as every scorer builds them: one-hot planes, normalized by ``obs_norm``."""
        return TransitionBatch.from_grids(obs, action, next_obs, self.obs_norm)

    # ------------------------------------------------------------------ statistics and scoring
    def observe(self, next_grids: torch.Tensor, valid: torch.Tensor | None = None) -> None:
        """Fold successor grids (``(..., H, W, 4)``; the rows where ``valid``) into the input
        statistics (no-op without a module or without ``method.obs_norm``)."""
        if self.module is None:
            return
        grids = next_grids.reshape(-1, *next_grids.shape[-3:])
        if valid is not None:
            grids = grids[torch.nonzero(valid.reshape(-1), as_tuple=True)[0]]
        self.obs_norm.update_onehot(grids)

    @torch.no_grad()
    def score_raw(self, rollout: Rollout) -> torch.Tensor:
        """Raw reward ``(T, N)`` through the module's ``score_rollout`` (eval mode, inputs
        normalized by ``obs_norm``; episodic memory read and updated); invalid rows 0."""
        if self.module is None:
            return torch.zeros(rollout.action.shape, device=rollout.action.device)
        rollout = dataclasses.replace(rollout, normalize=self.obs_norm)
        with eval_mode(self.module):
            raw = self.module.score_rollout(rollout).float()
        return raw * rollout.valid

    def normalize(self, raw: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``raw`` ``(T, N)`` divided by the running std of the discounted intrinsic return per
        env (statistics updated; rows with ``valid`` False give 0 and do not enter them)."""
        return self.rew_norm(raw, valid)

    @torch.no_grad()
    def score(self, rollout: Rollout) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw, normalized) rewards ``(T, N)`` of a rollout of the ``num_envs`` streams.
        Without a module both are 0 and the normalizer is not touched."""
        raw = self.score_raw(rollout)
        if self.module is None:
            return raw, torch.zeros_like(raw)
        return raw, self.normalize(raw, rollout.valid)

    @torch.no_grad()
    def score_episode(self, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor) -> torch.Tensor:
        """Raw reward ``(T,)`` of one episode's T transitions in order (a tool playing its own
        episode): scored as the trainer scores env 0 of a rollout whose episode begins at the
        first row, with fresh episodic memory; the module's memory (and any lifelong count)
        is restored after, so the run it belongs to is left as it was."""
        t = len(action)
        if self.module is None or t == 0:
            return torch.zeros(t, device=self.device)
        n = self.num_envs  # the other envs' columns are invalid rows: no method reads or writes them
        pad = lambda x: torch.zeros((t, n, *x.shape[1:]), dtype=x.dtype, device=self.device)  # noqa: E731
        grids, succ, acts = pad(obs), pad(next_obs), torch.zeros((t, n), dtype=torch.long, device=self.device)
        grids[:, 0], succ[:, 0], acts[:, 0] = obs.to(self.device), next_obs.to(self.device), action.to(self.device)
        valid = torch.zeros((t, n), dtype=torch.bool, device=self.device)
        valid[:, 0] = True
        start = torch.zeros_like(valid)
        start[0, 0] = True
        saved = copy.deepcopy(self.module.state_dict())
        try:
            raw = self.score_raw(grid_rollout(grids, acts, succ, episode_start=start, valid=valid))
        finally:
            self.module.load_state_dict(saved)
        return raw[:, 0]

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        """The module's stateless ``reward`` ``(B,)`` in eval mode (zeros without a module): for
        probe transitions out of any episode (an episodic method: as an episode's first step)."""
        if self.module is None:
            return torch.zeros(len(batch), device=batch.action.device)
        with eval_mode(self.module):
            return self.module.reward(batch).float()

    @torch.no_grad()
    def eval_loss(self, batch: TransitionBatch) -> float:
        """The module's own training loss on ``batch`` in eval mode (NaN without a module)."""
        if self.module is None:
            return float("nan")
        with eval_mode(self.module):
            loss, _ = self.module.loss(batch)
        return float(loss)

    # ------------------------------------------------------------------ training
    def _children(self) -> list[tuple[str, nn.Module]]:
        """The trained parts whose gradient norms are logged separately (ICM: encoder, inverse, forward)."""
        return [(n, c) for n, c in self.module.named_children() if any(p.requires_grad for p in c.parameters())]

    def _step(self, batch: TransitionBatch, params: list[nn.Parameter], parts) -> dict[str, torch.Tensor]:
        """One optimizer step on the module's loss; the metrics as (device) tensors or floats."""
        loss, metrics = self.module.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        metrics = {f"intrinsic/{k}": v for k, v in metrics.items()}
        metrics["grad_norm/intrinsic"] = grad_norm_tensor(params)
        if len(parts) > 1:
            metrics.update({f"grad_norm/intrinsic_{n}": grad_norm_tensor(c.parameters()) for n, c in parts})
        nn.utils.clip_grad_norm_(params, self.method.max_grad_norm)
        self.optimizer.step()
        metrics["losses/intrinsic"] = loss
        return metrics

    def _stack(self, metrics: dict) -> torch.Tensor:
        return torch.stack([torch.as_tensor(v, device=self.device).detach().to(torch.float64).reshape(())
                            for v in metrics.values()])

    def train_step(self, batch: TransitionBatch) -> dict[str, float]:
        """One optimizer step on ``batch`` (no schedule); {} when nothing is trainable."""
        if self.module is None or self.optimizer is None:
            return {}
        metrics = self._step(batch, self.trainable_parameters(), self._children())
        return dict(zip(metrics, self._stack(metrics).tolist()))

    def train(self, rollout: Rollout, num_minibatches: int, generator: torch.Generator | None = None) -> dict:
        """The predictor update on one rollout (module doc); metrics averaged over its steps
        (one host sync per update). Random draws from ``generator``, else torch's global RNG:
        per epoch one ``rand`` over the valid rows, one ``randperm`` of those kept."""
        if self.module is None or self.optimizer is None:
            return {}
        m = self.method
        rollout = dataclasses.replace(rollout, normalize=self.obs_norm)
        valid_idx = torch.nonzero(rollout.valid.reshape(-1), as_tuple=True)[0]
        draw_device = generator.device if generator is not None else self.device
        params, parts = self.trainable_parameters(), self._children()
        sums, names, count = None, [], 0  # metric sums stay on the device: one host sync per update
        for _ in range(m.update_epochs):
            draw = torch.rand(len(valid_idx), generator=generator, device=draw_device).to(self.device)
            keep = valid_idx[draw < m.update_proportion]
            order = torch.randperm(len(keep), generator=generator, device=draw_device).to(self.device)
            perm = keep[order]
            for idx in minibatches(perm, num_minibatches) if len(perm) else ():
                metrics = self._step(rollout.transitions(idx), params, parts)
                names = list(metrics)
                values = self._stack(metrics)
                sums = values if sums is None else sums + values
                count += 1
        return {} if sums is None else {k: v / count for k, v in zip(names, sums.tolist())}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """The checkpoint's pieces of the method: ``intrinsic`` (weights and episodic memory),
        ``int_optimizer``, ``obs_norm``, ``rew_norm`` (None where there is no module/optimizer)."""
        return {
            "intrinsic": None if self.module is None else self.module.state_dict(),
            "int_optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
            "obs_norm": self.obs_norm.state_dict(),
            "rew_norm": self.rew_norm.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` (or a checkpoint) holds; a checkpoint saved without an
        optimizer state (a tool's dump) leaves the fresh optimizer as it is."""
        if self.module is not None:
            self.module.load_state_dict(state["intrinsic"])
            if self.optimizer is not None and state.get("int_optimizer") is not None:
                self.optimizer.load_state_dict(state["int_optimizer"])
        self.obs_norm.load_state_dict(state["obs_norm"])
        self.rew_norm.load_state_dict(state["rew_norm"])
