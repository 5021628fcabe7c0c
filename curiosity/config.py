"""Structured config schema (Hydra ConfigStore) and range validation.

Hydra/OmegaConf refuse unknown keys and wrong types against these dataclasses;
``validate`` refuses out-of-range values. Both end in one line naming the key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from curiosity.envs.schema import EnvConfig
from curiosity.run import sweep_names  # noqa: F401  (registers the ${bounded_dirname:} resolver)


class ConfigError(ValueError):
    """A composed config that cannot run; the message names the key and the value."""


@dataclass
class AgentConfig:
    num_steps: int = 128  # rollout length T per env per iteration
    lr: float = 1e-3  # Adam learning rate (issue 29: with 2 epochs and 16 channels; CleanRL's 2.5e-4 with 4)
    anneal_lr: bool = False  # linearly decay lr to 0 over training
    adam_eps: float = 1e-5  # Adam epsilon (numerical floor of its denominator)
    gamma: float = 0.99  # extrinsic discount
    gae_lambda: float = 0.95  # extrinsic GAE lambda
    num_minibatches: int = 4  # PPO minibatches per epoch (recurrent: groups of whole env sequences)
    update_epochs: int = 2  # PPO epochs over each rollout (issue 29; CleanRL: 4)
    norm_adv: bool = True  # normalize advantages per minibatch
    clip_coef: float = 0.2  # PPO ratio clip
    clip_vloss: bool = False  # clip value loss around old values
    ent_coef: float = 0.01  # weight of the policy's entropy bonus in the PPO loss
    vf_coef: float = 0.5  # weight of the value losses in the PPO loss
    max_grad_norm: float = 0.5  # global grad-norm clip
    target_kl: Any = None  # stop epochs early above this approx KL (float or null)
    hidden_size: int = 256  # width of the actor-critic MLP after the conv encoder
    conv_channels: int = 16  # channels of each conv layer of the encoder (network=medium)
    # recurrent core between encoder and heads (width hidden_size): none (feed-forward) | gru | lstm;
    # its state resets where an episode starts, and PPO minibatches are whole env sequences
    recurrent: str = "none"


@dataclass
class MethodConfig:
    name: str = "none"  # method label used in run names and analysis
    module: Any = None  # `_target_` + kwargs of the intrinsic module (null: no intrinsic reward)
    acts_randomly: bool = False  # random-action agent: uniform actions, no learning
    int_coef: float = 0.0  # weight of intrinsic advantages
    ext_coef: float = 1.0  # weight of extrinsic advantages
    gamma_int: float = 0.99  # intrinsic discount
    lambda_int: float = 0.95  # intrinsic GAE lambda
    # the intrinsic return: continuing (flows across episode ends, RND) or episodic (cut there);
    # not an episodic *bonus*: those are methods (count, ...) that reset memory per episode
    int_stream: str = "continuing"
    reward_norm: bool = True  # divide intrinsic reward by running std of discounted intrinsic returns
    obs_norm: bool = True  # normalize predictor inputs by running mean/std, clip [-5, 5]
    obs_norm_init_steps: int = 0  # random-agent steps per env to initialise obs statistics
    update_proportion: float = 1.0  # fraction of each rollout the predictor trains on
    update_epochs: int = 1  # predictor epochs per iteration
    lr: float = 1e-4  # predictor learning rate
    max_grad_norm: float = 1.0  # predictor grad-norm clip
    predictor_full_obs: bool = False  # predictor sees the whole grid while the policy keeps its own view
    # with predictor_full_obs: an odd k >= 3 cuts a k x k world-aligned window around the agent
    predictor_crop: int = 0  # 0: the whole grid (no effect when predictor_full_obs=false)
    # the key of every count inside a method (count's module.key, ride's and noveld's
    # module.count_key): own (each module's own setting) | obs | pose | state (the exact full
    # state, privileged); a view preset sets it for every method at once (conf/view/privileged.yaml)
    count_key: str = "own"
    # tuning record, ignored by training (curiosity/run/tuning.py, docs/fair_protocol.md):
    # space (values per method.* key, in the method's yaml), trials / trial / draw_seed (set
    # by conf/experiment/tune.yaml), point (the values a trial ran with), selected (a tuned yaml)
    tune: Any = None


@dataclass
class LoggerConfig:
    wandb_mode: str = "offline"  # offline | online | disabled
    project: str = "curiosity"  # wandb project
    entity: Any = None  # wandb entity (user or team; null: your default)
    group: Any = None  # defaults to the experiment name
    tags: list = field(default_factory=list)  # extra wandb tags (beside env id, method and ablation tags)
    tensorboard: bool = False  # also write TensorBoard events to RUN_DIR/tensorboard
    progress: bool = True  # console progress bar
    checkpoint_every: int = 50  # iterations between checkpoints (0: only at the end)
    visitation_every: int = 50  # iterations between saved visitation-count maps
    render_every: int = 0  # iterations between debug renders (episode GIF + intrinsic heatmap) into RUN_DIR/renders and wandb (0: off)


@dataclass
class EvalConfig:
    every: int = 0  # iterations between evaluations on held-out levels (0: never; also runs at the end)
    episodes: int = 16  # evaluation episodes, one per held-out level seed
    policy: str = "sampled"  # sampled (stochastic policy) | greedy (argmax action)


@dataclass
class TrainConfig:
    env: EnvConfig = field(default_factory=EnvConfig)  # env.*: the task (curiosity/envs/schema.py)
    agent: AgentConfig = field(default_factory=AgentConfig)  # agent.*: PPO and the policy network
    method: MethodConfig = field(default_factory=MethodConfig)  # method.*: the intrinsic reward (conf/method/)
    logger: LoggerConfig = field(default_factory=LoggerConfig)  # logger.*: wandb, checkpoints, renders
    eval: EvalConfig = field(default_factory=EvalConfig)  # eval.*: held-out level evaluation
    seed: int = 1  # root of every random stream of the run (curiosity/seeding.py)
    total_frames: int = 100_000  # env steps summed over all copies
    device: str = "cpu"  # cpu | cuda | cuda:N
    experiment: str = "default"  # names the runs/<experiment>/ folder and the wandb group
    resume: bool = True  # continue from the run directory's last checkpoint if one exists
    deterministic: bool = True  # torch deterministic algorithms (CPU results repeat exactly)
    torch_threads: int = 0  # torch intra-op CPU threads; 0 = auto: 1 per run in parallel sweeps (joblib/submitit), else torch's default (one per core)
    sweep_id: str = "default"  # names a multirun's folder runs/<experiment>/<sweep_id>/; reuse it to resume


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainConfig)


def compose_config(overrides: list[str]) -> DictConfig:
    """The root config for ``overrides``, composed from ``conf/`` as the CLI composes it
    (unvalidated: callers that train call :func:`validate`). For tools that build a run in process."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from curiosity.paths import CONF_DIR

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def _check(ok: bool, key: str, value, why: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value}: {why}")


