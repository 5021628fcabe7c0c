"""Equal-budget tuning: which point of its own search space a tuning trial runs.

Every method writes its search space in its yaml, values per ``method.*`` key::

    tune:
      space:
        int_coef: [0.5, 1.0, 2.0]
        lr: [1.0e-4, 3.0e-4, 1.0e-3]
        module.beta: [0.2, 0.5]

``conf/experiment/tune.yaml`` gives every method the same budget: ``method.tune.trials`` (N),
and sweeps ``method.tune.trial`` over 0..N-1 (with ``method.tune.draw_seed``). Trial ``i``
runs point ``i`` of a fixed order of the space's grid: first the method's own configured
values (its paper defaults) when they are a point of the grid, then the other points in a
random order drawn from ``draw_seed``. So N trials are N distinct points of every method's
grid (a random search over the grid, Bergstra & Bengio 2012, that always includes the
defaults), the same point for every seed of a trial, and a space smaller than N is refused.

:func:`apply_trial` sets the point's values in the config before training and records them
in ``method.tune.point``, so the run's ``config.yaml`` carries the space, the budget, the
trial id and the values (``curiosity-select`` and the report's checklist read them). A config
without ``method.tune.trial`` (every ordinary run) is left alone: training ignores ``tune``.
"""

from __future__ import annotations

import itertools

import numpy as np
from omegaconf import DictConfig, OmegaConf, open_dict

from curiosity.config import ConfigError

MISSING = object()


def space_of(tune) -> dict[str, list]:
    """The search space ``{method key: [values]}`` of a ``method.tune`` node (``{}`` if none)."""
    if tune is None:
        return {}
    tune = OmegaConf.to_container(tune, resolve=True) if isinstance(tune, DictConfig) else tune
    space = tune.get("space") if isinstance(tune, dict) else None
    if space is None:
        return {}
    if not isinstance(space, dict):
        raise ConfigError(f"method.tune.space={space}: must map method keys to lists of values")
    for key, values in space.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(
                f"method.tune.space.{key}={values}: must be a non-empty list of values"
            )
        if len({repr(v) for v in values}) != len(values):
            raise ConfigError(f"method.tune.space.{key}={values}: values repeat")
    return space


def grid_order(space: dict[str, list], defaults: dict, draw_seed: int) -> list[dict]:
    """Every point of the space's grid in trial order: the defaults' point first (when it is
    in the grid), then the others in a random order drawn from ``draw_seed``."""
    keys = list(space)
    points = [dict(zip(keys, values)) for values in itertools.product(*(space[k] for k in keys))]
    first = [p for p in points if all(_same(p[k], defaults.get(k, MISSING)) for k in keys)]
    rest = [p for p in points if p not in first]
    order = np.random.default_rng(int(draw_seed)).permutation(len(rest))
    return first + [rest[i] for i in order]


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def trial_point(cfg: DictConfig) -> dict | None:
    """The point ``{method key: value}`` that ``cfg``'s tuning trial runs (None: not a trial)."""
    tune = cfg.method.get("tune")
    if tune is None or not isinstance(tune, DictConfig) or tune.get("trial") is None:
        return None
    name = cfg.method.name
    space = space_of(tune)
    if not space:
        raise ConfigError(
            f"method.tune.space: method {name} has no search space "
            f"(add a tune: space: block to conf/method/{name}.yaml)"
        )
    trials, trial = tune.get("trials"), tune.get("trial")
    if not isinstance(trials, int) or trials < 1:
        raise ConfigError(
            f"method.tune.trials={trials}: must be an int >= 1 (the budget per method)"
        )
    if not isinstance(trial, int) or not 0 <= trial < trials:
        raise ConfigError(
            f"method.tune.trial={trial}: must be an int in [0, method.tune.trials={trials})"
        )
    defaults = {}
    for key in space:
        value = OmegaConf.select(cfg.method, key, default=MISSING)
        if value is MISSING:
            raise ConfigError(f"method.tune.space.{key}: method {name} has no key method.{key}")
        defaults[key] = value
    points = grid_order(space, defaults, tune.get("draw_seed", 0))
    if len(points) < trials:
        raise ConfigError(
            f"method.tune.space: method {name} has {len(points)} points, fewer than "
            f"method.tune.trials={trials} (every method gets the same number of trials)"
        )
    return points[trial]


def apply_trial(cfg: DictConfig) -> dict | None:
    """Set a tuning trial's values in ``cfg`` and record them in ``method.tune.point``."""
    point = trial_point(cfg)
    if point is None:
        return None
    with open_dict(cfg):
        for key, value in point.items():
            OmegaConf.update(cfg.method, key, value, merge=False)
        cfg.method.tune.point = point
    return point
