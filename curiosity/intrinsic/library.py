"""The intrinsic rewards as a library: use any method of this testbed with your own agent.

:class:`IntrinsicReward` does for one method what the trainer does around it, nothing more:

- builds the module from a method name (a file in ``conf/method/``) plus overrides, with the
  same schema and range checks as a training run (:func:`compose_method`);
- scores a batch of transitions (observation statistics updated from the successors first,
  inputs normalized when ``method.obs_norm``) and returns the *raw* reward;
- normalizes rewards of parallel envs by the running std of the discounted intrinsic return
  along time (``method.reward_norm``; :class:`IntrinsicRewardNormalizer`);
- trains: one optimizer step (:meth:`IntrinsicReward.train_step`) or the trainer's schedule on
  a rollout (:meth:`IntrinsicReward.train`: ``update_epochs`` passes over a random
  ``update_proportion`` of it in minibatches), with its own Adam at ``method.lr`` and the
  gradient norm clipped at ``method.max_grad_norm``;
- saves and loads itself (module, optimizer, both normalizers, config) in one file.

Observations are the testbed's compact grids: uint8 ``(B, H, W, 4)`` (object, colour, state,
direction per cell), what :func:`make_env` returns. A method with ``predictor_full_obs: true``
(forward models by default) predicts the whole grid, or a window of it, around the agent: feed
it ``info["full_grid"]`` / ``info["full_grid_succ"]`` (see :func:`predictor_grids`), not the
policy's view; or pass ``predictor_full_obs=false`` to use the egocentric view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch import nn

from curiosity.config import ConfigError, TrainConfig, validate
from curiosity.envs import OBS_PLANES, onehot_planes_batched
from curiosity.intrinsic.base import IntrinsicModule
from curiosity.intrinsic.build import (
    build_intrinsic,  # the trainer's builder: same module, same errors
)
from curiosity.intrinsic.normalization import IntrinsicRewardNormalizer, ObsNormalizer
from curiosity.intrinsic.transitions import TransitionBatch
from curiosity.paths import CONF_DIR, method_names

SCORE_CHUNK = 4096  # rows per forward pass, as the trainer scores a rollout
_CHECK_ENV = "doorkey_5x5.yaml"  # any env: validate() needs a whole config to check the method part


def compose_method(name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """``conf/method/<name>.yaml`` over the method schema, with ``overrides`` (``"lr=1e-3"``,
    ``"module.channels=16"``; a leading ``method.`` is allowed), checked as a training run's.

    Raises ValueError (one line, naming the key) on an unknown method, key or bad value.
    """
    known = method_names()
    if name not in known:
        raise ValueError(f"method={name!r}: unknown (known: {', '.join(known)})")
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r}: must be key=value (e.g. lr=1e-3)")
    dotlist = [o if o.startswith("method.") else f"method.{o}" for o in overrides]
    try:
        cfg = OmegaConf.structured(TrainConfig)
        cfg = OmegaConf.merge(cfg, {"env": OmegaConf.load(CONF_DIR / "env" / _CHECK_ENV),
                                    "method": OmegaConf.load(CONF_DIR / "method" / f"{name}.yaml")},
                              OmegaConf.from_dotlist(dotlist))
        validate(cfg)
    except (OmegaConfBaseException, ConfigError) as err:
        raise ValueError(" ".join(str(err).split("\n")[:1])) from None
    return cfg.method


def make_env(env_id: str, method: DictConfig | None = None, **env_options) -> gym.Env:
    """One MiniGrid task with compact grid observations, as the trainer builds it.

    ``env_options``: any ``env.*`` key (``max_episode_steps``, ``full_obs``, ``noisy_tv`` ...).
    With a ``method`` whose ``predictor_full_obs`` is on, every info also carries the
    predictor's grids (``full_grid``, ``full_grid_succ``), cut to ``predictor_crop``.
    """
    from curiosity.config import EnvConfig
    from curiosity.envs.vector import make_single_env, resolve_env_id

    try:
        env_cfg = OmegaConf.merge(OmegaConf.structured(EnvConfig), {"id": env_id, **env_options})
    except OmegaConfBaseException as err:
        raise ValueError(" ".join(str(err).split("\n")[:1])) from None
    resolve_env_id(env_id)
    full = bool(method is not None and method.predictor_full_obs)
    return make_single_env(env_cfg, full_grid_info=full, grid_crop=int(method.predictor_crop) if full else 0)


def predictor_space(env: gym.Env, method: DictConfig) -> gym.spaces.Box:
    """The grid space the method's predictor reads in ``env`` (from :func:`make_env`)."""
    if not method.predictor_full_obs:
        return env.observation_space
    space = getattr(env, "full_grid_space", None)
    if space is None:
        raise ValueError(f"method.predictor_full_obs=true ({method.name}): build the env with "
                         "make_env(env_id, method) so it reports the predictor's grid, or pass "
                         "the override predictor_full_obs=false")
    return space


