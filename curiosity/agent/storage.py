"""Preallocated (T, N) rollout storage, created once on ``device``: the one home of
everything the update and the intrinsic method read."""

from __future__ import annotations

import numpy as np
import torch

from curiosity.intrinsic.rollout import Rollout


class RolloutStorage:
    """Holds one rollout of T steps from N envs.

    ``next_obs[t]`` is the true successor of ``obs[t]`` under ``actions[t]`` (the final
    observation where an episode ended), so forward models and value bootstrapping never
    see a reset observation as a successor. ``valid[t]`` is False for rows that are not
    real transitions (a backend's autoreset step); they are excluded from every loss.

    The predictor's grids ``pred_obs``/``pred_next_obs`` are the policy's ``obs``/``next_obs``
    themselves, or, with ``pred_shape`` (``method.predictor_full_obs``), a separate copy of the
    whole grid or a window of it, filled from the env's ``full_grid``/``next_full_grid``
    info: ``pred_next_obs[t]`` is the grid the agent acts from next (the window re-centred
    after a move), ``pred_next_obs_fixed[t]`` the grid after the step cut from ``pred_obs[t]``'s
    window (the forward models' change target; ``same_window`` picks it for the method).
    ``pred_current`` is the grid the next action is taken in (saved in checkpoints).

    A recurrent policy (``state_size`` > 0) also keeps ``states[t]``: the state carried
    into step t, before the reset where ``episode_start[t]`` is True. ``states[0]`` is the
    state at the rollout's start, from which the PPO update replays each env's sequence;
    ``states[t + 1]`` is the state after step t, which bootstraps V(next_obs[t]).

    What the env returns (``STAGED``: successors, rewards, flags, poses, the predictor's
    grids) is written each step into host arrays, ``host[name][t]``, and reaches ``device``
    in one copy per field per rollout (``upload``), never one per step: on a GPU a per-step
    copy is a host-device round trip. On the CPU the host arrays are numpy views of the
    storage tensors themselves, so ``upload`` copies nothing.
    """

    STAGED = ("next_obs", "rewards_ext", "terminated", "truncated", "dones", "valid", "episode_start",
              "agent_x", "agent_y", "agent_dir", "carrying")

    def __init__(self, num_steps: int, num_envs: int, obs_shape, device: torch.device,
                 pred_shape=None, state_size: int = 0, stage: bool | None = None):
        """``stage``: write the env's outputs to separate host arrays and copy them once per
        rollout (default: only when ``device`` is not the CPU; True on the CPU tests that path)."""
        t, n = num_steps, num_envs
        kw = {"device": device}
        self.obs = torch.zeros((t, n, *obs_shape), dtype=torch.uint8, **kw)
        self.next_obs = torch.zeros((t, n, *obs_shape), dtype=torch.uint8, **kw)
        self.actions = torch.zeros((t, n), dtype=torch.long, **kw)
        self.logprobs = torch.zeros((t, n), **kw)
        self.rewards_ext = torch.zeros((t, n), **kw)
        self.rewards_int = torch.zeros((t, n), **kw)  # normalized, filled before GAE
        self.rewards_int_raw = torch.zeros((t, n), **kw)
        self.terminated = torch.zeros((t, n), **kw)
        self.truncated = torch.zeros((t, n), **kw)
        self.dones = torch.zeros((t, n), **kw)  # terminated or truncated
        self.valid = torch.ones((t, n), **kw)
        self.episode_start = torch.zeros((t, n), dtype=torch.bool, **kw)  # obs[t] begins an episode
        self.values_ext = torch.zeros((t, n), **kw)
        self.values_int = torch.zeros((t, n), **kw)
        self.next_values_ext = torch.zeros((t, n), **kw)
        self.next_values_int = torch.zeros((t, n), **kw)
        self.states = torch.zeros((t, n, state_size), **kw)  # (T, N, 0) for a feed-forward policy
        # the agent's pose and carried object after the action (before any reset); -1 unknown
        self.agent_x = torch.full((t, n), -1, dtype=torch.long, **kw)
        self.agent_y = torch.full((t, n), -1, dtype=torch.long, **kw)
        self.agent_dir = torch.full((t, n), -1, dtype=torch.long, **kw)
        self.carrying = torch.full((t, n), -1, dtype=torch.long, **kw)
        self.separate_view = pred_shape is not None
        staged = list(self.STAGED)
        if self.separate_view:
            self.pred_obs = torch.zeros((t, n, *pred_shape), dtype=torch.uint8, **kw)
            self.pred_next_obs = torch.zeros((t, n, *pred_shape), dtype=torch.uint8, **kw)
            self.pred_next_obs_fixed = torch.zeros((t, n, *pred_shape), dtype=torch.uint8, **kw)
            # the grid the next action is taken in, kept on the host (it comes from the env)
            self.pred_current = np.zeros((n, *pred_shape), dtype=np.uint8)
            staged += ["pred_obs", "pred_next_obs", "pred_next_obs_fixed"]
        else:  # the policy's own view: the same tensors, nothing to copy
            self.pred_obs, self.pred_next_obs = self.obs, self.next_obs
            self.pred_next_obs_fixed = self.next_obs
            self.pred_current = None
        # the successor the method scores: the grid acted from next (False), or the one cut from
        # the window the step was taken in (True: a forward model's change target); the trainer
        # sets it from the method (IntrinsicModule.same_window_successor)
        self.same_window = False
        # the exact-state key of each successor (method.module.key=state), -1 where not reported
        self.state_key = torch.full((t, n), -1, dtype=torch.long, **kw)
        staged.append("state_key")
        self.num_steps, self.num_envs, self.device = t, n, torch.device(device)
        self.staged = self.device.type != "cpu" if stage is None else bool(stage)
        # host tensors of the staged fields: the device tensors themselves when not staged;
        # otherwise pinned memory where CUDA is present (asynchronous copies)
        pin = self.staged and self.device.type == "cuda"
        self._host_tensors = {name: (torch.empty(getattr(self, name).shape, dtype=getattr(self, name).dtype,
                                                 pin_memory=pin) if self.staged else getattr(self, name))
                              for name in staged}
        self.host = {name: tensor.numpy() for name, tensor in self._host_tensors.items()}

    def upload(self) -> None:
        """After the rollout's last step: every staged field to ``device``, one copy each.

        The copies may still run when this returns (pinned memory); the host arrays are next
        written after the next rollout's first action has come back from the device, which
        waits for them (same stream)."""
        if not self.staged:
            return
        for name, tensor in self._host_tensors.items():
            getattr(self, name).copy_(tensor, non_blocking=True)

    def record_step(self, step: int, next_obs, reward, terminated, truncated, episode_start, info: dict) -> None:
        """Rollout step ``step``'s env outputs into the host arrays (no device work)."""
        h = self.host
        h["next_obs"][step] = next_obs
        h["rewards_ext"][step] = reward
        h["terminated"][step] = terminated
        h["truncated"][step] = truncated
        h["dones"][step] = np.logical_or(terminated, truncated)
        h["valid"][step] = info["valid"]
        h["episode_start"][step] = episode_start
        for key in ("agent_x", "agent_y", "agent_dir", "carrying", "state_key"):
            if key in info:
                h[key][step] = info[key]
        self.record_predictor(step, info)

    def states_after(self, final_state: torch.Tensor) -> torch.Tensor:
        """(T, N, S): the state after each step (``final_state``: the one after the last)."""
        return torch.cat([self.states[1:], final_state.unsqueeze(0)])

    def flat(self, name: str) -> torch.Tensor:
        x = getattr(self, name)
        return x.reshape(self.num_steps * self.num_envs, *x.shape[2:])

    # ---------------------------------------------------------------- the predictor's grids
    def start_predictor(self, info: dict) -> None:
        """After a reset: the grids the next actions are taken in."""
        if self.separate_view:
            self.pred_current[:] = info["full_grid"]

    def advance_predictor(self, info: dict, next_obs) -> torch.Tensor:
        """After a step outside the rollout (obs-norm warm-up): the successors' grids."""
        if not self.separate_view:
            return torch.as_tensor(next_obs, device=self.device)
        nxt = torch.as_tensor(np.asarray(info["next_full_grid"]), device=self.device)
        self.pred_current[:] = info["full_grid"]
        return nxt

    def record_predictor(self, step: int, info: dict) -> None:
        """After rollout step ``step``: (grid acted in, its successor); move to the next grid."""
        if self.separate_view:
            self.host["pred_obs"][step] = self.pred_current
            self.host["pred_next_obs"][step] = info["next_full_grid"]
            self.host["pred_next_obs_fixed"][step] = info["next_full_grid_fixed"]
            self.pred_current[:] = info["full_grid"]

    def predictor_state(self) -> np.ndarray | None:
        return None if self.pred_current is None else self.pred_current.copy()

    def load_predictor_state(self, current: np.ndarray | None) -> None:
        if self.separate_view and current is not None:
            self.pred_current[:] = np.asarray(current)

    # ---------------------------------------------------------------- what a method reads
    def rollout(self, normalize=None) -> Rollout:
        """The rollout as the intrinsic method sees it (views, no copies)."""
        return Rollout(
            obs=self.pred_obs, next_obs=self.pred_next_obs_fixed if self.same_window else self.pred_next_obs,
            action=self.actions,
            terminated=self.terminated.bool(), truncated=self.truncated.bool(), done=self.dones.bool(),
            valid=self.valid.bool(), episode_start=self.episode_start, agent_x=self.agent_x,
            agent_y=self.agent_y, agent_dir=self.agent_dir, carrying=self.carrying, normalize=normalize,
            state_key=self.state_key,
        )
