"""What a forward model's intrinsic reward measures (``method.module.reward_kind``).

Prediction error alone rewards *any* unpredictability, so a noisy TV (cells drawn at random
on every step) pays forever: the error on a random cell never falls. Two definitions that
subtract what the model can never learn:

- ``error`` (default): the prediction error itself (``targets.grid_error`` /
  ``targets.feature_error``), unchanged.
- ``aleatoric``: error minus the error the model *expects*. Categorical (``loss=ce``) grids:
  per cell and categorical, cross-entropy of the observed class minus the entropy of the
  predicted distribution (the expected cross-entropy under the model's own prediction). A
  calibrated uniform prediction of a random cell earns ~0 on average; a confident wrong
  prediction of a deterministic cell earns its full surprisal. Squared-error targets (MSE
  grids, random / inverse features, the transformer's latents) get a predicted variance per
  element, trained by the Gaussian negative log-likelihood (mean detached), and the reward
  is squared error
  minus ``eta`` times the predicted variance (Mavor-Parker et al. 2022, "How to stay curious
  while avoiding noisy TVs using aleatoric uncertainty estimation").
- ``progress``: learning progress, an older copy's error minus the current error (Schmidhuber
  1991; Oudeyer et al. 2007; Achiam & Sastry 2017 use the same lagged-model difference).
  A TV's error does not fall once its marginal is learned, so its progress goes to ~0.

Negative values. Categorical rewards are clipped at 0 per cell (the cell's three
categoricals summed), before the average over cells. Summed signed per transition, the ~80
confidently right, unchanged cells of a 9x9 window (each slightly below its own entropy)
cancelled the surprise of the one or two cells that really changed: on DoorKey-5x5 with the
remote TV every non-TV transition scored below 0 from the first rollout and the TV got 100%
of the reward. Per-cell clipping adds no bias on a uniform TV: a uniform prediction of a
uniform cell scores exactly 0 for every draw (CE = entropy = log K); on a non-uniform random
cell it adds E[max(0, CE - H)] > 0. Gaussian rewards are clipped per transition: a squared
error fluctuates from draw to draw even when the variance is calibrated (chi-square), so
per-cell clipping would pay random cells a bias of the order of their variance (measured on
the synthetic TV set: the transformer's TV reward rose from 0.25 to 0.82); summing first
averages the fluctuations. The reward uses the predicted variance without the NLL's
numerical floor, so well-predicted cells cost ~0 rather than -eta * floor each.
``progress`` clips per transition (``progress_clip=false``: signed; on a random cell the two
models' errors differ by draw-to-draw noise, and E[max(0, noise)] > 0 keeps paying a TV whose
prediction no longer improves, while the signed mean goes to 0). A negative value means
"less surprising than expected"
or "the model got worse here": no novelty, and no penalty either (the reward normalizer
divides by a std, it does not re-centre). Reductions match ``targets``: summed over
channels, averaged over cells.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical

REWARD_KINDS = ("error", "aleatoric", "progress")

VARIANCE_EPS = 1e-2  # the NLL's floor of a predicted variance (gaussian_nll_loss's eps)


def clip_reward(values: torch.Tensor) -> torch.Tensor:
    """Clip a per-cell (or per-transition) reward at 0 (see the module docstring for why)."""
    return values.clamp_min(0.0)


def categorical_excess_surprise(logits: torch.Tensor, target: torch.Tensor,
                                eta: float = 1.0) -> torch.Tensor:
    """Cross-entropy minus ``eta`` x predicted entropy per cell: ``logits`` ``(B, K, H, W)``,
    ``target`` ``(B, H, W)`` class indices -> ``(B, H, W)``, signed (with ``eta=1`` its
    expectation under the model's own prediction is 0; callers clip the cell's sum)."""
    ce = F.cross_entropy(logits, target.long(), reduction="none")
    return ce - eta * Categorical(logits=logits.movedim(1, -1)).entropy()


def predicted_variance(raw: torch.Tensor) -> torch.Tensor:
    """A variance >= 0 from an unconstrained head output (softplus: smooth, no overflow); the
    NLL floors it at ``VARIANCE_EPS``, the reward does not."""
    return F.softplus(raw)


def gaussian_terms(pred: torch.Tensor, target: torch.Tensor, var: torch.Tensor, channel_dim: int,
                   eta: float = 1.0) -> tuple[torch.Tensor, ...]:
    """Per-transition (squared error, predicted variance, Gaussian NLL, aleatoric reward).

    Each is summed over ``channel_dim`` and averaged over the remaining (cell) dims; the
    aleatoric reward is squared error minus ``eta`` x variance, clipped at 0 per transition.
    ``target`` is detached. The NLL sees the mean detached, so
    it trains only the variance; the mean keeps the plain squared-error objective (train on
    ``sq + nll``). With a joint NLL the mean's gradient is scaled by 1/variance: the model
    shrinks the variance of easy cells, inflates it on hard ones and stops fitting them
    (Seitzer et al. 2022, "On the pitfalls of heteroscedastic uncertainty estimation").
    """
    target = target.detach()
    nll = F.gaussian_nll_loss(pred.detach(), target, var, eps=VARIANCE_EPS, reduction="none")
    sq = (pred - target).pow(2).sum(channel_dim)
    var_cell = var.sum(channel_dim)

    def cells_mean(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).mean(1)

    sq, var_cell = cells_mean(sq), cells_mean(var_cell)
    return sq, var_cell, cells_mean(nll.sum(channel_dim)), clip_reward(sq - eta * var_cell)


def progress_reward(old_error: torch.Tensor, new_error: torch.Tensor,
                    clip: bool = True) -> torch.Tensor:
    """Learning progress per transition: the lagged copy's error minus the current one,
    clipped at 0 unless ``clip`` is off (signed: zero-mean on a TV whose prediction has
    stopped improving, where the clipped version keeps E[max(0, noise)] > 0)."""
    progress = old_error - new_error
    return clip_reward(progress) if clip else progress


class LaggedCopies(nn.Module):
    """Two frozen snapshots of a model, refreshed every ``lag`` training steps.

    The oldest snapshot scores the "before" error. Keeping two means the lag is always
    between ``lag`` and ``2 * lag`` steps: with one snapshot the progress would drop to 0
    for every transition right after each refresh. Both start as the initial model. The
    snapshots and the step count are buffers of this module, so checkpoints restore them.
    ``model`` must not yet hold this object (it is deep-copied without it).
    """

    def __init__(self, model: nn.Module, lag: int):
        super().__init__()
        if lag < 1:
            raise ValueError(f"method.module.progress_lag={lag!r}: must be > 0")
        self.lag = lag
        self.snapshots = nn.ModuleList(copy.deepcopy(model) for _ in range(2))
        self.snapshots.requires_grad_(False)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    @property
    def oldest(self) -> nn.Module:
        return self.snapshots[0]

    @torch.no_grad()
    def step(self, model: nn.Module) -> None:
        """Count one training step of ``model``; every ``lag`` steps rotate in its weights.

        Call it before the step's forward pass, so a refresh copies the weights produced by
        the previous optimizer step.
        """
        if self.steps > 0 and int(self.steps) % self.lag == 0:
            current = {k: v for k, v in model.state_dict().items() if not k.startswith("lagged.")}
            self.snapshots[0].load_state_dict(self.snapshots[1].state_dict())
            self.snapshots[1].load_state_dict(current)
        self.steps += 1