def predictor_grids(obs: np.ndarray, info: dict, method: DictConfig, which: str) -> np.ndarray:
    """What the predictor reads for one step: ``which="current"`` (the grid the next action is
    taken in) or ``"successor"`` (the grid the last action led to, before any reset): the
    observation itself, or the info's ``full_grid`` / ``full_grid_succ`` when
    ``predictor_full_obs`` is on."""
    if which not in ("current", "successor"):
        raise ValueError(f"which={which!r}: must be current or successor")
    if not method.predictor_full_obs:
        return obs
    key = "full_grid" if which == "current" else "full_grid_succ"
    if key not in info:
        raise ValueError(f"info lacks {key!r}: method {method.name} has predictor_full_obs=true; "
                         "build the env with make_env(env_id, method)")
    return info[key]


class IntrinsicReward:
    """One intrinsic-reward method with its optimizer and normalizers (see the module doc).

    ``obs_space``: the predictor's grid space (:func:`predictor_space`); ``num_envs``: the
    number of parallel reward streams :meth:`normalize` keeps discounted returns for.
    """

    def __init__(self, method: DictConfig, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 num_envs: int = 1, device: str | torch.device = "cpu"):
        if method.module is None:
            raise ValueError(f"method={method.name}: has no intrinsic reward (module: null)")
        if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 3 or obs_space.shape[-1] != 4:
            raise ValueError(f"obs_space={obs_space}: must be the compact grid Box (H, W, 4)")
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs}: must be >= 1")
        self.method, self.obs_space, self.action_space = method, obs_space, action_space
        self.num_envs, self.device = int(num_envs), torch.device(device)
        try:
            self.module: IntrinsicModule = build_intrinsic(method, obs_space, action_space).to(self.device)
        except ConfigError as err:
            raise ValueError(str(err)) from None
        trainable = self.trainable_parameters()
        self.optimizer = torch.optim.Adam(trainable, lr=method.lr) if trainable else None
        h, w, _ = obs_space.shape
        self.obs_norm = ObsNormalizer((OBS_PLANES, h, w), device=self.device, enabled=method.obs_norm)
        self.rew_norm = IntrinsicRewardNormalizer(self.num_envs, method.gamma_int, device=self.device,
                                                  enabled=method.reward_norm)

    @classmethod
    def from_name(cls, name: str, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                  num_envs: int = 1, overrides: Sequence[str] = (), device: str | torch.device = "cpu"):
        """Build method ``name`` (``conf/method/<name>.yaml``) with ``overrides``."""
        return cls(compose_method(name, overrides), obs_space, action_space, num_envs, device)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.module.parameters() if p.requires_grad]

    # ------------------------------------------------------------------ transitions
    def _grids(self, x, label: str) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, device=self.device)
        if t.dim() != 4 or tuple(t.shape[1:]) != tuple(self.obs_space.shape):
            raise ValueError(f"{label} has shape {tuple(t.shape)}: expected (B, {', '.join(map(str, self.obs_space.shape))})")
        return t.to(torch.uint8)

    def batch(self, obs, action, next_obs) -> TransitionBatch:
        """A :class:`TransitionBatch` of B transitions (inputs normalized with the current stats)."""
        obs, next_obs = self._grids(obs, "obs"), self._grids(next_obs, "next_obs")
        act = torch.as_tensor(np.asarray(action) if not torch.is_tensor(action) else action,
                              device=self.device).long().reshape(-1)
        if not (len(obs) == len(act) == len(next_obs)):
            raise ValueError(f"obs, action, next_obs hold {len(obs)}, {len(act)}, {len(next_obs)} rows: must match")
        if len(act) and (act.min() < 0 or act.max() >= self.action_space.n):
            raise ValueError(f"action values must be in 0..{self.action_space.n - 1}")
        return TransitionBatch.from_grids(obs, act, next_obs, self.obs_norm)

    def update_obs_stats(self, next_obs) -> None:
        """Fold successor grids into the input statistics (no-op without ``method.obs_norm``)."""
        self.obs_norm.update(onehot_planes_batched(self._grids(next_obs, "next_obs")))

    @torch.no_grad()
    def score(self, obs, action, next_obs, update_obs_stats: bool = True) -> torch.Tensor:
        """Raw intrinsic reward ``(B,)`` of the transitions. Like the trainer, the successors are
        first folded into the input statistics (``update_obs_stats=False`` to score only)."""
        if update_obs_stats:
            self.update_obs_stats(next_obs)
        batch = self.batch(obs, action, next_obs)
        out = torch.zeros(len(batch), device=self.device)
        self.module.eval()
        try:
            for i in range(0, len(batch), SCORE_CHUNK):
                idx = torch.arange(i, min(i + SCORE_CHUNK, len(batch)), device=self.device)
                out[idx] = self.module.reward(batch.index(idx)).float()
        finally:
            self.module.train()
        return out

    def normalize(self, raw: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """``raw`` rewards ``(T, num_envs)`` in time order (or one step, ``(num_envs,)``) divided by
        the running std of the discounted intrinsic return per env; rows with ``valid`` False
        (e.g. padding) give 0 and do not enter the statistics."""
        raw = torch.as_tensor(raw, device=self.device, dtype=torch.float32)
        one_step = raw.dim() == 1
        rew = raw.unsqueeze(0) if one_step else raw
        if rew.dim() != 2 or rew.shape[1] != self.num_envs:
            raise ValueError(f"raw has shape {tuple(raw.shape)}: expected (T, {self.num_envs}) or ({self.num_envs},)")
        mask = torch.ones_like(rew) if valid is None else torch.as_tensor(valid, device=self.device).reshape(rew.shape).float()
        out = self.rew_norm(rew, mask)
        return out[0] if one_step else out

    # ------------------------------------------------------------------ training
    def train_step(self, obs, action, next_obs) -> dict[str, float]:
        """One optimizer step on the method's loss over this batch (grad norm clipped at
        ``method.max_grad_norm``); returns the method's metrics plus ``loss`` and ``grad_norm``."""
        if self.optimizer is None:
            return {}
        return self._step(self.batch(obs, action, next_obs))

    def _step(self, batch: TransitionBatch) -> dict[str, float]:
        loss, metrics = self.module.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(self.trainable_parameters(), self.method.max_grad_norm)
        self.optimizer.step()
        return {**{k: float(v) for k, v in metrics.items()}, "loss": loss.item(), "grad_norm": float(norm)}

    def train(self, obs, action, next_obs, num_minibatches: int = 4,
              generator: torch.Generator | None = None) -> dict[str, float]:
        """The trainer's predictor schedule on one rollout: ``method.update_epochs`` times, a
        random ``method.update_proportion`` of the rows in ``num_minibatches`` shuffled
        minibatches, one :meth:`train_step` each. Returns the metrics averaged over steps."""
        if num_minibatches < 1:
            raise ValueError(f"num_minibatches={num_minibatches}: must be >= 1")
        if self.optimizer is None:
            return {}
        batch = self.batch(obs, action, next_obs)
        gen_device = generator.device if generator is not None else self.device
        sums: dict[str, float] = {}
        count = 0
        for _ in range(self.method.update_epochs):
            keep = torch.nonzero(torch.rand(len(batch), generator=generator, device=gen_device)
                                 < self.method.update_proportion, as_tuple=True)[0]
            perm = keep[torch.randperm(len(keep), generator=generator, device=gen_device)].to(self.device)
            size = max(1, math.ceil(len(perm) / num_minibatches))
            for i in range(0, len(perm), size):
                for k, v in self._step(batch.index(perm[i : i + size])).items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
        return {k: v / max(count, 1) for k, v in sums.items()}

    # ------------------------------------------------------------------ save / load
    def state_dict(self) -> dict:
        return {"method": OmegaConf.to_container(self.method, resolve=True),
                "obs_space": {"shape": list(self.obs_space.shape), "high": self.obs_space.high.tolist()},
                "num_actions": int(self.action_space.n), "num_envs": self.num_envs,
                "module": self.module.state_dict(), "obs_norm": self.obs_norm.state_dict(),
                "rew_norm": self.rew_norm.state_dict(),
                "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.obs_norm.load_state_dict(state["obs_norm"])
        self.rew_norm.load_state_dict(state["rew_norm"])
        if self.optimizer is not None and state.get("optimizer") is not None:
            self.optimizer.load_state_dict(state["optimizer"])

    def save(self, path: str | Path) -> Path:
        """Everything needed to continue: config, spaces, weights, optimizer, normalizers."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), path)
        return path

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> IntrinsicReward:
        """Rebuild a saved method (config and spaces from the file) and restore its state."""
        state = torch.load(Path(path), map_location=device, weights_only=True)
        high = np.asarray(state["obs_space"]["high"], dtype=np.uint8).reshape(state["obs_space"]["shape"])
        obs_space = gym.spaces.Box(0, high, dtype=np.uint8)
        method = OmegaConf.merge(OmegaConf.structured(TrainConfig).method, state["method"])
        out = cls(method, obs_space, gym.spaces.Discrete(state["num_actions"]), state["num_envs"], device)
        out.load_state_dict(state)
        return out
