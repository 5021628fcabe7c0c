"""What the trainer acts with: a policy behind one step interface.

The trainer asks its policy, once per rollout step, for ``(action, logprob, v_ext, v_int,
new_state)`` of a batch of observations and never asks what kind of policy it is:

- :class:`ActorCriticPolicy`: the PPO network (``curiosity/agent/network.py``): actions
  sampled from its logits, both value heads, the recurrent state carried (and reset where an
  episode starts). It learns: PPO updates it, its values bootstrap GAE, and the method's
  predictor trains beside it.
- :class:`~curiosity.agent.random_policy.RandomActionPolicy`: uniform actions (``method=random``
  or ``method.acts_randomly``), values 0, nothing learns.
- a tool's scripted policy (``curiosity.tools.bonus_probe.ScriptedPolicy``) plays fixed actions.

``learns`` is the one thing the loop reads of a policy besides ``step``: a policy that does
not learn skips the PPO update, the predictor update and the forward passes that bootstrap
V(successor). ``network`` is the actor-critic the held-out evaluation plays (None: uniform
actions).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch.distributions import Categorical

from curiosity.agent.network import ActorCritic
from curiosity.agent.random_policy import RandomActionPolicy

StepOutput = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


@runtime_checkable
class RolloutPolicy(Protocol):
    """Acts for N envs at once (see the module doc)."""

    learns: bool  # trained by PPO; False: no update of the policy or the predictor, values 0
    network: ActorCritic | None  # what the held-out evaluation plays (None: uniform actions)

    def step(self, obs: torch.Tensor, state: torch.Tensor, episode_start: np.ndarray) -> StepOutput:
        """(action (N,), logprob (N,), V_ext (N,), V_int (N,), state after the step (N, S)) for
        the uint8 grids ``obs`` (N, H, W, 4); ``state`` is the one carried in, reset where
        ``episode_start`` (N,) bool is True."""
        ...


class ActorCriticPolicy:
    """The PPO actor-critic: samples from its logits (torch's global RNG), both values."""

    learns = True

    def __init__(self, network: ActorCritic):
        self.network = network

    def step(self, obs: torch.Tensor, state: torch.Tensor, episode_start: np.ndarray) -> StepOutput:
        if self.network.is_recurrent:  # the state resets where obs begins an episode
            start = torch.as_tensor(episode_start, device=obs.device)
            logits, v_ext, v_int, state = self.network.step(obs, state, start)
        else:
            logits, v_ext, v_int = self.network(obs)
        dist = Categorical(logits=logits, validate_args=False)  # checks cost ~60 us a step
        action = dist.sample()
        return action, dist.log_prob(action), v_ext, v_int, state


def make_policy(method_cfg, network: ActorCritic, num_actions: int) -> RolloutPolicy:
    """The policy a run acts with: uniform actions for ``method.acts_randomly``, else ``network``."""
    if method_cfg.acts_randomly:
        return RandomActionPolicy(num_actions)
    return ActorCriticPolicy(network)
