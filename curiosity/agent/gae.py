"""Generalized advantage estimation over (T, N) tensors, one reward stream at a time."""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    dones: torch.Tensor,
    valid: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns for one stream; all inputs ``(T, N)``, time first.

    ``next_values[t]`` is V(successor of step t): at a time-limit truncation that is the
    value of the final observation, so truncation bootstraps while ``terminated`` stops
    it. ``dones`` cuts the lambda-chain at episode ends (pass zeros for a non-episodic
    stream, together with zero ``terminated``). Invalid rows get zero advantage and cut
    the chain.
    """
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[0])
    for t in reversed(range(num_steps)):
        delta = rewards[t] + gamma * next_values[t] * (1.0 - terminated[t]) - values[t]
        following_valid = valid[t + 1] if t + 1 < num_steps else torch.ones_like(valid[t])
        last = (delta + gamma * lam * (1.0 - dones[t]) * following_valid * last) * valid[t]
        advantages[t] = last
    return advantages, advantages + values
