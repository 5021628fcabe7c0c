"""The intrinsic rewards as a library: use any method of this testbed with your own agent.

:class:`IntrinsicReward` does for one method what the trainer does around it, nothing more: it
is a thin face over the trainer's own :class:`~curiosity.intrinsic.runtime.IntrinsicRuntime`
(module, optimizer, both normalizers, scoring, update schedule), taking numpy arrays.

- builds the module from a method name (a file in ``conf/method/``) plus overrides, with the
  same schema and range checks as a training run (:func:`compose_method`), or loads the method
  of a training run (:meth:`IntrinsicReward.from_run`);
- scores transitions of ``num_envs`` parallel envs, T steps time-major (row ``i``: env
  ``i % num_envs`` at step ``i // num_envs``), as the trainer scores a rollout: through the
  method's ``score_rollout``, so an episodic method (count, ride, noveld, e3b) keeps one
  episodic memory per env and restarts an env's where ``episode_start`` says its episode
  began (observation statistics updated from the successors first, inputs normalized when
  ``method.obs_norm``); returns the *raw* reward;
- normalizes rewards of parallel envs by the running std of the discounted intrinsic return
  along time (``method.reward_norm``; :class:`IntrinsicRewardNormalizer`);
- trains: one optimizer step (:meth:`IntrinsicReward.train_step`) or the trainer's schedule on
  a rollout (:meth:`IntrinsicReward.train`: ``update_epochs`` passes over a random
  ``update_proportion`` of it in exactly ``num_minibatches`` minibatches), with its own Adam
  at ``method.lr`` and the gradient norm clipped at ``method.max_grad_norm``;
- saves and loads itself (module, optimizer, both normalizers, config) in one file.

Observations are the testbed's compact grids: uint8 ``(B, H, W, 4)`` (object, colour, state,
direction per cell), what :func:`make_env` returns. A method with ``predictor_full_obs: true``
(forward models by default) predicts the whole grid, or a window of it, around the agent: feed
it ``info["full_grid"]`` / ``info["full_grid_succ"]`` (see :func:`predictor_grids`), not the
policy's view; or pass ``predictor_full_obs=false`` to use the egocentric view.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from torch import nn

from curiosity.config import ConfigError, TrainConfig, validate
from curiosity.intrinsic.base import IntrinsicModule
from curiosity.intrinsic.normalization import IntrinsicRewardNormalizer, ObsNormalizer
from curiosity.intrinsic.runtime import IntrinsicRuntime, grid_rollout, predictor_sees_full_grid
from curiosity.intrinsic.transitions import TransitionBatch
from curiosity.paths import CONF_DIR, method_names
from curiosity.run.checkpoint import CHECKPOINT_DIR, LATEST

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


def same_window_successor(method: DictConfig) -> bool:
    """Whether ``method``'s module reads the same-window successor (its class's
    ``same_window_successor``: the forward models' change target), without building it."""
    from hydra.utils import get_class

    module = method.get("module")
    return module is not None and bool(getattr(get_class(module["_target_"]), "same_window_successor", False))


def predictor_grids(obs: np.ndarray, info: dict, method: DictConfig, which: str,
                    same_window: bool | None = None) -> np.ndarray:
    """What the predictor reads for one step: ``which="current"`` (the grid the next action is
    taken in) or ``"successor"`` (the grid the last action led to, before any reset): the
    observation itself, or, when ``predictor_full_obs`` is on, the info's ``full_grid`` (the
    current grid; after a step, the successor re-centred on the agent, what every method
    scores in training) or, with ``same_window`` (a forward model's change target:
    ``IntrinsicModule.same_window_successor``), ``full_grid_succ``, the successor cut from the
    window the step was taken in. ``same_window=None``: as the method's module says
    (:func:`same_window_successor`), which is what training does."""
    if which not in ("current", "successor"):
        raise ValueError(f"which={which!r}: must be current or successor")
    if not method.predictor_full_obs:
        return obs
    if same_window is None:
        same_window = which == "successor" and same_window_successor(method)
    key = "full_grid_succ" if which == "successor" and same_window else "full_grid"
    if key not in info:
        raise ValueError(f"info lacks {key!r}: method {method.name} has predictor_full_obs=true; "
                         "build the env with make_env(env_id, method)")
    return info[key]


