"""The egocentric view cut from the cached codes (issue 29) equals MiniGrid's own ``gen_obs``
image (and the object-by-object view it replaced) at every step: random walks with pickups,
drops, toggles and resets on every task family the configs name, both noisy TVs, sticky
actions, other view sizes and see-through walls; the cache is one per env, shared by the
view, the predictor's grid and the state key, and survives pickling; a deliberately broken
fast path fails these checks."""

import importlib.util
import pickle
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from minigrid.core.grid import Grid
from minigrid.core.world_object import Ball, Door, Wall
from minigrid.minigrid_env import MiniGridEnv

from curiosity.envs import fast_view, register_extra_envs
from curiosity.envs.fast_view import (
    FastEgocentricView,
    image_from_objects,
    install_fast_view,
    visible_rows,
)
from curiosity.envs.full_grid import FullGridInfo, compact_full_grid
from curiosity.envs.grid_cache import CACHE_ATTR, EncodedGrid
from curiosity.envs.state_key import StateKey
from curiosity.envs.vector import make_single_env
from curiosity.tools.bonus_probe import compose


def _sibling(name: str):
    """A test module beside this one (pytest's importlib mode puts no test folder on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_walks = _sibling("test_full_grid_incremental")  # the tasks, the random actions, the odd tasks
TASKS, act, find = _walks.TASKS, _walks.act, _walks.find


@pytest.fixture(autouse=True, scope="module")
def _registered():
    register_extra_envs()


class Recorder:
    """Wraps the installed view: keeps the image of the latest ``gen_obs`` call (what the
    step's observation was made of)."""

    def __init__(self, view):
        self.view, self.image = view, None

    def __call__(self):
        obs = self.view()
        self.image = obs["image"]
        return obs


def record(env) -> Recorder:
    """Put a :class:`Recorder` around ``env``'s installed fast view."""
    base = env.unwrapped
    assert isinstance(base.gen_obs, FastEgocentricView)
    base.gen_obs = Recorder(base.gen_obs)
    return base.gen_obs


def mismatch(env, obs, info, recorder) -> list[str]:
    """What differs between the step's view and the references (empty when all agree)."""
    base = env.unwrapped
    reference = MiniGridEnv.gen_obs(base)["image"]  # MiniGrid's own: slice, rotate, process_vis
    bad = []
    if not np.array_equal(recorder.image, reference):
        bad.append("view != MiniGrid gen_obs")
    if not np.array_equal(recorder.image, image_from_objects(base)):
        bad.append("view != object-by-object view")
    policy = obs["image"] if isinstance(obs, dict) else obs[..., :3]  # a raw task, or the compact grid
    if not info.get("tv_action", False) and not np.array_equal(policy, reference):
        bad.append("policy observation != MiniGrid gen_obs")  # (a remote TV on screen aside)
    if recorder.view.cache.stale_cells(base.grid):
        bad.append("stale cache")
    return bad


def walk(env, steps: int, seed: int = 0, strict: bool = True) -> dict:
    """The shared random walk; with ``strict`` asserts the view at every step, else counts the
    steps where it is wrong."""
    recorder = record(env)
    extra = {"wrong": 0, "occluded": 0, "why": set()}

    def check(obs, info, _before):
        bad = mismatch(env, obs, info, recorder)
        assert not (strict and bad), bad
        extra["wrong"] += bool(bad)
        extra["why"].update(bad)
        extra["occluded"] += int((recorder.image[..., 0] == 0).any())

    return {**_walks.random_walk(env, steps, seed, check), **extra}


def build(overrides, readers: bool) -> gym.Env:
    """The trainer's env (short episodes: many resets); ``readers`` adds the predictor's
    grid and the state key, which share the view's cache."""
    cfg = compose([*overrides, "env.max_episode_steps=80"])
    return make_single_env(cfg.env, full_grid_info=readers, grid_crop=9 if readers else 0, state_keys=readers)


@pytest.mark.parametrize("readers", [False, True], ids=["view_alone", "shared_cache"])
@pytest.mark.parametrize("name, overrides", TASKS, ids=[t for t, _ in TASKS])
def test_view_equals_minigrid_on_random_walks(name, overrides, readers):
    env = build(overrides, readers)
    try:
        seen = walk(env, 300)
    finally:
        env.close()
    assert seen["resets"] >= 2 and seen["changed"] > 0 and seen["occluded"] > 0, seen
    if name.startswith(("doorkey", "obstructedmaze")):
        assert seen["carried"] > 0, seen  # the carried object shown in the agent's cell
    if name == "noisytv_remote":
        assert seen["screen"] > 0, seen


# other view sizes, see-through walls, a view reaching far past a small grid's edge
RAW = [("MiniGrid-FourRooms-v0", {"agent_view_size": 9}), ("MiniGrid-DoorKey-8x8-v0", {"agent_view_size": 3}),
       ("MiniGrid-DoorKey-5x5-v0", {"agent_view_size": 11}), ("MiniGrid-MultiRoom-N4-S5-v1", {"agent_view_size": 5}),
       ("MiniGrid-DoorKey-6x6-v0", {"see_through_walls": True}), ("MiniGrid-MemoryS7-v0", {})]


@pytest.mark.parametrize("task, kwargs", RAW, ids=[f"{t}-{k}" for t, k in RAW])
def test_view_sizes_and_see_through_walls(task, kwargs):
    env = gym.make(task, max_steps=60, **kwargs)
    assert install_fast_view(env)
    try:
        seen = walk(env, 250, seed=1)
    finally:
        env.close()
    assert seen["resets"] >= 2, seen


@pytest.mark.parametrize("task", [_walks.MovingBall, _walks.SwappedGrid, _walks.RecolouredSubclassWall])
def test_tasks_that_rewrite_cells_themselves(task):
    """Cells moved or recoloured by the task after its own gen_obs, a Grid swapped in: the
    next view (here asked for after the step) sees them."""
    env = task(gym.make("MiniGrid-DoorKey-8x8-v0"))
    assert install_fast_view(env)
    base, rng = env.unwrapped, np.random.default_rng(0)
    env.reset(seed=0)
    for _ in range(80):
        _, _, terminated, truncated, _ = env.step(int(rng.integers(7)))
        if terminated or truncated:
            env.reset(seed=int(rng.integers(1 << 30)))
        np.testing.assert_array_equal(base.gen_obs()["image"], MiniGridEnv.gen_obs(base)["image"])
    env.close()


class OpaqueBall(Ball):
    """A ball the agent cannot see past: a class with its own see_behind."""

    def see_behind(self):
        return False


class OpaqueBalls(gym.Wrapper):
    """DoorKey-8x8 with opaque balls on several free cells."""

    def reset(self, *, seed=None, options=None):
        """Reset, then put the balls down and show the new layout."""
        super().reset(seed=seed, options=options)
        base = self.env.unwrapped
        agent = tuple(int(v) for v in base.agent_pos)
        free = [(x, y) for x in range(base.width) for y in range(base.height)
                if base.grid.get(x, y) is None and (x, y) != agent]
        for x, y in free[::4]:
            base.grid.set(x, y, OpaqueBall("purple"))
        return base.gen_obs(), {}


def test_an_object_with_its_own_see_behind_takes_the_object_path():
    assert not fast_view._plain_sight(OpaqueBall)
    assert fast_view._plain_sight(Ball) and fast_view._plain_sight(Wall) and fast_view._plain_sight(Door)
    env = OpaqueBalls(gym.make("MiniGrid-DoorKey-8x8-v0", max_steps=60))
    assert install_fast_view(env)
    try:
        walk(env, 150, seed=2)  # equal at every step: the codes alone would see through the balls
    finally:
        env.close()


def test_row_sweeps_equal_process_vis_on_random_views():
    """The memoised bit-row occlusion pass against MiniGrid's Grid.process_vis, on random
    views of walls, open, closed and locked doors and see-through objects (sizes 3 to 11)."""
    rng = np.random.default_rng(0)
    makers = [lambda: None, lambda: None, Wall, lambda: Door("red", is_open=True),
              lambda: Door("red"), lambda: Door("red", is_locked=True), lambda: Ball("blue")]
    for trial in range(1500):
        v = (3, 5, 7, 7, 9, 11)[trial % 6]
        grid = Grid(v, v)
        for i in range(v):
            for j in range(v):
                grid.set(i, j, makers[rng.choice(len(makers), p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05])]())
        clear = [sum(1 << i for i in range(v) if grid.get(i, j) is None or grid.get(i, j).see_behind())
                 for j in range(v)]
        expected = grid.process_vis((v // 2, v - 1))
        got = visible_rows(clear, v)
        assert [sum(int(expected[i, j]) << i for i in range(v)) for j in range(v)] == got, trial


def test_one_cache_per_env_shared_and_kept_through_pickling():
    env = build(["env=doorkey_8x8"], readers=True)
    base = env.unwrapped
    view = base.gen_obs
    assert view.cache is find(env, FullGridInfo).cache is find(env, StateKey).cache is vars(base)[CACHE_ATTR]
    assert view.cache.pad >= base.agent_view_size - 1  # widened for the view, enough for crop 9
    try:
        walk(env, 120, seed=3)
        clone = pickle.loads(pickle.dumps(env))  # checkpoints pickle the envs
        cb = clone.unwrapped
        cache = cb.gen_obs.view.cache
        assert cache is find(clone, FullGridInfo).cache is find(clone, StateKey).cache
        assert cache.grid is cb.grid and np.shares_memory(cache.codes, cache.padded)
        rng = np.random.default_rng(4)
        for _ in range(120):  # the resumed env goes on bit for bit
            obs, _, terminated, truncated, info = clone.step(act(clone, rng))
            assert not mismatch(clone, obs, info, cb.gen_obs)
            np.testing.assert_array_equal(info["full_grid"], compact_full_grid(clone, 9))
            if terminated or truncated:
                clone.reset(seed=int(rng.integers(1 << 30)))
    finally:
        env.close()


def test_a_task_with_its_own_gen_obs_still_shares_one_cache():
    class OwnView(MiniGridEnv):
        def gen_obs(self):
            return super().gen_obs()

    env = gym.make("MiniGrid-DoorKey-8x8-v0")
    env.unwrapped.__class__ = type("DoorKeyOwnView", (OwnView, type(env.unwrapped)), {})
    assert not install_fast_view(env)
    wrapped = FullGridInfo(StateKey(env), crop=9)
    assert wrapped.cache is find(wrapped, StateKey).cache
    wrapped.reset(seed=0)
    assert wrapped.cache.stale_cells(env.unwrapped.grid) == []
    wrapped.close()


def test_a_repeated_view_is_a_fresh_array():
    """A no-op step returns the memoised view: a copy, so a caller writing into one
    observation cannot change the next."""
    env = gym.make("MiniGrid-DoorKey-8x8-v0")
    install_fast_view(env)
    first, _ = env.reset(seed=0)
    first["image"][...] = 9
    again = env.step(6)[0]["image"]  # done: changes nothing
    np.testing.assert_array_equal(again, MiniGridEnv.gen_obs(env.unwrapped)["image"])
    env.close()


# ------------------------------------------------------------------- the checks catch a wrong view
def _walk_on(overrides, steps=150) -> dict:
    env = build(overrides, readers=False)
    try:
        return walk(env, steps, seed=5, strict=False)
    finally:
        env.close()


def test_a_view_without_occlusion_is_caught(monkeypatch):
    monkeypatch.setattr(fast_view, "CLEAR", np.ones_like(fast_view.CLEAR))  # every cell see-through
    seen = _walk_on(["env=multiroom_n4_s5"])
    assert seen["wrong"] > 50 and "view != MiniGrid gen_obs" in seen["why"], seen


def test_a_view_without_the_mask_is_caught(monkeypatch):
    monkeypatch.setattr(fast_view, "_ROWS", {})  # a fresh memo, poisoned below, dropped after
    monkeypatch.setattr(fast_view, "sweep_row", lambda seen, clear, v: ((1 << v) - 1, (1 << v) - 1))
    seen = _walk_on(["env=doorkey_8x8"])
    assert seen["wrong"] > 50 and "view != MiniGrid gen_obs" in seen["why"], seen


def test_a_view_with_a_stale_cache_is_caught(monkeypatch):
    real = EncodedGrid.update

    def frozen(self, grid):  # never re-encodes after the episode's first encoding
        if grid is not self.grid:
            real(self, grid)

    monkeypatch.setattr(EncodedGrid, "update", frozen)
    seen = _walk_on(["env=doorkey_8x8"], steps=300)
    assert seen["wrong"] > 0 and "view != MiniGrid gen_obs" in seen["why"], seen


def test_a_view_of_the_wrong_direction_is_caught(monkeypatch):
    real = FastEgocentricView._world_view
    monkeypatch.setattr(FastEgocentricView, "_world_view",
                        lambda self, v, ax, ay, d, see: real(self, v, ax, ay, (d + 1) % 4, see))
    seen = _walk_on(["env=multiroom_n4_s5"])
    assert seen["wrong"] > 100 and "view != MiniGrid gen_obs" in seen["why"], seen
