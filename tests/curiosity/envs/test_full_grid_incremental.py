"""The cached predictor grid (issue 29) equals the full encoding at every step, and so do the
state keys: random walks with pickups, drops, toggles and resets on every task family the
configs name, both noisy TVs and sticky actions; and a stale cache is caught."""

import hashlib
import pickle

import gymnasium as gym
import numpy as np
import pytest
from minigrid.core.actions import Actions
from minigrid.core.constants import OBJECT_TO_IDX
from minigrid.core.world_object import Ball, Wall

from curiosity.envs import register_extra_envs
from curiosity.envs.full_grid import (
    FullGridInfo,
    _encode_cells,
    compact_full_grid,
    compact_full_grids,
)
from curiosity.envs.grid_cache import EncodedGrid
from curiosity.envs.state_key import KEY_MASK, StateKey
from curiosity.envs.vector import make_single_env
from curiosity.tools.bonus_probe import compose

# (name, overrides): the tasks of the configs with objects that move, open or change colour
TASKS = [
    ("doorkey_8x8", ["env=doorkey_8x8"]),
    ("multiroom_n4_s5", ["env=multiroom_n4_s5"]),
    ("keycorridor_s3r3", ["env=keycorridor_s3r3"]),
    ("obstructedmaze_1dlhb", ["env=obstructedmaze_1dlhb"]),
    ("obstructedmaze_2dlhb", ["env=obstructedmaze_2dlhb"]),
    ("noisytv_in_world", ["env=multiroom_noisytv_n4_s5"]),
    ("noisytv_in_world_every_step", ["env=multiroom_noisytv_n4_s5", "env.tv_resample=step"]),
    ("noisytv_remote", ["env=multiroom_n4_s5", "env.noisy_tv=remote"]),
    ("doorkey_sticky", ["env=doorkey_8x8", "env.sticky_action_prob=0.3"]),
]
GRID_ACTIONS = (int(Actions.pickup), int(Actions.drop), int(Actions.toggle))


class LegacyStateKey(gym.Wrapper):
    """The state key as computed before issue 29 (tracked objects, reset cells and the front
    cell of every executed pickup, drop or toggle), kept to show the keys did not change."""

    def __init__(self, env):
        super().__init__(env)
        self._layout, self._reset_codes, self._objects, self._touched = b"", None, [], set()

    def reset(self, *, seed=None, options=None):
        """Encode the layout and note the cells of changeable objects, as the old key did."""
        obs, info = self.env.reset(seed=seed, options=options)
        grid = self.env.unwrapped.grid
        self._reset_codes = grid.encode()
        self._layout = self._reset_codes.tobytes() + np.array(self._reset_codes.shape, np.int64).tobytes()
        changeable = ("door", "key", "ball", "box")
        self._objects = [o for o in grid.grid if o is not None and o.type in changeable]
        self._touched = {(i % grid.width, i // grid.width) for i, o in enumerate(grid.grid)
                         if o is not None and o.type in changeable}
        info["legacy_state_key"] = self.key()
        return obs, info

    def step(self, action):
        """Step, noting the front cell of an executed grid action, as the old key did."""
        base = self.env.unwrapped
        front = tuple(int(v) for v in base.front_pos)
        obs, reward, terminated, truncated, info = self.env.step(action)
        if int(info.get("executed_action", action)) in GRID_ACTIONS:
            self._touched.add(front)
        info["legacy_state_key"] = self.key()
        return obs, reward, terminated, truncated, info

    def key(self) -> int:
        """The old key: the hash over the touched and tracked cells that differ from reset."""
        base = self.env.unwrapped
        grid = base.grid
        cells = set(self._touched)
        for obj in self._objects:
            if obj.cur_pos is not None:
                cells.add((int(obj.cur_pos[0]), int(obj.cur_pos[1])))
        changed = []
        for x, y in sorted(cells):
            if 0 <= x < grid.width and 0 <= y < grid.height:
                obj = grid.get(x, y)
                code = (OBJECT_TO_IDX["empty"], 0, 0) if obj is None else tuple(int(v) for v in obj.encode())
                if code != tuple(int(v) for v in self._reset_codes[x, y]):
                    changed.extend((x, y, *code))
        carried = (-1, -1, -1) if base.carrying is None else tuple(int(v) for v in base.carrying.encode())
        pose = (int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir))
        data = self._layout + np.array(pose + carried + tuple(changed), np.int64).tobytes()
        return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") & KEY_MASK