class IntrinsicReward:
    """One intrinsic-reward method with its optimizer and normalizers (see the module doc).

    ``obs_space``: the predictor's grid space (:func:`predictor_space`); ``num_envs``: the
    number of parallel envs whose transitions :meth:`score` takes (one episodic memory each)
    and whose reward streams :meth:`normalize` keeps discounted returns for.
    """

    def __init__(self, method: DictConfig, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                 num_envs: int = 1, device: str | torch.device = "cpu"):
        if method.module is None:
            raise ValueError(f"method={method.name}: has no intrinsic reward (module: null)")
        if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 3 or obs_space.shape[-1] != 4:
            raise ValueError(f"obs_space={obs_space}: must be the compact grid Box (H, W, 4)")
        if num_envs < 1:
            raise ValueError(f"num_envs={num_envs}: must be >= 1")
        try:  # the trainer's runtime: same builder, same errors, episodic memory for num_envs envs
            self.runtime = IntrinsicRuntime(method, obs_space, action_space, int(num_envs), device)
        except ConfigError as err:
            raise ValueError(str(err)) from None

    @classmethod
    def from_name(cls, name: str, obs_space: gym.spaces.Box, action_space: gym.spaces.Discrete,
                  num_envs: int = 1, overrides: Sequence[str] = (), device: str | torch.device = "cpu"):
        """Build method ``name`` (``conf/method/<name>.yaml``) with ``overrides``."""
        return cls(compose_method(name, overrides), obs_space, action_space, num_envs, device)

    @classmethod
    def from_run(cls, run: str | Path, device: str | torch.device = "cpu") -> IntrinsicReward:
        """The method of a training run, as its checkpoint holds it: ``run`` is the run folder
        (its ``checkpoints/latest.pt``) or a checkpoint file. Config, weights, episodic memory,
        optimizer and both normalizers as saved; ``num_envs`` is the run's ``env.num_envs``."""
        from curiosity.envs.schema import EnvConfig
        from curiosity.envs.vector import make_single_env

        path = Path(run)
        if path.is_dir():
            path = path / CHECKPOINT_DIR / LATEST
        if not path.exists():
            raise FileNotFoundError(f"{run}: no checkpoint at {path}")
        state = torch.load(path, map_location=device, weights_only=False)
        method = OmegaConf.merge(OmegaConf.structured(TrainConfig).method, state["config"]["method"])
        env_cfg = OmegaConf.merge(OmegaConf.structured(EnvConfig), state["config"]["env"])
        full = predictor_sees_full_grid(method)  # as the trainer chose the predictor's grid
        probe = make_single_env(env_cfg, full_grid_info=full, grid_crop=int(method.predictor_crop) if full else 0)
        try:
            space = probe.full_grid_space if full else probe.observation_space
            out = cls(method, space, probe.action_space, int(env_cfg.num_envs), device)
        finally:
            probe.close()
        out.runtime.load_state_dict(state)
        return out

    # ------------------------------------------------------------------ the runtime's parts
    @property
    def method(self) -> DictConfig:
        return self.runtime.method

    @property
    def obs_space(self) -> gym.spaces.Box:
        return self.runtime.obs_space

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return self.runtime.action_space

    @property
    def num_envs(self) -> int:
        return self.runtime.num_envs

    @property
    def device(self) -> torch.device:
        return self.runtime.device

    @property
    def module(self) -> IntrinsicModule:
        return self.runtime.module

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        return self.runtime.optimizer

    @property
    def obs_norm(self) -> ObsNormalizer:
        return self.runtime.obs_norm

    @property
    def rew_norm(self) -> IntrinsicRewardNormalizer:
        return self.runtime.rew_norm

    def trainable_parameters(self) -> list[nn.Parameter]:
        return self.runtime.trainable_parameters()

    # ------------------------------------------------------------------ transitions
    def _grids(self, x, label: str) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, device=self.device)
        if t.dim() != 4 or tuple(t.shape[1:]) != tuple(self.obs_space.shape):
            raise ValueError(f"{label} has shape {tuple(t.shape)}: expected (B, {', '.join(map(str, self.obs_space.shape))})")
        return t.to(torch.uint8)

    def _checked(self, obs, action, next_obs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        obs, next_obs = self._grids(obs, "obs"), self._grids(next_obs, "next_obs")
        act = torch.as_tensor(np.asarray(action) if not torch.is_tensor(action) else action,
                              device=self.device).long().reshape(-1)
        if not (len(obs) == len(act) == len(next_obs)):
            raise ValueError(f"obs, action, next_obs hold {len(obs)}, {len(act)}, {len(next_obs)} rows: must match")
        if len(act) and (act.min() < 0 or act.max() >= self.action_space.n):
            raise ValueError(f"action values must be in 0..{self.action_space.n - 1}")
        return obs, act, next_obs

    def batch(self, obs, action, next_obs) -> TransitionBatch:
        """A :class:`TransitionBatch` of B transitions (inputs normalized with the current stats)."""
        return self.runtime.transitions(*self._checked(obs, action, next_obs))

    def update_obs_stats(self, next_obs) -> None:
        """Fold successor grids into the input statistics (no-op without ``method.obs_norm``)."""
        self.runtime.observe(self._grids(next_obs, "next_obs"))

    def score(self, obs, action, next_obs, update_obs_stats: bool = True, episode_start=None) -> torch.Tensor:
        """Raw intrinsic reward ``(B,)`` of T steps of the ``num_envs`` envs, time-major (B = T x
        num_envs; row ``i`` is env ``i % num_envs`` at step ``i // num_envs``), scored as the
        trainer scores a rollout: through the method's ``score_rollout``, which reads and
        updates each env's episodic memory. ``episode_start`` ``(B,)`` bool marks the rows whose
        ``obs`` begins an episode (that env's memory restarts there; default: none does, and a
        new method's memory is that of an episode's start). Like the trainer, the successors
        are first folded into the input statistics (``update_obs_stats=False`` to score only)."""
        obs, act, next_obs = self._checked(obs, action, next_obs)
        b, n = len(act), self.num_envs
        if b % n:
            raise ValueError(f"{b} rows: score takes T steps of the {n} envs, time-major (row i: env i % {n}),"
                             f" so a multiple of {n}")
        start = None
        if episode_start is not None:
            start = torch.as_tensor(np.asarray(episode_start, dtype=bool), device=self.device).reshape(-1)
            if len(start) != b:
                raise ValueError(f"episode_start holds {len(start)} rows: expected {b}")
            start = start.reshape(b // n, n)
        if update_obs_stats:
            self.runtime.observe(next_obs)
        t = b // n
        rollout = grid_rollout(obs.reshape(t, n, *obs.shape[1:]), act.reshape(t, n),
                               next_obs.reshape(t, n, *next_obs.shape[1:]), episode_start=start)
        return self.runtime.score_raw(rollout).reshape(b)

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
        out = self.runtime.normalize(rew, mask)
        return out[0] if one_step else out

    # ------------------------------------------------------------------ training
    @staticmethod
    def _names(metrics: dict) -> dict[str, float]:
        """The runtime's metric names, as this API has always returned them: the method's own,
        ``loss``, ``grad_norm`` and ``grad_norm_<child>``."""
        out = {}
        for k, v in metrics.items():
            if k == "losses/intrinsic":
                k = "loss"
            elif k.startswith("grad_norm/intrinsic"):
                k = "grad_norm" + k[len("grad_norm/intrinsic"):]
            elif k.startswith("intrinsic/"):
                k = k[len("intrinsic/"):]
            out[k] = float(v)
        return out

    def train_step(self, obs, action, next_obs) -> dict[str, float]:
        """One optimizer step on the method's loss over this batch (grad norm clipped at
        ``method.max_grad_norm``); returns the method's metrics plus ``loss`` and ``grad_norm``."""
        if self.optimizer is None:
            return {}
        return self._names(self.runtime.train_step(self.batch(obs, action, next_obs)))

    def train(self, obs, action, next_obs, num_minibatches: int = 4,
              generator: torch.Generator | None = None) -> dict[str, float]:
        """The trainer's predictor schedule on one rollout (``IntrinsicRuntime.train``):
        ``method.update_epochs`` times, a random ``method.update_proportion`` of the rows in
        exactly ``num_minibatches`` shuffled minibatches, one optimizer step each. Returns the
        metrics averaged over steps."""
        if num_minibatches < 1:
            raise ValueError(f"num_minibatches={num_minibatches}: must be >= 1")
        if self.optimizer is None:
            return {}
        obs, act, next_obs = self._checked(obs, action, next_obs)
        rows = grid_rollout(obs.unsqueeze(1), act.unsqueeze(1), next_obs.unsqueeze(1))  # no episodes read
        return self._names(self.runtime.train(rows, num_minibatches, generator))

    # ------------------------------------------------------------------ save / load
    def state_dict(self) -> dict:
        return {"method": OmegaConf.to_container(self.method, resolve=True),
                "obs_space": {"shape": list(self.obs_space.shape), "high": self.obs_space.high.tolist()},
                "num_actions": int(self.action_space.n), "num_envs": self.num_envs,
                "module": self.module.state_dict(), "obs_norm": self.obs_norm.state_dict(),
                "rew_norm": self.rew_norm.state_dict(),
                "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None}

    def load_state_dict(self, state: dict) -> None:
        self.runtime.load_state_dict({"intrinsic": state["module"], "int_optimizer": state.get("optimizer"),
                                      "obs_norm": state["obs_norm"], "rew_norm": state["rew_norm"]})

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
