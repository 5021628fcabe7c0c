"""A batch of transitions, the stateless unit every method scores and trains on."""

from __future__ import annotations

import torch

from curiosity.envs.encoding import onehot_planes_batched


class TransitionBatch:
    """B transitions, all on one device.

    ``obs``/``next_obs`` are the compact uint8 grids ``(B, H, W, 4)`` (targets for models
    that predict the grid); ``obs_input``/``next_obs_input`` are float one-hot planes
    ``(B, C, H, W)``, normalized by the trainer when ``method.obs_norm`` is on (inputs).

    The input planes are built on first use and kept: a method that reads only one of them
    (RND the successor, a raw-grid forward model the state) does not pay for the other
    (about a fifth of ``forward_conv``'s scoring). Given ones (a test's) are used as they are.
    """

    def __init__(self, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor,
                 obs_input: torch.Tensor | None = None, next_obs_input: torch.Tensor | None = None,
                 normalize=None):
        self.obs, self.action, self.next_obs = obs, action, next_obs
        self._obs_input, self._next_obs_input = obs_input, next_obs_input
        self.normalize = normalize

    def _planes(self, grid: torch.Tensor) -> torch.Tensor:
        """One-hot planes of ``grid``, normalized; an ObsNormalizer builds them directly from
        the grid (``ObsNormalizer.onehot``: the same values, without the one-hot pass)."""
        if self.normalize is None:
            return onehot_planes_batched(grid)
        if hasattr(self.normalize, "onehot"):
            return self.normalize.onehot(grid)
        return self.normalize(onehot_planes_batched(grid))

    @property
    def obs_input(self) -> torch.Tensor:
        if self._obs_input is None:
            self._obs_input = self._planes(self.obs)
        return self._obs_input

    @property
    def next_obs_input(self) -> torch.Tensor:
        if self._next_obs_input is None:
            self._next_obs_input = self._planes(self.next_obs)
        return self._next_obs_input

    def __len__(self) -> int:
        return self.action.shape[0]

    @classmethod
    def from_grids(cls, obs: torch.Tensor, action: torch.Tensor, next_obs: torch.Tensor,
                   normalize=None) -> TransitionBatch:
        """The batch the trainer, renderer and diagnostic all score: one-hot planes of the
        grids as inputs (built when first read), passed through ``normalize`` (an
        ObsNormalizer, or any function of the planes) when given."""
        return cls(obs, action, next_obs, normalize=normalize)

    def index(self, idx: torch.Tensor) -> TransitionBatch:
        """Rows ``idx``; input planes already built are indexed, the others built when read."""
        pick = lambda x: None if x is None else x[idx]  # noqa: E731
        return TransitionBatch(self.obs[idx], self.action[idx], self.next_obs[idx],
                               pick(self._obs_input), pick(self._next_obs_input), self.normalize)
