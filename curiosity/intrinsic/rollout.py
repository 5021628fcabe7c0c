"""One rollout as an intrinsic method sees it: time first, with episodes and poses.

Every field is ``(T, N, ...)``: step t of env n. ``obs``/``next_obs`` are the predictor's
grids (the policy's view, or the whole grid / a window of it with
``method.predictor_full_obs``), ``next_obs[t]`` the true successor (the final grid where an
episode ended). ``episode_start[t]`` is True where ``obs[t]`` is the first observation of an
episode (also on a backend's invalid autoreset row, which a method must skip: ``valid``),
so a stateful method resets that env's episodic memory there and nowhere else: never at
another env's episode end, never at a rollout boundary. The pose ``agent_x/agent_y/
agent_dir`` and ``carrying`` (the carried object's MiniGrid type index, -1 for none) are
those after the action, before any reset; -1 where the backend does not report them
(envpool reports the pose but not the carried object). The pose is privileged
information: a method that uses it must say so. ``state_key`` (``(T, N)`` int64, or None) is
an exact-state key of each successor (the whole grid, the pose and the carried object, as the
RIDE and NovelD references count: ``curiosity.envs.state_key``), -1 where not reported: also
privileged.

``next_obs`` is the successor the method scores: the grid the agent acts from next, or, for
a method with ``same_window_successor`` (a forward model's change target), the grid after the
step cut from ``obs[t]``'s window; the two differ only on a window view after a move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from curiosity.intrinsic.transitions import TransitionBatch


@dataclass
class Rollout:
    obs: torch.Tensor
    next_obs: torch.Tensor
    action: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    done: torch.Tensor
    valid: torch.Tensor
    episode_start: torch.Tensor
    agent_x: torch.Tensor
    agent_y: torch.Tensor
    agent_dir: torch.Tensor
    carrying: torch.Tensor
    normalize: Callable[[torch.Tensor], torch.Tensor] | None = None
    state_key: torch.Tensor | None = None

    @property
    def num_steps(self) -> int:
        return self.action.shape[0]

    @property
    def num_envs(self) -> int:
        return self.action.shape[1]

    def transitions(self, idx: torch.Tensor | None = None) -> TransitionBatch:
        """Rows ``idx`` of the flattened (T*N) rollout as a TransitionBatch (all rows if None),
        inputs normalized as the trainer does."""
        n = self.num_steps * self.num_envs
        obs = self.obs.reshape(n, *self.obs.shape[2:])
        nxt = self.next_obs.reshape(n, *self.next_obs.shape[2:])
        act = self.action.reshape(n)
        if idx is not None:
            obs, nxt, act = obs[idx], nxt[idx], act[idx]
        return TransitionBatch.from_grids(obs, act, nxt, self.normalize)
