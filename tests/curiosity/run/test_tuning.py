"""Equal tuning budget (issue 15.2): the tune preset gives every method the same number of
trials over its own space, each trial a distinct point recorded in the run's config, on
tuning seeds disjoint from the evaluation seeds."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from curiosity.config import ConfigError, register_configs, validate
from curiosity.run.tuning import apply_trial, grid_order, trial_point

CONF_DIR = Path(__file__).resolve().parents[3] / "conf"
EVALUATION_SEEDS = set(range(1, 11))  # method_comparison's seed: range(1,11)


@pytest.fixture
def hydra_conf():
    """Hydra initialised on conf/ for the whole test (the glob(*) axis needs its loader)."""
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        # the hydra node (the sweep's axes) only where the test reads it
        yield lambda overrides, hydra=False: compose(
            config_name="config", overrides=overrides, return_hydra_config=hydra
        )
    GlobalHydra.instance().clear()


def _axis(key: str, value: str) -> list[str]:
    loader = GlobalHydra.instance().config_loader()
    override = OverridesParser.create(config_loader=loader).parse_overrides([f"{key}={value}"])[0]
    return list(override.sweep_string_iterator())


def test_preset_gives_every_method_the_same_number_of_distinct_trials(hydra_conf):
    cfg = hydra_conf(["+experiment=tune"], hydra=True)
    axes = {k: _axis(k, str(v)) for k, v in cfg.hydra.sweeper.params.items()}
    budget = cfg.method.tune.trials
    assert [int(t) for t in axes["method.tune.trial"]] == list(
        range(budget)
    )  # the sweep = the budget
    seeds = {int(s) for s in axes["seed"]}
    assert seeds and not seeds & EVALUATION_SEEDS
    assert "none" not in axes["method"] and "random" not in axes["method"]
    assert len(axes["method"]) >= 10  # every method with a module: a new one must bring a space
    for method in axes["method"]:
        points, pristine = [], None
        for trial in range(budget):
            if trial in (0, budget - 1):  # composed as the sweep composes a job
                job = hydra_conf(
                    [
                        "+experiment=tune",
                        f"method={method}",
                        f"method.tune.trial={trial}",
                        f"seed={min(seeds)}",
                    ]
                )
                if trial == 0:
                    pristine = copy.deepcopy(job)  # before apply_trial writes the point in
            else:  # trial 0's job with another trial number (a Hydra compose costs ~0.15 s)
                job = copy.deepcopy(pristine)
                job.method.tune.trial = trial
            point = apply_trial(job)
            validate(job)
            assert job.method.tune.trials == budget and job.method.tune.trial == trial  # recorded
            assert OmegaConf.to_container(job.method.tune.point) == point
            for key, value in point.items():
                assert OmegaConf.select(job.method, key) == value  # the trial runs its point
            points.append(tuple(sorted(point.items())))
        assert len(set(points)) == budget, f"{method}: trials repeat a point"
        own = hydra_conf([f"method={method}"]).method
        assert all(OmegaConf.select(own, k) == v for k, v in points[0]), (
            f"{method}: trial 0 must be the method's own values"
        )


def test_an_ordinary_run_is_not_a_trial(compose):
    cfg = compose(["method=rnd"])
    assert cfg.method.tune.space and apply_trial(cfg) is None
    assert "point" not in cfg.method.tune


def test_grid_order_puts_the_defaults_first_and_is_fixed_by_the_draw_seed():
    space = {"a": [1, 2, 3], "b": ["x", "y"]}
    order = grid_order(space, {"a": 2, "b": "y"}, draw_seed=0)
    assert order[0] == {"a": 2, "b": "y"} and len(order) == 6
    assert len({tuple(p.items()) for p in order}) == 6
    assert order == grid_order(space, {"a": 2, "b": "y"}, draw_seed=0)
    assert grid_order(space, {"a": 9, "b": "y"}, draw_seed=0)[0] != {"a": 9, "b": "y"}


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ["method.tune.trials=100", "method.tune.trial=0"],
            "has 18 points, fewer than method.tune.trials=100",
        ),
        (
            ["method.tune.trial=8"],
            "method.tune.trial=8: must be an int in [0, method.tune.trials=8)",
        ),
        (["method.tune.trials=0"], "method.tune.trials=0"),
        (
            ["+method.tune.space.nothing=[1,2]"],
            "method.tune.space.nothing: method rnd has no key method.nothing",
        ),
        (["method.tune.space.lr=[]"], "method.tune.space.lr=[]: must be a non-empty list"),
    ],
)
def test_bad_tuning_configs_are_one_line_errors(compose, overrides, message):
    cfg = compose(["+experiment=tune", "method=rnd", *overrides])
    with pytest.raises(ConfigError) as err:
        trial_point(cfg)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_method_without_a_space_is_refused(compose):
    cfg = compose(["+experiment=tune", "method=none"])
    with pytest.raises(ConfigError, match="method none has no search space"):
        trial_point(cfg)