def _check_module_target(module) -> None:
    """``method.module._target_`` must name an importable class (else: unknown architecture)."""
    from hydra.utils import get_class

    target = module.get("_target_") if isinstance(module, DictConfig) else None
    _check(isinstance(target, str), "method.module._target_", target, "must name the intrinsic module's class")
    try:
        get_class(target)
    except Exception:  # hydra raises ImportError/ValueError variants
        raise ConfigError(f"method.module._target_={target}: no such class (unknown architecture)") from None


# keys that were renamed: using the old name is an error that says what to use instead
RENAMED = {
    "method.episodic": "renamed to method.int_stream=continuing|episodic (it only chooses whether"
                       " the intrinsic return is cut at episode ends; episodic bonuses are methods)",
}


def _refuse_unknown_keys(node, schema: type, prefix: str = "") -> None:
    """Keys forced in with Hydra's ``+key=value`` bypass struct mode; refuse them here."""
    hints = get_type_hints(schema)
    names = {f.name for f in dataclasses.fields(schema)}
    for key in node.keys():
        if key == "hydra" and not prefix:  # present when composed with return_hydra_config
            continue
        if f"{prefix}{key}" in RENAMED:
            raise ConfigError(f"{prefix}{key}: {RENAMED[f'{prefix}{key}']}")
        if key not in names:
            raise ConfigError(f"{prefix}{key}: unknown key (known: {', '.join(sorted(names))})")
        hint = hints.get(key)
        if dataclasses.is_dataclass(hint) and node[key] is not None:
            _refuse_unknown_keys(node[key], hint, f"{prefix}{key}.")


