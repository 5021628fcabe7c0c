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
                             num_envs=num_envs, **count_key_kwargs(method_cfg))
    except Exception as err:  # hydra wraps import and signature errors
        cause = err.__cause__ or err
        if str(cause).startswith("method.module."):  # the module named the bad key itself
            raise ConfigError(str(cause)) from None
        raise ConfigError(f"method.module={OmegaConf.to_container(method_cfg.module)}: {cause}") from None
    if not isinstance(module, IntrinsicModule):
        raise ConfigError(f"method.module._target_={method_cfg.module._target_}: not an IntrinsicModule")
    return module


STATE_KEY_KWARGS = ("key", "count_key")  # module kwargs that choose a count's key (count; ride, noveld)


def count_key_kwargs(method_cfg) -> dict:
    """``{kwarg: key}`` when ``method.count_key`` (not ``own``) replaces the key of the
    module's count (``key`` of count, ``count_key`` of ride and noveld); ``{}`` for a module
    without a count: one view preset sets the key for every method of a comparison."""
    key = method_cfg.get("count_key", "own")
    if key == "own" or method_cfg.module is None:
        return {}
    return {k: key for k in count_kwargs(method_cfg.module)}


def effective_count_key(method_cfg) -> str | None:
    """The key the method's count uses (``method.count_key`` over the module's own), or None."""
    module = method_cfg.module
    if module is None:
        return None
    override = count_key_kwargs(method_cfg)
    for kwarg in STATE_KEY_KWARGS:
        if kwarg in override:
            return override[kwarg]
        if module.get(kwarg) is not None:
            return module.get(kwarg)
    return None


def count_kwargs(module_cfg) -> list[str]:
    """Which of ``STATE_KEY_KWARGS`` the module's class takes (``[]``: it counts nothing, or
    its ``_target_`` cannot be imported, which the builder reports itself). A dict or a
    DictConfig (the report reads saved configs)."""
    import inspect

    from hydra.utils import get_class

    try:
        params = inspect.signature(get_class(module_cfg.get("_target_"))).parameters
    except Exception:  # noqa: BLE001 - a bad target is reported by build_intrinsic
        return []
    return [k for k in STATE_KEY_KWARGS if k in params]


def wants_state_keys(method_cfg) -> bool:
    """Whether the method counts exact states (``key`` or ``count_key`` = state, or
    ``method.count_key=state``): the envs must then report ``info["state_key"]``
    (``curiosity.envs.state_key``)."""
    return effective_count_key(method_cfg) == "state"
