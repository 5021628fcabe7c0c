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
    it. ``dones`` cuts the lambda-chain at episode ends (pass zeros for a continuing
    stream, together with zero ``terminated``). Invalid rows (a backend's autoreset row)
    get zero advantage and are skipped: the chain runs from the next valid row of the same
    env, so a rollout with an inserted invalid row gets the same advantages as without it.
    """
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[0])
    for t in reversed(range(num_steps)):
        delta = rewards[t] + gamma * next_values[t] * (1.0 - terminated[t]) - values[t]
        adv = (delta + gamma * lam * (1.0 - dones[t]) * last) * valid[t]
        advantages[t] = adv
        last = torch.where(valid[t] > 0, adv, last)
    return advantages, advantages + values


def continuing_successor_values(values: torch.Tensor, valid: torch.Tensor,
                                last_values: torch.Tensor) -> torch.Tensor:
    """V(successor) for a continuing (non-episodic) stream, as RND defines it.

    The successor of row t is the next *valid* row of the same env (at an episode end: the
    reset observation, not the final one), and after the rollout's last valid row it is
    ``last_values`` = V(the observation to act on next). Both backends then agree: the
    Python backend's reset obs is the next row; envpool's comes one invalid row later.
    """
    out = torch.empty_like(values)
    following = last_values
    for t in reversed(range(values.shape[0])):
        out[t] = following
        following = torch.where(valid[t] > 0, values[t], following)
    return out