def validate(cfg: DictConfig) -> None:
    """Refuse out-of-range values with one line naming the key (types are Hydra's job)."""
    from curiosity.envs.noisy_tv import task_id as noisy_tv_task_id
    from curiosity.envs.vector import resolve_env_id

    _refuse_unknown_keys(cfg, TrainConfig)
    e, a, m = cfg.env, cfg.agent, cfg.method
    _check(e.num_envs >= 1, "env.num_envs", e.num_envs, "must be >= 1")
    _check(e.vectorization in ("sync", "async"), "env.vectorization", e.vectorization, "must be sync or async")
    _check(e.backend in ("python", "envpool"), "env.backend", e.backend, "must be python or envpool")
    _check(e.envpool_threads >= 0, "env.envpool_threads", e.envpool_threads, "must be >= 0")
    _check(0.0 <= e.sticky_action_prob < 1.0, "env.sticky_action_prob", e.sticky_action_prob, "must be in [0, 1)")
    if e.max_episode_steps is not None:
        _check(isinstance(e.max_episode_steps, int) and e.max_episode_steps > 0,
               "env.max_episode_steps", e.max_episode_steps, "must be a positive int or null")
    for key in ("lr", "adam_eps", "vf_coef", "max_grad_norm"):
        _check(a[key] > 0, f"agent.{key}", a[key], "must be > 0")
    _check(0.0 < a.clip_coef < 1.0, "agent.clip_coef", a.clip_coef, "must be in (0, 1)")
    for key in ("gamma", "gae_lambda"):
        _check(0.0 <= a[key] <= 1.0, f"agent.{key}", a[key], "must be in [0, 1]")
    for key in ("num_steps", "num_minibatches", "update_epochs", "hidden_size", "conv_channels"):
        _check(a[key] >= 1, f"agent.{key}", a[key], "must be >= 1")
    _check(a.recurrent in ("none", "gru", "lstm"), "agent.recurrent", a.recurrent, "must be none, gru or lstm")
    if a.recurrent != "none":  # minibatches are groups of whole env sequences
        _check(a.num_minibatches <= e.num_envs, "agent.num_minibatches", a.num_minibatches,
               f"must be <= env.num_envs={e.num_envs} with a recurrent policy (minibatches split the envs)")
    _check(a.ent_coef >= 0, "agent.ent_coef", a.ent_coef, "must be >= 0")
    batch = a.num_steps * e.num_envs
    _check(batch % a.num_minibatches == 0, "agent.num_minibatches", a.num_minibatches,
           f"must divide the batch size num_steps*num_envs={batch}")
    _check(cfg.total_frames >= batch, "total_frames", cfg.total_frames,
           f"must be at least one rollout (num_steps*num_envs={batch})")
    _check(cfg.seed >= 0, "seed", cfg.seed, "must be >= 0")
    _check(cfg.torch_threads >= 0, "torch_threads", cfg.torch_threads, "must be >= 0")
    for key in ("int_coef", "ext_coef", "lr", "max_grad_norm"):
        _check(m[key] >= 0, f"method.{key}", m[key], "must be >= 0")
    for key in ("gamma_int", "lambda_int"):
        _check(0.0 <= m[key] <= 1.0, f"method.{key}", m[key], "must be in [0, 1]")
    _check(0.0 < m.update_proportion <= 1.0, "method.update_proportion", m.update_proportion,
           "must be in (0, 1]")
    _check(m.int_stream in ("continuing", "episodic"), "method.int_stream", m.int_stream,
           "must be continuing or episodic")
    _check(m.update_epochs >= 1, "method.update_epochs", m.update_epochs, "must be >= 1")
    _check(m.obs_norm_init_steps >= 0, "method.obs_norm_init_steps", m.obs_norm_init_steps, "must be >= 0")
    _check(m.predictor_crop == 0 or (m.predictor_crop >= 3 and m.predictor_crop % 2 == 1),
           "method.predictor_crop", m.predictor_crop, "must be 0 (whole grid) or an odd number >= 3")
    _check(m.count_key in ("own", "obs", "pose", "state"), "method.count_key", m.count_key,
           "must be own, obs, pose or state")
    if m.module is not None:
        _check_module_target(m.module)
    _check(0 <= e.train_levels < (1 << 30), "env.train_levels", e.train_levels,
           "must be in [0, 2**30) (held-out level seeds start at 2**30)")
    _check(e.noisy_tv in ("none", "remote", "in_world"), "env.noisy_tv", e.noisy_tv,
           "must be none, remote or in_world")
    _check(0 <= e.tv_remote_action <= 6, "env.tv_remote_action", e.tv_remote_action,
           "must be a MiniGrid action index in 0..6")
    _check(e.tv_region_size >= 1, "env.tv_region_size", e.tv_region_size, "must be >= 1")
    if e.noisy_tv == "remote" and not e.tv_whole_view and not e.full_obs:
        _check(e.tv_region_size <= 7, "env.tv_region_size", e.tv_region_size,
               "must fit the 7x7 egocentric view (<= 7), or set env.tv_whole_view=true")
    _check(e.tv_resample in ("step", "remote"), "env.tv_resample", e.tv_resample, "must be step or remote")
    _check(cfg.eval.every >= 0, "eval.every", cfg.eval.every, "must be >= 0")
    _check(cfg.eval.episodes >= 1, "eval.episodes", cfg.eval.episodes, "must be >= 1")
    _check(cfg.eval.policy in ("sampled", "greedy"), "eval.policy", cfg.eval.policy,
           "must be sampled or greedy")
    _check(bool(str(cfg.sweep_id)) and "/" not in str(cfg.sweep_id), "sweep_id", cfg.sweep_id,
           "must be a non-empty folder name without '/'")
    _check(cfg.logger.render_every >= 0, "logger.render_every", cfg.logger.render_every, "must be >= 0")
    _check(cfg.logger.wandb_mode in ("offline", "online", "disabled"), "logger.wandb_mode",
           cfg.logger.wandb_mode, "must be offline, online or disabled")
    _check(str(cfg.device) == "cpu" or str(cfg.device).startswith("cuda"), "device", cfg.device,
           "must be cpu, cuda or cuda:N")
    if str(cfg.device).startswith("cuda"):
        import torch

        _check(torch.cuda.is_available(), "device", cfg.device, "CUDA is not available on this machine")
    try:
        resolve_env_id(e.id)
        noisy_tv_task_id(e)  # a noisy-TV id needs env.noisy_tv=in_world
    except ValueError as err:
        raise ConfigError(str(err)) from None


def to_container(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg, resolve=True)