@pytest.fixture(autouse=True, scope="module")
def _registered():
    register_extra_envs()


def build(overrides, crop: int) -> gym.Env:
    """The trainer's env with the predictor's grid and the state key, plus the legacy key."""
    cfg = compose([*overrides, "env.max_episode_steps=80"])  # short episodes: many resets
    return LegacyStateKey(make_single_env(cfg.env, full_grid_info=True, grid_crop=crop, state_keys=True))


def find(env, cls):
    """The wrapper of class ``cls`` in ``env``'s chain."""
    while not isinstance(env, cls):
        env = env.env
    return env


def check_step(env, crop: int, info: dict, before) -> None:
    """The step's grids equal the reference encoding; the cache equals Grid.encode()."""
    grids = find(env, FullGridInfo)
    assert grids.cache.stale_cells(env.unwrapped.grid) == []
    np.testing.assert_array_equal(info["full_grid"], compact_full_grid(env, crop))
    np.testing.assert_array_equal(info["full_grid_succ"], compact_full_grids(env, crop, [before])[0])
    assert info["state_key"] == info["legacy_state_key"]


def act(env, rng) -> int:
    """A random action, mostly a pickup, drop or toggle when facing an object (a uniform
    walk rarely reaches the key of DoorKey-8x8 in a few hundred steps)."""
    base = env.unwrapped
    front = base.grid.get(*base.front_pos)
    if (front is not None and front.type != "wall" or base.carrying is not None) and rng.random() < 0.6:
        return int(rng.choice(GRID_ACTIONS))
    return int(rng.integers(env.action_space.n))


def random_walk(env, steps: int, seed: int, check) -> dict:
    """A random walk (every action, pickups, drops and toggles favoured) with resets;
    ``check(obs, info, before)`` runs after the reset and every step (``before``: the agent's
    cell before the step, None after a reset); returns counts of what happened."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    check(obs, info, None)
    seen = {"changed": 0, "carried": 0, "resets": 0, "screen": 0}
    codes = env.unwrapped.grid.encode()
    for _ in range(steps):
        before = tuple(int(v) for v in env.unwrapped.agent_pos)
        obs, _, terminated, truncated, info = env.step(act(env, rng))
        check(obs, info, before)
        now = env.unwrapped.grid.encode()
        seen["changed"] += int(not np.array_equal(now, codes))
        seen["carried"] += int(env.unwrapped.carrying is not None)
        seen["screen"] += int(info.get("tv_action", False))
        codes = now
        if terminated or truncated:
            seen["resets"] += 1
            obs, info = env.reset(seed=int(rng.integers(1 << 30)))
            check(obs, info, None)
            codes = env.unwrapped.grid.encode()
    return seen


def walk(env, crop: int, steps: int, seed: int = 0) -> dict:
    """:func:`random_walk` checking the predictor's grids and the state key at every step."""
    return random_walk(env, steps, seed, lambda obs, info, before: check_step(env, crop, info, before))


@pytest.mark.parametrize("crop", [9, 0])
@pytest.mark.parametrize("name, overrides", TASKS, ids=[t for t, _ in TASKS])
def test_cached_grids_equal_the_full_encoding_on_random_walks(name, overrides, crop):
    env = build(overrides, crop)
    try:
        seen = walk(env, crop, 300)
    finally:
        env.close()
    assert seen["resets"] >= 2 and seen["changed"] > 0, seen  # the walk did change the grid
    if name.startswith(("doorkey", "obstructedmaze")):
        assert seen["carried"] > 0, seen
    if name == "noisytv_remote":
        assert seen["screen"] > 0, seen


