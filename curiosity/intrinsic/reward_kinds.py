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
  element, trained by the Gaussian negative log-likelihood (mean detached), and the reward is squared error
  minus ``eta`` times the predicted variance (Mavor-Parker et al. 2022, "How to stay curious
  while avoiding noisy TVs using aleatoric uncertainty estimation").
- ``progress``: learning progress, an older copy's error minus the current error (Schmidhuber
  1991; Oudeyer et al. 2007; Achiam & Sastry 2017 use the same lagged-model difference).
  A TV's error does not fall once its marginal is learned, so its progress goes to ~0.

Negative values: per-element terms stay signed, so a lucky and an unlucky draw of the TV
cancel inside one transition; the per-transition sum is clipped at 0 (``clip_reward``). A
negative total means "less surprising than expected" or "the model got worse here", which
is no novelty, and paying it as a penalty would push the policy away from states for
reasons unrelated to exploration (and the reward normalizer divides by a std, it does not
re-centre). Reductions match ``targets``: summed over channels, averaged over cells.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Categorical

REWARD_KINDS = ("error", "aleatoric", "progress")
VARIANCE_EPS = 1e-2  # floor of a predicted variance (gaussian_nll_loss's eps)


def clip_reward(per_transition: torch.Tensor) -> torch.Tensor:
    """Clip a per-transition reward at 0 (see the module docstring for why)."""
    return per_transition.clamp_min(0.0)


def categorical_excess_surprise(logits: torch.Tensor, target: torch.Tensor, eta: float = 1.0) -> torch.Tensor:
    """Cross-entropy minus ``eta`` x predicted entropy per cell: ``logits`` ``(B, K, H, W)``,
    ``target`` ``(B, H, W)`` class indices -> ``(B, H, W)``, signed (with ``eta=1`` its
    expectation under the model's own prediction is 0)."""
    ce = F.cross_entropy(logits, target.long(), reduction="none")
    return ce - eta * Categorical(logits=logits.movedim(1, -1)).entropy()


def predicted_variance(raw: torch.Tensor) -> torch.Tensor:
    """A positive variance from an unconstrained head output (softplus: smooth, no overflow)."""
    return F.softplus(raw) + VARIANCE_EPS


def gaussian_terms(pred: torch.Tensor, target: torch.Tensor, var: torch.Tensor,
                   channel_dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-transition (squared error, predicted variance, Gaussian NLL), each summed over
    ``channel_dim`` and averaged over the remaining (cell) dims; ``target`` is detached.

    The NLL sees the mean detached, so it trains only the variance; the mean keeps the plain
    squared-error objective (train on ``sq + nll``). With a joint NLL the mean's gradient is
    scaled by 1/variance: the model shrinks the variance of easy cells, inflates it on hard
    ones and stops fitting them (Seitzer et al. 2022, "On the pitfalls of heteroscedastic
    uncertainty estimation"); on the synthetic TV set every aleatoric reward went to 0.
    """
    target = target.detach()
    nll = F.gaussian_nll_loss(pred.detach(), target, var, eps=VARIANCE_EPS, reduction="none")
    sq = (pred - target).pow(2)

    def reduce(x: torch.Tensor) -> torch.Tensor:
        return x.sum(channel_dim).flatten(1).mean(1)

    return reduce(sq), reduce(var), reduce(nll)


def progress_reward(old_error: torch.Tensor, new_error: torch.Tensor) -> torch.Tensor:
    """Learning progress per transition: the lagged copy's error minus the current one, >= 0."""
    return clip_reward(old_error - new_error)


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
