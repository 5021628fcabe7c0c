"""The contract every intrinsic-reward method implements.

Forward models (``curiosity.intrinsic``) and baselines (``baselines/``) are ``nn.Module``
subclasses of :class:`IntrinsicModule`, built by ``hydra.utils.instantiate`` from
``method.module`` with ``obs_space``, ``action_space`` and ``num_envs`` passed in. The
runtime that owns the method in a run (``curiosity.intrinsic.runtime.IntrinsicRuntime``: the
trainer, the tools and the library all use it) holds normalization (observation and reward),
the optimizer and the update schedule; a method only maps transitions to a raw reward and to
its own loss.

Two ways to score:

- ``reward(batch)``: stateless, any transitions in any order: probe transitions out of any
  episode (the heatmaps' grid of states, ``diagnose``'s held-out error); an episodic method
  scores each as an episode's first step.
- ``score_rollout(rollout)``: the whole rollout, ``(T, N)``, time first, with episode
  starts, done flags, validity and the agent's pose (``curiosity.intrinsic.rollout``). The
  trainer, the renderer's episodes, the library and the SB3 wrapper use it. The default scores the valid rows with ``reward`` in chunks; a stateful
  (episodic) method overrides it, walks forward in time and resets an env's episodic
  memory where ``rollout.episode_start`` says an episode begins. Such memory must live in
  the module's ``state_dict`` (registered buffers, or ``get_extra_state``), so checkpoints
  save it and a resume continues bit for bit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import gymnasium as gym
import torch
from torch import nn

from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch

SCORE_CHUNK = 4096  # rows per forward pass when scoring a whole rollout


class IntrinsicModule(nn.Module, ABC):
    """Maps transitions to a raw intrinsic reward and trains itself on them."""

    # On a window view (method.predictor_crop) the successor a method reads: False, the grid
    # the agent acts from next (re-centred after a move: what a count, an embedding or a
    # novelty must see, so one pose is one input whatever the route); True, the grid after the
    # step cut from the window the step was taken in (a forward model's change target: the
    # change the step made, not a shift of the whole window). Identical on other views.
    same_window_successor: bool = False

    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 num_envs: int = 1):
        super().__init__()
        self.obs_shape = tuple(obs_space.shape)  # (H, W, 4) compact grid
        self.num_actions = int(action_space.n)
        self.num_envs = int(num_envs)  # per-env episodic memory is sized by it

    @abstractmethod
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        """Raw (unnormalized) intrinsic reward per transition, shape ``(B,)``; no grad."""

    @abstractmethod
    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """The method's own training loss on ``batch`` and scalar metrics to log: floats or
        detached 0-d tensors (tensors are read once per update, not once per minibatch: on
        a GPU each ``.item()`` waits for the device)."""

    @torch.no_grad()
    def score_rollout(self, rollout: Rollout) -> torch.Tensor:
        """Raw intrinsic reward of every row, ``(T, N)`` float; invalid rows score 0.

        The default is stateless: ``reward`` on the valid rows, in chunks.
        """
        return map_rows(rollout, rollout.valid, self.reward)


def map_rows(rollout: Rollout, rows: torch.Tensor, fn, shape: tuple = (), device=None) -> torch.Tensor:
    """``fn(TransitionBatch)`` on the rows of ``rollout`` where ``rows`` ``(T, N)`` is True,
    ``SCORE_CHUNK`` rows per call, into a float ``(T, N, *shape)`` tensor that is 0 elsewhere
    (on ``device``, default the rollout's)."""
    t, n = rollout.num_steps, rollout.num_envs
    out = torch.zeros(t * n, *shape, device=rollout.action.device if device is None else device)
    idx_all = torch.nonzero(rows.reshape(-1), as_tuple=True)[0]
    for i in range(0, len(idx_all), SCORE_CHUNK):
        idx = idx_all[i : i + SCORE_CHUNK]
        out[idx] = fn(rollout.transitions(idx)).float()
    return out.view(t, n, *shape)