def test_a_pickled_env_resumes_with_its_cache():
    env = build(["env=doorkey_8x8"], 9)
    try:
        walk(env, 9, 150, seed=1)
        clone = pickle.loads(pickle.dumps(env))  # checkpoints pickle the envs
        cache = find(clone, FullGridInfo).cache
        assert cache.grid is clone.unwrapped.grid
        # the codes stay the padded array's view: a copy would take the writes while the
        # windows are cut from the padding's stale cells (a resumed run's first door, key)
        assert np.shares_memory(cache.codes, cache.padded)
        cache.codes[0, 0] = 250
        assert cache.region(0, 0, 1, 1)[0, 0, 0] == 250
        cache.reset(clone.unwrapped.grid)
        walk_on(clone, 9, 150)
    finally:
        env.close()


def walk_on(env, crop: int, steps: int) -> None:
    """Continue an env (no reset first) on random actions, checking every step."""
    rng = np.random.default_rng(5)
    for _ in range(steps):
        before = tuple(int(v) for v in env.unwrapped.agent_pos)
        _, _, terminated, truncated, info = env.step(act(env, rng))
        check_step(env, crop, info, before)
        if terminated or truncated:
            _, info = env.reset(seed=int(rng.integers(1 << 30)))
            check_step(env, crop, info, None)


