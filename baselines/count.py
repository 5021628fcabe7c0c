"""Count-based exploration bonus: episodic 1/sqrt(N_episode(s')) or lifelong 1/sqrt(N(s')).

The bonus of a transition is ``1 / sqrt(N(key(s')))``, where ``N`` counts the visits to the
successor's key including this one: within the current episode of that env (``episodic``,
the term that RIDE, NovelD and E3B found essential on procedurally generated MiniGrid
tasks; Raileanu & Rocktaschel 2020, Henaff et al. 2022) or over the whole run
(``lifelong``, Strehl & Littman 2008; Bellemare et al. 2016 for the pseudo-count form).

The key (``method.module.key``) is one of:

- ``obs``: a hash of the successor's grid as the method sees it (the policy's egocentric
  view unless ``method.predictor_full_obs``): two states that look the same count as one.
  On the neutral window (``view=window9``) one pose is one grid whatever the route there.
- ``pose``: the agent's (x, y, direction) after the action. Privileged: the policy never
  observes its coordinates.
- ``state``: an exact-state hash (the whole grid, the pose and the carried object:
  ``curiosity.envs.state_key``), what RIDE's and NovelD's reference code count (the
  FullyObsWrapper frame). Privileged too: the policy never sees the whole grid.

The privileged keys are an oracle the observation-based methods do not get; the report's
view row marks them.

The start observation of an episode is not counted (as in RIDE's code, which counts each
step's successor). There is nothing to train. Memory lives in the module's state_dict
(``get_extra_state``), so checkpoints save it and a resume continues bit for bit.
``reward(batch)``, the stateless entry point the renderer and heatmaps use, scores each
transition as if its episode had just begun (episodic: 1) or from the lifelong counts so
far without adding to them (lifelong).
"""

from __future__ import annotations

import gymnasium as gym
import torch

from curiosity.intrinsic.base import IntrinsicModule
from curiosity.intrinsic.rollout import Rollout
from curiosity.intrinsic.transitions import TransitionBatch

MODES = ("episodic", "lifelong")
KEYS = ("obs", "pose", "state")
PRIVILEGED_KEYS = ("pose", "state")  # information the policy does not observe


def grid_keys(grids: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """An int64 hash per grid ``(..., H, W, 4)``: a fixed random linear map with int64
    wrap-around (deterministic on every device and process, unlike Python's ``hash``)."""
    flat = grids.reshape(*grids.shape[:-3], -1).long()
    return (flat * weights).sum(-1)


class CountBonus(IntrinsicModule):
    def __init__(self, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 mode: str = "episodic", key: str = "obs", num_envs: int = 1):
        """
        Args:
            mode: ``episodic`` (counts reset at each episode start of that env) or ``lifelong``.
            key: ``obs`` (hash of the successor's grid), ``pose`` (the agent's x, y, direction
                after the action) or ``state`` (exact-state hash); the last two are privileged.
        """
        super().__init__(obs_space, action_space, num_envs)
        if mode not in MODES:
            raise ValueError(f"method.module.mode={mode}: must be one of {', '.join(MODES)}")
        if key not in KEYS:
            raise ValueError(f"method.module.key={key}: must be one of {', '.join(KEYS)}")
        self.mode, self.key = mode, key
        gen = torch.Generator().manual_seed(0x5EED)  # the same hash in every run
        cells = int(torch.tensor(self.obs_shape).prod())
        self.register_buffer("hash_weights", torch.randint(1, 2**62, (cells,), generator=gen),
                             persistent=False)
        self.episodic: list[dict[int, int]] = [{} for _ in range(self.num_envs)]
        self.lifelong: dict[int, int] = {}

    # -------------------------------------------------------------- memory in the state_dict
    def get_extra_state(self) -> dict:
        return {"episodic": [dict(m) for m in self.episodic], "lifelong": dict(self.lifelong)}

    def set_extra_state(self, state: dict) -> None:
        self.episodic = [dict(m) for m in state["episodic"]]
        self.lifelong = dict(state["lifelong"])

    # -------------------------------------------------------------- keys
    def _keys(self, grids: torch.Tensor) -> torch.Tensor:
        return grid_keys(grids, self.hash_weights.to(grids.device))

    def rollout_keys(self, rollout: Rollout) -> torch.Tensor:
        """The key of every row's successor, ``(T, N)`` int64."""
        if self.key == "obs":
            return self._keys(rollout.next_obs)
        if self.key == "state":
            keys = rollout.state_key
            if keys is None or not bool(((keys >= 0) | ~rollout.valid).all()):
                raise ValueError("method.module.key=state: the envs do not report the exact state"
                                 " (python backend with state keys: curiosity.envs.state_key)")
            return keys
        known = (rollout.agent_x >= 0) | ~rollout.valid
        if not bool(known.all()):
            raise ValueError("method.module.key=pose: this env backend does not report the agent's pose")
        return (rollout.agent_x * 4096 + rollout.agent_y) * 4 + rollout.agent_dir

    # -------------------------------------------------------------- the contract
    @torch.no_grad()
    def score_rollout(self, rollout: Rollout) -> torch.Tensor:
        keys = self.rollout_keys(rollout).cpu().tolist()
        starts = rollout.episode_start.cpu().tolist()
        valid = rollout.valid.cpu().tolist()
        out = torch.zeros(rollout.num_steps, rollout.num_envs)
        for t in range(rollout.num_steps):
            for n in range(rollout.num_envs):
                if starts[t][n]:
                    self.episodic[n].clear()
                if not valid[t][n]:
                    continue
                k = keys[t][n]
                memory = self.episodic[n] if self.mode == "episodic" else self.lifelong
                memory[k] = memory.get(k, 0) + 1
                out[t, n] = memory[k] ** -0.5
        return out.to(rollout.action.device)

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        if self.mode == "episodic" or self.key != "obs":  # no episode (or pose, state) context here
            return torch.ones(len(batch), device=batch.action.device)
        keys = self._keys(batch.next_obs).cpu().tolist()
        counts = torch.tensor([self.lifelong.get(k, 0) + 1 for k in keys], dtype=torch.float32)
        return counts.rsqrt().to(batch.action.device)

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        return torch.zeros((), device=batch.action.device), {}
