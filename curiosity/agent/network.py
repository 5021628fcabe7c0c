"""Actor-critic for compact MiniGrid grids: conv encoder, policy head, two value heads."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from curiosity.envs.encoding import OBS_PLANES, onehot_planes_batched

POOLED_SIZE = 7  # grids larger than the 7x7 egocentric view are pooled down to this


def layer_init(layer: nn.Module, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Module:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class GridEncoder(nn.Module):
    """One-hot planes -> two 3x3 convs (padding keeps the grid) -> pool to <= 7x7 -> MLP.

    The egocentric 7x7 view is used at full resolution; full-observability grids (up to
    25x25 for MultiRoom) are max-pooled to 7x7 so the flattened size stays small.
    """

    def __init__(self, obs_shape: tuple[int, int, int], channels: int, hidden: int):
        super().__init__()
        h, w, _ = obs_shape
        out_h, out_w = min(h, POOLED_SIZE), min(w, POOLED_SIZE)
        self.conv = nn.Sequential(
            layer_init(nn.Conv2d(OBS_PLANES, channels, 3, padding=1)),
            nn.ReLU(),
            layer_init(nn.Conv2d(channels, channels, 3, padding=1)),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d((out_h, out_w)) if (h, w) != (out_h, out_w) else nn.Identity(),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(layer_init(nn.Linear(channels * out_h * out_w, hidden)), nn.ReLU())

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(onehot_planes_batched(grid)))


RECURRENT_CORES = ("none", "gru", "lstm")


class RecurrentCore(nn.Module):
    """A one-layer GRU or LSTM cell (width ``hidden``) between the encoder and the heads.

    Its state is one tensor per batch row, ``(B, state_size)``: the GRU's h, or the LSTM's
    h and c concatenated, so storage, checkpoints and indexing by env treat both alike. The
    state is zeroed where ``episode_start`` is True before the step and nowhere else: an
    episode never sees memory from the one before it. The cell's input is layer-normalized
    (see ``__init__``). Cell weights are orthogonal (gain 1) and biases zero (CleanRL's
    ppo_atari_lstm).
    """

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.kind, self.hidden = kind, hidden
        # LayerNorm on the cell's input: the encoder's ReLU features are unbounded, and
        # without it Adam grew them ~50x within 100 steps of training, saturating the gates
        # (sigmoid/tanh) so no gradient reached the encoder or the core again. The network
        # then could not learn even to read the current cue (test_recurrent.py checks recall).
        self.norm = nn.LayerNorm(hidden)
        self.cell = nn.GRUCell(hidden, hidden) if kind == "gru" else nn.LSTMCell(hidden, hidden)
        for name, param in self.cell.named_parameters():
            if "bias" in name:
                nn.init.constant_(param, 0.0)
            else:
                nn.init.orthogonal_(param, 1.0)
        self.state_size = hidden if kind == "gru" else 2 * hidden

    def forward(self, z: torch.Tensor, state: torch.Tensor, episode_start: torch.Tensor):
        """One step: (output (B, hidden), next state (B, state_size))."""
        state = torch.where(episode_start.reshape(-1, 1), torch.zeros_like(state), state)
        z = self.norm(z)
        if self.kind == "gru":
            h = self.cell(z, state)
            return h, h
        h, c = self.cell(z, (state[:, : self.hidden], state[:, self.hidden :]))
        return h, torch.cat([h, c], dim=-1)


class ActorCritic(nn.Module):
    """Policy logits plus extrinsic and intrinsic value estimates from one shared encoder.

    ``recurrent``: ``none`` (feed-forward: the heads read the encoder's output; no core
    module exists, so parameters, their init order and every number are those of the
    feed-forward network) or ``gru``/``lstm``: a :class:`RecurrentCore` of width ``hidden``
    between the encoder and the heads. Acting uses :meth:`step` (one time step, state carried
    by the caller); the PPO update uses :meth:`sequence` (a (T, B) rollout replayed from its
    stored initial state with the same resets), so it recomputes exactly the rollout's
    log-probabilities and values. A feed-forward network accepts the same calls with a
    ``(B, 0)`` state, so callers need not branch.
    """

    def __init__(self, obs_shape, num_actions: int, channels: int = 32, hidden: int = 256,
                 recurrent: str = "none"):
        super().__init__()
        if recurrent not in RECURRENT_CORES:
            raise ValueError(f"agent.recurrent={recurrent}: must be one of {', '.join(RECURRENT_CORES)}")
        self.recurrent = recurrent
        self.encoder = GridEncoder(tuple(obs_shape), channels, hidden)
        if recurrent != "none":  # created only when used: the feed-forward init stays as it was
            self.core = RecurrentCore(recurrent, hidden)
        # a recurrent network's heads read the core's output beside the encoder's features (a
        # skip): what the current view shows needs no memory, so fitting it does not push the
        # core into saturation, and the core is left to carry what the view has lost. Without
        # the skip a GRU never learned to recall a cue 4 steps back (docs/results/recurrent.md).
        head_in = 2 * hidden if recurrent != "none" else hidden
        self.policy = layer_init(nn.Linear(head_in, num_actions), std=0.01)
        self.value_ext = layer_init(nn.Linear(head_in, 1), std=1.0)
        self.value_int = layer_init(nn.Linear(head_in, 1), std=1.0)

    @property
    def is_recurrent(self) -> bool:
        return self.recurrent != "none"

    @property
    def state_size(self) -> int:
        """Width of the per-env recurrent state (0 for the feed-forward network)."""
        return self.core.state_size if self.is_recurrent else 0

    def initial_state(self, batch: int, device=None) -> torch.Tensor:
        """The state before any step: zeros ``(batch, state_size)``."""
        return torch.zeros((batch, self.state_size), device=device)

    def _heads(self, z: torch.Tensor):
        return self.policy(z), self.value_ext(z).squeeze(-1), self.value_int(z).squeeze(-1)

    def forward(self, grid: torch.Tensor):
        """Feed-forward pass (logits, V_ext, V_int); a recurrent network needs :meth:`step`."""
        if self.is_recurrent:
            raise RuntimeError("a recurrent ActorCritic acts with step(grid, state, episode_start)")
        return self._heads(self.encoder(grid))

    def step(self, grid: torch.Tensor, state: torch.Tensor, episode_start: torch.Tensor):
        """One time step for a batch: (logits, V_ext, V_int, next state).

        ``state`` is the carried state (B, state_size) and ``episode_start`` (B,) bool marks
        rows whose ``grid`` begins an episode (their state is zeroed first).
        """
        if not self.is_recurrent:
            return (*self.forward(grid), state)
        features = self.encoder(grid)
        out, state = self.core(features, state, episode_start)
        return (*self._heads(torch.cat([out, features], dim=-1)), state)

    def sequence(self, grids: torch.Tensor, state: torch.Tensor, episode_start: torch.Tensor):
        """A (T, B) sequence from ``state`` (B, state_size) at its first step, with resets at
        ``episode_start`` (T, B): (logits (T, B, A), V_ext (T, B), V_int (T, B), final state).

        The encoder and heads run on all T*B rows at once; only the core steps in time.
        """
        t, b = grids.shape[:2]
        z = self.encoder(grids.reshape(t * b, *grids.shape[2:]))
        if self.is_recurrent:
            z = z.reshape(t, b, -1)
            outs = []
            for i in range(t):
                out, state = self.core(z[i], state, episode_start[i])
                outs.append(out)
            z = torch.cat([torch.cat(outs), z.reshape(t * b, -1)], dim=-1)
        logits, v_ext, v_int = self._heads(z)
        return logits.reshape(t, b, -1), v_ext.reshape(t, b), v_int.reshape(t, b), state

    def values(self, grid: torch.Tensor, state: torch.Tensor | None = None):
        """(V_ext, V_int) of ``grid``; a recurrent network reads it with ``state`` (the state
        after the step that led to ``grid``, no reset: a successor continues its episode)."""
        z = self.encoder(grid)
        if self.is_recurrent:
            out, _ = self.core(z, state, torch.zeros(len(grid), dtype=torch.bool, device=grid.device))
            z = torch.cat([out, z], dim=-1)
        return self.value_ext(z).squeeze(-1), self.value_int(z).squeeze(-1)

    def components(self) -> dict[str, list[nn.Parameter]]:
        """Parameter groups whose gradient norms are logged separately."""
        groups = {"encoder": list(self.encoder.parameters())}
        if self.is_recurrent:
            groups["core"] = list(self.core.parameters())
        groups.update({
            "policy": list(self.policy.parameters()),
            "value_ext": list(self.value_ext.parameters()),
            "value_int": list(self.value_int.parameters()),
        })
        return groups
