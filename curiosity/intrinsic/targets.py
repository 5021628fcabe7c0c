"""What a forward model predicts and how its error is measured (the intrinsic reward).

Two parameterizations of the next state, selected by ``target``:

- ``delta``: the network outputs the *change* from the current state; the current state
  enters through a skip connection, so a zero output means "nothing changes". Most of a
  MiniGrid grid is unchanged by one action, so this is the local inductive bias a conv
  predictor can exploit (it only has to model the agent's cell, a door, a carried key).
- ``next``: the network outputs the full next state from scratch (the ablation).

Errors are per transition, shape ``(B,)``: summed over channels, averaged over cells, so
their scale does not depend on the grid size (egocentric 7x7 vs full 25x25).

Loss on the raw grid (``grid_error``): each cell holds three categorical variables (object
11, colour 6, state 3). ``ce`` (the default) is their per-cell cross-entropy, i.e. the
negative log-likelihood of the observed next cell: a proper score for categorical
targets, it respects "exactly one class per channel" (MSE on one-hot planes does not),
keeps a useful gradient on confidently wrong cells where MSE saturates, and makes the
reward the predictor's surprisal in nats. For ``delta`` the logits are
``output + residual_logit * onehot(current)``. ``mse`` (the ablation) is the squared error
on the one-hot planes; with ``delta`` it is exactly the MSE on the change
``onehot(next) - onehot(current)``.

Loss in a continuous feature space (``feature_error``): squared error, the only choice
that needs no assumption about the features' distribution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from curiosity.envs.encoding import GRID_PLANES, onehot_planes_batched
from curiosity.envs.wrappers import NUM_COLORS, NUM_OBJECTS, NUM_STATES
from curiosity.intrinsic.reward_kinds import REWARD_KINDS, categorical_excess_surprise, clip_reward

TARGETS = ("delta", "next")
GRID_LOSSES = ("ce", "mse")
CONTENT_SIZES = (NUM_OBJECTS, NUM_COLORS, NUM_STATES)  # the categoricals of one cell


def check_choice(key: str, value, choices) -> None:
    """One-line error naming the ``method.module`` key when ``value`` is not allowed."""
    if value not in choices:
        raise ValueError(f"method.module.{key}={value!r}: must be one of {', '.join(map(str, choices))}")


def check_positive(key: str, value, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not ok:
        raise ValueError(f"method.module.{key}={value!r}: must be {'>= 0' if allow_zero else '> 0'}")


def check_reward_options(reward_kind: str, aleatoric_eta: float, progress_lag: int) -> None:
    """The reward-kind keys every forward model takes, validated with one-line errors."""
    check_choice("reward_kind", reward_kind, REWARD_KINDS)
    check_positive("aleatoric_eta", aleatoric_eta, allow_zero=True)
    check_positive("progress_lag", progress_lag)


def grid_error(out: torch.Tensor, obs: torch.Tensor, next_obs: torch.Tensor, target: str,
               loss: str, residual_logit: torch.Tensor | float) -> torch.Tensor:
    """Per-transition error of ``out`` ``(B, 20, H, W)`` predicting the content of ``next_obs``.

    ``obs``/``next_obs`` are the compact uint8 grids ``(B, H, W, 4)``.
    """
    current = onehot_planes_batched(obs, with_direction=False) if target == "delta" else None
    if loss == "ce":
        logits = out if current is None else out + residual_logit * current
        per_cell = torch.zeros(out.shape[0], *out.shape[2:], device=out.device)
        for i, group in enumerate(logits.split(CONTENT_SIZES, dim=1)):
            per_cell = per_cell + F.cross_entropy(group, next_obs[..., i].long(), reduction="none")
        return per_cell.flatten(1).mean(1)
    following = onehot_planes_batched(next_obs, with_direction=False)
    pred = out if current is None else out + current
    return (pred - following).pow(2).sum(1).flatten(1).mean(1)


def grid_excess_surprise(out: torch.Tensor, obs: torch.Tensor, next_obs: torch.Tensor, target: str,
                         residual_logit: torch.Tensor | float, eta: float = 1.0) -> torch.Tensor:
    """Per-transition aleatoric reward of ``loss=ce``: the error minus ``eta`` x the predicted
    entropy (the error the model expects), summed over the cell's categoricals, clipped at 0
    per cell (``reward_kinds``), then averaged over cells like ``grid_error``."""
    logits = out
    if target == "delta":
        logits = out + residual_logit * onehot_planes_batched(obs, with_direction=False)
    per_cell = torch.zeros(out.shape[0], *out.shape[2:], device=out.device)
    for i, group in enumerate(logits.split(CONTENT_SIZES, dim=1)):
        per_cell = per_cell + categorical_excess_surprise(group, next_obs[..., i], eta)
    return clip_reward(per_cell).flatten(1).mean(1)


def feature_error(pred: torch.Tensor, current: torch.Tensor, following: torch.Tensor, target: str,
                  channel_dim: int) -> torch.Tensor:
    """Per-transition squared error of a predicted feature map / token set; targets detached.

    ``current``/``following`` are the features of the state and its successor; with
    ``delta`` the prediction is added to ``current`` (a skip connection).
    """
    if target == "delta":
        pred = pred + current.detach()
    sq = (pred - following.detach()).pow(2).sum(channel_dim)
    return sq.flatten(1).mean(1)


__all__ = ["CONTENT_SIZES", "GRID_LOSSES", "GRID_PLANES", "TARGETS", "check_choice", "check_positive",
           "feature_error", "grid_error",
           "grid_excess_surprise"]