# ------------------------------------------------------------- tasks that change the grid themselves
class MovingBall(gym.Wrapper):
    """A test task that moves a ball by itself every other step (Grid.set, no agent action,
    no cur_pos) and recolours it in place every step: the cache must find the moved cells
    from the grid, not from the action, and keep re-encoding the ball where it went."""

    def reset(self, *, seed=None, options=None):
        """Reset and put the ball on a free cell."""
        obs, info = self.env.reset(seed=seed, options=options)
        self.ball, self.t = Ball("blue"), 0
        self.pos = self._free()[0]
        self.env.unwrapped.grid.set(*self.pos, self.ball)
        return obs, info

    def _free(self):
        """The free cells other than the agent's."""
        base = self.env.unwrapped
        agent = tuple(int(v) for v in base.agent_pos)
        return [(x, y) for x in range(base.width) for y in range(base.height)
                if base.grid.get(x, y) is None and (x, y) != agent]

    def step(self, action):
        """Step, then move the ball to another free cell (every other step) and recolour it."""
        out = self.env.step(action)
        grid = self.env.unwrapped.grid
        self.t += 1
        if self.t % 2:
            if grid.get(*self.pos) is self.ball:
                grid.set(*self.pos, None)
            free = self._free()
            self.pos = free[len(free) // 3]
            grid.set(*self.pos, self.ball)
        self.ball.color = ("blue", "green", "yellow")[self.t % 3]
        return out


class RecolouredWall(gym.Wrapper):
    """A test task that recolours a plain wall in place each step: the one change the cache
    cannot see (see curiosity.envs.grid_cache), so its fast path goes stale."""

    def step(self, action):
        """Step, then make the wall at (0, 0) blue (grey at reset)."""
        out = self.env.step(action)
        self.env.unwrapped.grid.get(0, 0).color = "blue"
        return out


class PaintedWall(Wall):
    """A wall subclass: not a class whose code is known to be constant, so re-encoded."""


class RecolouredSubclassWall(gym.Wrapper):
    """Puts a wall subclass at (0, 0) and recolours it each step."""

    def reset(self, *, seed=None, options=None):
        """Reset and swap the corner wall for the subclass."""
        out = self.env.reset(seed=seed, options=options)
        self.env.unwrapped.grid.set(0, 0, PaintedWall())
        return out

    def step(self, action):
        """Step, then recolour the subclass wall."""
        out = self.env.step(action)
        wall = self.env.unwrapped.grid.get(0, 0)
        wall.color = "blue" if wall.color == "grey" else "grey"
        return out


class SwappedGrid(gym.Wrapper):
    """A test task that replaces its whole Grid object mid-episode."""

    def step(self, action):
        """Step, then install a copy of the grid with a wall added or removed."""
        out = self.env.step(action)
        base = self.env.unwrapped
        grid = pickle.loads(pickle.dumps(base.grid))
        agent = tuple(int(v) for v in base.agent_pos)
        cell = next((x, y) for x in range(1, base.width - 1) for y in range(1, base.height - 1)
                    if (x, y) != agent and (grid.get(x, y) is None or isinstance(grid.get(x, y), PaintedWall)))
        grid.set(*cell, None if grid.get(*cell) is not None else PaintedWall())
        base.grid = grid
        return out


def raw_walk(task_wrapper, crop: int, steps: int = 60):
    """FullGridInfo on DoorKey-8x8 behind ``task_wrapper``; yields (env, info, before) per step."""
    env = FullGridInfo(task_wrapper(gym.make("MiniGrid-DoorKey-8x8-v0")), crop=crop)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    yield env, info, None
    for _ in range(steps):
        before = tuple(int(v) for v in env.unwrapped.agent_pos)
        _, _, terminated, truncated, info = env.step(int(rng.integers(7)))
        yield env, info, before
        if terminated or truncated:
            _, info = env.reset(seed=int(rng.integers(1 << 30)))
            yield env, info, None
    env.close()


@pytest.mark.parametrize("crop", [9, 0])
@pytest.mark.parametrize("task", [MovingBall, RecolouredSubclassWall, SwappedGrid])
def test_tasks_that_rewrite_cells_themselves_are_seen(task, crop):
    for env, info, before in raw_walk(task, crop):
        assert env.cache.stale_cells(env.unwrapped.grid) == []
        np.testing.assert_array_equal(info["full_grid"], compact_full_grid(env, crop))
        np.testing.assert_array_equal(info["full_grid_succ"], compact_full_grids(env, crop, [before])[0])


def test_the_reference_comparison_catches_a_stale_cache():
    stale = 0
    for env, info, _ in raw_walk(RecolouredWall, 0, steps=10):
        stale += env.cache.stale_cells(env.unwrapped.grid) == [(0, 0)]
        stale += not np.array_equal(info["full_grid"], compact_full_grid(env, 0))
    assert stale == 20  # both checks fail on every step after the reset


def test_the_slow_path_can_be_forced(monkeypatch):
    monkeypatch.setattr(EncodedGrid, "slow", True)  # every update a full re-encode
    for env, info, _ in raw_walk(RecolouredWall, 0, steps=10):
        np.testing.assert_array_equal(info["full_grid"], compact_full_grid(env, 0))


def test_a_corrupted_cache_is_detected_and_repaired_by_reset():
    env = FullGridInfo(gym.make("MiniGrid-DoorKey-8x8-v0"), crop=9)
    env.reset(seed=0)
    env.cache.codes[3, 3] = (OBJECT_TO_IDX["lava"], 0, 0)  # deliberately stale
    assert env.cache.stale_cells(env.unwrapped.grid) == [(3, 3)]
    env.cache.reset(env.unwrapped.grid)
    assert env.cache.stale_cells(env.unwrapped.grid) == []
    env.close()


def test_windows_past_the_padding_are_cut_with_unseen_cells():
    env = gym.make("MiniGrid-DoorKey-8x8-v0")
    env.reset(seed=0)
    base = env.unwrapped
    cache = EncodedGrid(pad=1)
    cache.reset(base.grid)
    for box in [(-3, 5, 5, 5), (-1, -1, 3, 3), (6, 6, 3, 3), (-9, 0, 3, 3), (-2, -2, 12, 12)]:
        np.testing.assert_array_equal(cache.region(*box), _encode_cells(base, *box))
    assert cache.region(-1, -1, 3, 3).base is cache.padded  # within the padding: a view
    env.close()


def test_state_key_wrapper_reads_its_own_cache():
    env = StateKey(gym.make("MiniGrid-DoorKey-8x8-v0"))
    _, info = env.reset(seed=2)
    assert env.cache.grid is env.unwrapped.grid and info["state_key"] == env.key()
    env.close()
