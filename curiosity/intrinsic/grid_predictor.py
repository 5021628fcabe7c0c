"""The shared frame of the conv and ResNet forward models; they differ only in their body.

input features (``features.py``) + action -> body -> output map -> error against the
target (``targets.py``). Action conditioning:

- ``broadcast``: one-hot action planes concatenated to the input (every cell sees it).
- ``film``: each body layer's activations are scaled and shifted per channel by an
  action embedding, ``h * (1 + gamma(a)) + beta(a)`` (Perez et al. 2018); zero-initialised,
  so training starts from an action-independent predictor.
"""

from __future__ import annotations

from abc import abstractmethod

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.envs.encoding import GRID_PLANES, onehot_planes_batched
from curiosity.intrinsic.base import IntrinsicModule, TransitionBatch
from curiosity.intrinsic.features import FEATURE_SPACES, make_feature_space
from curiosity.intrinsic.reward_kinds import (
    LaggedCopies,
    clip_reward,
    gaussian_terms,
    predicted_variance,
    progress_reward,
)
from curiosity.intrinsic.targets import (
    GRID_LOSSES,
    TARGETS,
    check_choice,
    check_positive,
    check_reward_options,
    feature_error,
    grid_error,
    grid_excess_surprise,
)

ACTION_CONDITIONING = ("broadcast", "film")


