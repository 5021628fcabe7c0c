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
import numpy as np
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
        """Each valid row's ``count ** -0.5`` after counting it, the memory updated in place.

        Vectorized: the valid rows are grouped by (env, episode segment, key) (episodic; a
        segment is the run of rows between two episode starts of that env, segment 0
        continuing the memory carried in) or by key alone (lifelong, all envs in t-major
        order, the order in which the shared counts grow). A row's count is its rank in its
        group in time order plus the count carried in (segment 0, or the lifelong dict).
        Python touches each group a constant number of times, never each row. The values and
        the memory dicts (contents and insertion order) are those of counting row by row,
        t-major (``tests/baselines/test_count_vectorized.py`` holds that loop).
        """
        num_steps, num_envs = rollout.num_steps, rollout.num_envs
        keys = self.rollout_keys(rollout).cpu().numpy().astype(np.int64, copy=False)
        starts = rollout.episode_start.cpu().numpy().astype(bool)
        valid = rollout.valid.cpu().numpy().astype(bool)
        episodic = self.mode == "episodic"
        seg = np.cumsum(starts, axis=0)  # (T, N): episode segment, 0 = continues the memory
        last_seg = seg[-1] if num_steps else np.zeros(num_envs, np.int64)

        rows = np.flatnonzero(valid.reshape(-1))  # t-major: row = t * N + n
        out = torch.zeros(num_steps * num_envs)
        if len(rows) == 0:
            self._clear_restarted(last_seg)
            return out.reshape(num_steps, num_envs).to(rollout.action.device)
        key = keys.reshape(-1)[rows]
        if episodic:
            env, sg = rows % num_envs, seg.reshape(-1)[rows]
            order = np.lexsort((rows, key, sg, env))  # by env, segment, key, then time
            env_s, sg_s, key_s = env[order], sg[order], key[order]
            new = np.ones(len(rows), dtype=bool)
            new[1:] = (env_s[1:] != env_s[:-1]) | (sg_s[1:] != sg_s[:-1]) | (key_s[1:] != key_s[:-1])
        else:
            order = np.lexsort((rows, key))  # by key, then time (t-major)
            key_s = key[order]
            new = np.ones(len(rows), dtype=bool)
            new[1:] = key_s[1:] != key_s[:-1]
        first = np.flatnonzero(new)  # each group's first (earliest) position in sorted order
        group = np.cumsum(new) - 1
        gkey = key_s[first].tolist()

        carry = np.zeros(len(first), dtype=np.int64)  # the count each group starts from
        if episodic:
            genv, gseg = env_s[first], sg_s[first]
            cont = np.flatnonzero(gseg == 0)  # groups continuing the carried-in episode
            if len(cont):
                carry[cont] = [self.episodic[n].get(gkey[g], 0)
                               for n, g in zip(genv[cont].tolist(), cont.tolist())]
        else:
            lifelong = self.lifelong
            carry[:] = [lifelong.get(k, 0) for k in gkey]
        counts_s = np.arange(len(rows)) - first[group] + 1 + carry[group]

        # count ** -0.5 as the Python float the loop computed, then rounded to float32
        uniq, inverse = np.unique(counts_s, return_inverse=True)
        table = torch.tensor([c ** -0.5 for c in uniq.tolist()], dtype=torch.float64)
        out[torch.from_numpy(rows[order])] = table[torch.from_numpy(inverse.reshape(-1))].to(out.dtype)

        # write back each group's final count, groups in order of first appearance (the dicts'
        # insertion order); episodic: only each env's last segment survives
        last = np.append(first[1:] - 1, len(rows) - 1)
        final = counts_s[last]
        born = rows[order][first]  # the row of each group's first visit
        self._clear_restarted(last_seg)  # after reading the carried counts
        if episodic:
            keep = np.flatnonzero(gseg == last_seg[genv])
            keep = keep[np.lexsort((born[keep], genv[keep]))]  # by env, then first visit
            kenv = genv[keep]
            bounds = np.flatnonzero(np.diff(kenv)) + 1
            kkey, kfinal = key_s[first][keep].tolist(), final[keep].tolist()
            for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), len(keep)]):
                if a < b:
                    self.episodic[int(kenv[a])].update(zip(kkey[a:b], kfinal[a:b]))
        else:
            by_birth = np.argsort(born, kind="stable")
            lifelong.update(zip(key_s[first][by_birth].tolist(), final[by_birth].tolist()))
        return out.reshape(num_steps, num_envs).to(rollout.action.device)

    def _clear_restarted(self, last_seg: np.ndarray) -> None:
        """Empty the episodic memory of every env with an episode start in this rollout (as
        the loop did at each start, in either mode)."""
        for n in np.flatnonzero(last_seg).tolist():
            self.episodic[n].clear()

    @torch.no_grad()
    def reward(self, batch: TransitionBatch) -> torch.Tensor:
        if self.mode == "episodic" or self.key != "obs":  # no episode (or pose, state) context here
            return torch.ones(len(batch), device=batch.action.device)
        keys = self._keys(batch.next_obs).cpu().tolist()
        counts = torch.tensor([self.lifelong.get(k, 0) + 1 for k in keys], dtype=torch.float32)
        return counts.rsqrt().to(batch.action.device)

    def loss(self, batch: TransitionBatch) -> tuple[torch.Tensor, dict[str, float]]:
        return torch.zeros((), device=batch.action.device), {}
