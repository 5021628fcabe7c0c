"""The random-action agent: uniform actions, no learning, same loop and metrics as PPO.

Selected with ``method=random``; the trainer skips the PPO and predictor updates for it and
still logs every exploration metric, so it is the coverage floor in every comparison.
"""

from __future__ import annotations

import torch


class RandomActionPolicy:
    """Samples uniform actions from torch's global RNG (saved in checkpoints)."""

    def __init__(self, num_actions: int):
        self.num_actions = num_actions

    def act(self, num_envs: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        actions = torch.randint(self.num_actions, (num_envs,), device=device)
        logprob = torch.full((num_envs,), -float(torch.log(torch.tensor(float(self.num_actions)))),
                             device=device)
        return actions, logprob
