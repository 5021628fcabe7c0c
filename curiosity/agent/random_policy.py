"""The random-action agent's policy: uniform actions, no learning, same loop and metrics as PPO.

Selected with ``method=random`` (or ``method.acts_randomly``); it does not learn, so the
trainer skips the PPO and predictor updates for it and still logs every exploration metric:
the coverage floor in every comparison. It acts behind the trainer's policy interface
(``curiosity/agent/policy.py``).
"""

from __future__ import annotations

import numpy as np
import torch


class RandomActionPolicy:
    """Samples uniform actions from torch's global RNG (saved in checkpoints)."""

    learns = False
    network = None  # the held-out evaluation acts uniformly too

    def __init__(self, num_actions: int):
        self.num_actions = num_actions

    def act(self, num_envs: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """(actions (num_envs,), their log-probability -log(num_actions))."""
        actions = torch.randint(self.num_actions, (num_envs,), device=device)
        logprob = torch.full((num_envs,), -float(torch.log(torch.tensor(float(self.num_actions)))),
                             device=device)
        return actions, logprob

    def step(self, obs: torch.Tensor, state: torch.Tensor, episode_start: np.ndarray):
        """The policy interface: uniform actions, values 0, the state passed through."""
        actions, logprob = self.act(obs.shape[0], obs.device)
        zeros = torch.zeros(obs.shape[0], device=obs.device)
        return actions, logprob, zeros, zeros, state

