"""Build ``method.module`` into an IntrinsicModule: the one builder the trainer, the tools and
the library API share, so every entry point gives the same object and the same errors."""

from __future__ import annotations

from hydra.utils import instantiate
from omegaconf import OmegaConf

from curiosity.config import ConfigError
from curiosity.intrinsic.base import IntrinsicModule


def build_intrinsic(method_cfg, obs_space, action_space, num_envs: int = 1) -> IntrinsicModule | None:
    """Instantiate ``method.module`` (or None), turning bad kwargs into a ConfigError."""
    if method_cfg.module is None:
        return None
    try:
        module = instantiate(method_cfg.module, obs_space=obs_space, action_space=action_space,
                             num_envs=num_envs)
    except Exception as err:  # hydra wraps import and signature errors
        cause = err.__cause__ or err
        if str(cause).startswith("method.module."):  # the module named the bad key itself
            raise ConfigError(str(cause)) from None
        raise ConfigError(f"method.module={OmegaConf.to_container(method_cfg.module)}: {cause}") from None
    if not isinstance(module, IntrinsicModule):
        raise ConfigError(f"method.module._target_={method_cfg.module._target_}: not an IntrinsicModule")
    return module


STATE_KEY_KWARGS = ("key", "count_key")  # module kwargs that choose a count's key (count; ride, noveld)


def wants_state_keys(method_cfg) -> bool:
    """Whether ``method.module`` counts exact states (``key`` or ``count_key`` = state): the
    envs must then report ``info["state_key"]`` (``curiosity.envs.state_key``)."""
    module = method_cfg.module
    return module is not None and any(module.get(k) == "state" for k in STATE_KEY_KWARGS)
