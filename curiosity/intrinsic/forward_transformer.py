"""``forward_transformer``: grid cells as tokens, predicting the next state's latent tokens.

online encoder: each cell's (normalized) one-hot planes -> linear embedding + learned
position -> transformer layers -> one latent token per cell. Predictor: those tokens plus
an action token -> transformer layers -> predicted latent token per cell of s'. Target
encoder: same architecture applied to s' (its content planes only, see ``_content``), no
gradient. Reward: mean over cells of the
squared latent error (``targets.feature_error``); with ``target=delta`` the prediction is
added to the target encoder's tokens of s (a skip connection, as in the conv models).

The target encoder must not collapse (a constant latent is trivially predictable and would
zero the reward). ``target_encoder`` chooses how:

- ``random`` (default): a frozen random copy (RND-style). It cannot collapse by
  construction, and because its features never move, the reward scale is stationary, which
  the running-std reward normalizer assumes. The online encoder is still learned, on the
  input side only.
- ``ema``: an exponential moving average of the online encoder (BYOL, Grill et al. 2020).
  Its features can adapt to the task, but only the predictor's asymmetry and the EMA lag
  keep it from collapsing, and nothing guarantees that with small, repetitive RL data;
  ``target_std`` (std of target latents across the batch) is logged to watch for it.
  The EMA step happens at the start of every ``loss`` call (one call per predictor step).

``reward_kind`` (see ``reward_kinds.py``): ``aleatoric`` adds a variance head (an MLP) on
the predictor's detached tokens (one variance per latent channel, Gaussian NLL; reward = squared error
minus ``aleatoric_eta`` x variance); ``progress`` scores a lagged copy's error minus the
current one (with ``target_encoder=ema`` the copy also holds its older target encoder).

Cost: attention is quadratic in the number of cells (49 for the egocentric view, up to 625
for a full 25x25 MultiRoom grid), so keep ``d_model`` and the layer counts small on CPU.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import torch
import torch.nn.functional as F
from torch import nn

from curiosity.envs.encoding import GRID_PLANES, OBS_PLANES
from curiosity.intrinsic.base import IntrinsicModule, TransitionBatch
from curiosity.intrinsic.reward_kinds import (
    LaggedCopies,
    clip_reward,
    gaussian_terms,
    predicted_variance,
    progress_reward,
)
from curiosity.intrinsic.targets import (
    TARGETS,
    check_choice,
    check_positive,
    check_reward_options,
    feature_error,
)

TARGET_ENCODERS = ("random", "ema")


def _layers(d_model: int, num_heads: int, num_layers: int) -> nn.TransformerEncoder:
    """The stack every part uses: pre-norm layers, ReLU feed-forward of ``2 * d_model``, no
    dropout, a final LayerNorm. Run it with :func:`run_layers` (the same function, faster)."""
    layer = nn.TransformerEncoderLayer(d_model, num_heads, dim_feedforward=2 * d_model, dropout=0.0,
                                       batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)


def _layer_forward(layer: nn.TransformerEncoderLayer, x: torch.Tensor) -> torch.Tensor:
    """``layer(x)`` for a layer of :func:`_layers` (pre-norm, ReLU, no dropout, batch first) on
    its own parameters, attention by ``scaled_dot_product_attention`` on ``(B, heads, L, d)``:
    torch's MultiheadAttention transposes to sequence-first and splits its packed projection
    with copies, a fifth of the predictor's training. Outputs and gradients equal torch's up
    to float rounding (``test_transformer_stacks_run_as_torch_runs_them``)."""
    attn = layer.self_attn
    b, n, d = x.shape
    h = layer.norm1(x)
    q, k, v = F.linear(h, attn.in_proj_weight, attn.in_proj_bias).view(
        b, n, 3, attn.num_heads, d // attn.num_heads).permute(2, 0, 3, 1, 4)
    out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
    x = x + attn.out_proj(out)
    return x + layer.linear2(torch.relu(layer.linear1(layer.norm2(x))))


def run_layers(stack: nn.TransformerEncoder, x: torch.Tensor) -> torch.Tensor:
    """``stack(x)`` for a stack of :func:`_layers` (its state_dict unchanged), faster."""
    for layer in stack.layers:
        x = _layer_forward(layer, x)
    return stack.norm(x)


class CellEncoder(nn.Module):
    """``(B, C, H, W)`` planes -> ``(B, H*W, d_model)`` latent tokens, one per cell."""

    def __init__(self, num_cells: int, d_model: int, num_heads: int, num_layers: int):
        super().__init__()
        self.embed = nn.Linear(OBS_PLANES, d_model)
        self.position = nn.Parameter(0.02 * torch.randn(1, num_cells, d_model))
        self.layers = _layers(d_model, num_heads, num_layers)

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(planes.flatten(2).transpose(1, 2)) + self.position
        return run_layers(self.layers, tokens)


class ForwardTransformer(IntrinsicModule):
    """Latent forward model over cell tokens.

    ``d_model``: token width; ``num_heads``: attention heads; ``encoder_layers`` /
    ``predictor_layers``: transformer layers of the encoders / the predictor;
    ``target``: delta | next; ``target_encoder``: random | ema; ``ema_decay``: EMA rate;
    ``reward_kind``: error | aleatoric | progress; ``aleatoric_eta``: weight of the predicted
    variance subtracted; ``progress_lag``: predictor steps between lagged-copy refreshes;
    ``progress_clip``: clip progress at 0 (false: signed).
    """

    same_window_successor = True  # predicts the next grid of the window the step was taken in

    def __init__(
        self,
        obs_space: gym.spaces.Box,
        action_space: gym.spaces.Discrete,
        d_model: int = 32,
        num_heads: int = 4,
        encoder_layers: int = 1,
        predictor_layers: int = 2,
        target: str = "delta",
        target_encoder: str = "random",
        ema_decay: float = 0.99,
        reward_kind: str = "error",
        aleatoric_eta: float = 1.0,
        progress_lag: int = 16,
        progress_clip: bool = True,
        num_envs: int = 1,
    ):
        super().__init__(obs_space, action_space, num_envs)
        check_reward_options(reward_kind, aleatoric_eta, progress_lag)
        check_choice("target", target, TARGETS)
        check_choice("target_encoder", target_encoder, TARGET_ENCODERS)
        for key, value in (("d_model", d_model), ("num_heads", num_heads),
                           ("encoder_layers", encoder_layers), ("predictor_layers", predictor_layers)):
            check_positive(key, value)
        if d_model % num_heads:
            raise ValueError(f"method.module.num_heads={num_heads}: must divide d_model={d_model}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"method.module.ema_decay={ema_decay}: must be in [0, 1)")
        self.target, self.target_encoder_name, self.ema_decay = target, target_encoder, ema_decay
        h, w, _ = self.obs_shape
        self.online = CellEncoder(h * w, d_model, num_heads, encoder_layers)
        self.target_encoder = (copy.deepcopy(self.online) if target_encoder == "ema"
                               else CellEncoder(h * w, d_model, num_heads, encoder_layers))
        self.target_encoder.requires_grad_(False)
        self.action_token = nn.Embedding(self.num_actions, d_model)
        self.predictor = _layers(d_model, num_heads, predictor_layers)
        self.head = nn.Linear(d_model, d_model)
        nn.init.zeros_(self.head.weight)  # delta: start from "latents do not change"
        nn.init.zeros_(self.head.bias)
        self.reward_kind, self.aleatoric_eta = reward_kind, aleatoric_eta
        self.progress_clip = bool(progress_clip)
        self.var_head = None
        if reward_kind == "aleatoric":  # pre-softplus variance of each latent channel
            # an MLP on the predictor's tokens, detached: the variance's NLL must not pull the
            # shared tokens off the mean's target (see grid_predictor's separate variance body)
            self.var_head = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, d_model))
            nn.init.zeros_(self.var_head[2].weight)
            nn.init.zeros_(self.var_head[2].bias)
        # last: the copies are the model as built so far (they score the "before" error)
        self.lagged = LaggedCopies(self, progress_lag) if reward_kind == "progress" else None

    @torch.no_grad()
    def _ema_step(self) -> None:
        for t, o in zip(self.target_encoder.parameters(), self.online.parameters()):
            t.lerp_(o, 1.0 - self.ema_decay)

    @staticmethod
    def _content(planes: torch.Tensor) -> torch.Tensor:
        """The target encoder's input: the cells' content planes, the agent direction zeroed.

        The direction is broadcast to every cell of the grid (``curiosity.envs.wrappers``), so
        with it a turn would move the target of all cells, a large error the predictor learns
        slowly, and agents learned to turn in place; the conv models' targets are the content
        planes too (``onehot_planes_batched(..., with_direction=False)``). The online encoder
        keeps the direction: the predictor needs it to know where a step goes.
        """
        content = planes.clone()
        content[:, GRID_PLANES:] = 0.0
        return content

    def _errors(self, batch: TransitionBatch) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor,
                                                        torch.Tensor, dict]:
        """Per transition: the latent squared error, the aleatoric reward (None without
        a variance head), the loss to train on (the error, plus the variance's NLL), the target
        latents of s' and extra metrics."""
        with torch.no_grad():
            following = self.target_encoder(self._content(batch.next_obs_input))
            current = self.target_encoder(self._content(batch.obs_input)) if self.target == "delta" else None
        tokens = torch.cat([self.action_token(batch.action)[:, None], self.online(batch.obs_input)], dim=1)
        hidden = run_layers(self.predictor, tokens)[:, 1:]
        pred = self.head(hidden)
        if self.var_head is None:
            err = feature_error(pred, current, following, self.target, channel_dim=2)
            return err, None, err, following, {}
        if self.target == "delta":
            pred = pred + current
        var = predicted_variance(self.var_head(hidden.detach()))
        sq, var_sum, nll, aleatoric = gaussian_terms(pred, following, var, 2, self.aleatoric_eta)
        metrics = {"gaussian_nll": nll.detach().mean(), "predicted_var": var_sum.detach().mean()}
        return sq, aleatoric, sq + nll, following, metrics

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        err, excess = self._errors(batch)[:2]
        if self.reward_kind == "aleatoric":
            return clip_reward(excess)
        if self.reward_kind == "progress":
            return progress_reward(self.lagged.oldest._errors(batch)[0], err, self.progress_clip)
        return err

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        if self.lagged is not None:
            self.lagged.step(self)
        if self.target_encoder_name == "ema":
            self._ema_step()
        err, _, train_err, following, metrics = self._errors(batch)
        loss = train_err.mean()
        return loss, {"forward_loss": err.detach().mean(), "target_std": following.detach().std(0).mean(),
                      **metrics}