class ActionFiLM(nn.Module):
    """Per-layer, per-channel (gamma, beta) from the action; identity at initialisation."""

    def __init__(self, num_actions: int, channels: int, num_sites: int):
        super().__init__()
        self.table = nn.Embedding(num_actions, 2 * channels * num_sites)
        nn.init.zeros_(self.table.weight)
        self.channels, self.num_sites = channels, num_sites

    def forward(self, action: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        params = self.table(action).view(-1, self.num_sites, 2, self.channels, 1, 1)
        return [(params[:, i, 0], params[:, i, 1]) for i in range(self.num_sites)]


def apply_film(h: torch.Tensor, film: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    if film is None:
        return h
    gamma, beta = film
    return h * (1.0 + gamma) + beta


class GridForwardModel(IntrinsicModule):
    """Forward model on spatial feature maps; subclasses build the body.

    The body maps ``(B, in_channels, H, W)`` to ``(B, out_channels, H, W)`` and takes one
    optional FiLM (gamma, beta) per site (``body.num_film_sites``). Options:

    - ``target``: delta (predict the change; skip from the current state) | next.
    - ``loss``: ce (per-cell cross-entropy) | mse; raw features only (others use MSE).
    - ``features``: raw | random (frozen conv features) | inverse (inverse-dynamics features).
    - ``action_cond``: broadcast (action planes on the input) | film (per-layer modulation).
    - ``hidden_channels``: width of the body.
    - ``feature_dim``: channels of the random / inverse feature maps.
    - ``inverse_coef``: weight of the inverse-dynamics loss (features=inverse).
    - ``residual_logit``: initial logit bonus of "cell unchanged" (delta + ce); learned.
    - ``reward_kind``: error | aleatoric | progress (see ``reward_kinds.py``). ``aleatoric``
      with ``loss=ce`` uses the predicted categoricals' entropy (no new parameters); with a
      squared-error target (``loss=mse`` or random / inverse features) a second body of the
      same shape predicts a variance per output, trained by the Gaussian NLL.
    - ``aleatoric_eta``: weight of the expected error (entropy or variance) subtracted.
    - ``progress_lag``: predictor steps between refreshes of the lagged copies (progress).
    - ``progress_clip``: clip progress at 0 (true) or keep it signed (false).
    """

    same_window_successor = True  # the change target: s and s' cut from one window

    def __init__(
        self,
        obs_space: gym.spaces.Box,
        action_space: gym.spaces.Discrete,
        target: str = "delta",
        loss: str = "ce",
        features: str = "raw",
        action_cond: str = "broadcast",
        hidden_channels: int = 32,
        feature_dim: int = 32,
        inverse_coef: float = 1.0,
        residual_logit: float = 4.0,
        reward_kind: str = "error",
        aleatoric_eta: float = 1.0,
        progress_lag: int = 16,
        progress_clip: bool = True,
        num_envs: int = 1,
    ):
        super().__init__(obs_space, action_space, num_envs)
        check_reward_options(reward_kind, aleatoric_eta, progress_lag)
        check_choice("target", target, TARGETS)
        check_choice("loss", loss, GRID_LOSSES)
        check_choice("features", features, FEATURE_SPACES)
        check_choice("action_cond", action_cond, ACTION_CONDITIONING)
        check_positive("hidden_channels", hidden_channels)
        check_positive("feature_dim", feature_dim)
        check_positive("inverse_coef", inverse_coef, allow_zero=True)
        check_positive("residual_logit", residual_logit, allow_zero=True)
        self.target, self.loss_name, self.feature_name = target, loss, features
        self.action_cond, self.inverse_coef = action_cond, inverse_coef
        self.reward_kind, self.aleatoric_eta = reward_kind, aleatoric_eta
        self.progress_clip = bool(progress_clip)
        # a squared-error target needs a predicted variance for the aleatoric reward
        self.variance_head = reward_kind == "aleatoric" and not (features == "raw" and loss == "ce")
        self.features = make_feature_space(features, feature_dim, self.num_actions)
        in_channels = self.features.out_channels
        if action_cond == "broadcast":
            in_channels += self.num_actions
        out_channels = GRID_PLANES if features == "raw" else feature_dim
        self.body = self.build_body(in_channels, hidden_channels, out_channels)
        self.film = (ActionFiLM(self.num_actions, hidden_channels, self.body.num_film_sites)
                     if action_cond == "film" else None)
        # learned confidence in "the cell stays as it is" (delta + ce only)
        self.residual_logit = nn.Parameter(torch.tensor(float(residual_logit)))
        # a second body of the same shape predicts the variance (pre-softplus) of every output:
        # sharing the body let the variance's NLL pull the mean's features off the target
        # (on the synthetic TV set the mean's error on deterministic cells grew 3.5x)
        self.var_body = (self.build_body(in_channels, hidden_channels, out_channels)
                         if self.variance_head else None)
        # last: the copies are the model as built so far (they score the "before" error)
        self.lagged = LaggedCopies(self, progress_lag) if reward_kind == "progress" else None

    @abstractmethod
    def build_body(self, in_channels: int, hidden_channels: int, out_channels: int) -> nn.Module:
        """The network between input features and the predicted output map."""

    def _errors(self, batch: TransitionBatch, scoring: bool = False) -> tuple[
            torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None, dict]:
        """Per transition: the prediction error, the aleatoric reward (None unless
        ``reward_kind=aleatoric``), the forward loss to train on (the error, plus the
        variance's Gaussian NLL with a variance head), then the feature space's own loss and metrics.

        ``scoring``: only the reward is wanted. The categorical aleatoric reward (``loss=ce``
        on the raw grid) is then computed without the error, and training computes the error
        without it (each was a third of that variant's scoring or training, unused)."""
        phi = self.features(batch.obs_input)
        x = phi.detach()
        if self.action_cond == "broadcast":
            planes = F.one_hot(batch.action, self.num_actions).float()[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)
        film = self.film(batch.action) if self.film is not None else None
        out = self.body(x, film)
        var = None if self.var_body is None else predicted_variance(self.var_body(x, film))
        aux, metrics = None, {}
        if self.feature_name == "raw":
            if var is None:
                if scoring and self.reward_kind == "aleatoric":
                    excess = grid_excess_surprise(out, batch.obs, batch.next_obs, self.target,
                                                  self.residual_logit, self.aleatoric_eta)
                    return None, excess, None, None, {}
                err = grid_error(out, batch.obs, batch.next_obs, self.target, self.loss_name, self.residual_logit)
                return err, None, err, None, {}
            current = onehot_planes_batched(batch.obs, with_direction=False)
            following = onehot_planes_batched(batch.next_obs, with_direction=False)
        else:
            phi_next = self.features(batch.next_obs_input)
            aux, metrics = self.features.aux_loss(phi, phi_next, batch.action)
            if var is None:
                err = feature_error(out, phi, phi_next, self.target, channel_dim=1)
                return err, None, err, aux, metrics
            current, following = phi.detach(), phi_next
        pred = out + current if self.target == "delta" else out
        sq, var_sum, nll, aleatoric = gaussian_terms(pred, following, var, 1, self.aleatoric_eta)
        metrics = {**metrics, "gaussian_nll": nll.detach().mean(),
                   "predicted_var": var_sum.detach().mean()}
        return sq, aleatoric, sq + nll, aux, metrics

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        err, excess = self._errors(batch, scoring=True)[:2]
        if self.reward_kind == "aleatoric":
            return clip_reward(excess)
        if self.reward_kind == "progress":
            return progress_reward(self.lagged.oldest._errors(batch)[0], err, self.progress_clip)
        return err

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        if self.lagged is not None:
            self.lagged.step(self)
        err, _, train_err, aux, metrics = self._errors(batch)
        forward_loss = train_err.mean()
        metrics = {"forward_loss": err.detach().mean(), **metrics}
        if aux is None:
            return forward_loss, metrics
        return forward_loss + self.inverse_coef * aux, metrics
