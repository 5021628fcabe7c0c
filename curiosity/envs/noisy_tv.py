"""Noisy TVs: sources of unlearnable randomness that trap prediction-error curiosity.

Two wrappers that apply to any MiniGrid task, both drawing the TV's randomness from
their own generator seeded by the env's reset seed (same seed, same channels) so that
switching the TV on never changes the sequence of levels the task generates:

- ``RemoteControlTV`` (after Burda et al. 2018; Mavor-Parker et al. 2022): taking the
  remote action (default 6, ``done``, a no-op in most tasks) shows a random channel in
  the compact grid observation for that step: a square of cells (or the whole view) with
  random object/colour/state values. Wraps the compact grid (``CompactGridObs``).
- ``InWorldTV`` (after RIDE's MultiRoomNoisyTV, Raileanu & Rocktaschel 2020): a ball
  placed in the grid whose colour is resampled every step or on each use of the remote;
  seen only when it is in the agent's view. Wraps the raw MiniGrid env (it edits the grid).

Each step's info carries ``tv_action`` (the remote action was executed), ``tv_in_view``
(the TV's random content is in the observation this step produced) and ``tv_in_prev_view``
(it was in the observation the action was taken from). A transition whose input shows the
TV is as unpredictable to a forward model as one whose successor does (measured: on the
remote TV, a conv forward model's largest errors come on the step *after* the remote),
so all three mark a TV step. ``tv_distraction_metrics`` turns a rollout of these flags and
the raw intrinsic rewards into the logged ``tv/*`` columns.
"""

from __future__ import annotations

from collections import deque

import gymnasium as gym
import numpy as np
import torch
from minigrid.core.constants import COLOR_NAMES, OBJECT_TO_IDX
from minigrid.core.world_object import Ball, Door, Goal
from minigrid.envs import MultiRoomEnv

from curiosity.envs.registration import NOISY_TV_TASKS
from curiosity.seeding import TV, wrapper_rng

TV_KEYS = ("tv_action", "tv_in_view", "tv_in_prev_view")
TV_MODES = ("none", "remote", "in_world")
RESAMPLE_MODES = ("step", "remote")
DONE_ACTION = 6  # MiniGrid's `done`: ends nothing and changes nothing in most tasks
BALL_IDX = OBJECT_TO_IDX["ball"]
def _tv_rng(seed: int | None) -> np.random.Generator:
    """The TV's own stream: a child of the reset seed, apart from layouts and sticky actions."""
    return np.random.default_rng() if seed is None else wrapper_rng(seed, TV)


class RemoteControlTV(gym.Wrapper):
    """The remote action puts a random channel on screen for one step.

    The screen is the ``region_size`` x ``region_size`` block of cells in the corner of
    the compact grid (rows/cols 0..region_size-1), or every cell with ``whole_view``.
    Only channels 0..2 (object, colour, state) are scrambled, each uniformly within the
    observation space's bounds, so the result stays a member of the space; the direction
    channel is left true. Other steps pass the observation through unchanged.
    ``on_screen`` holds the channel shown this step (None when off), which a full-grid
    predictor's grid draws in its own corner (``curiosity.envs.full_grid``).
    """

    def __init__(self, env: gym.Env, remote_action: int = DONE_ACTION, region_size: int = 3,
                 whole_view: bool = False):
        super().__init__(env)
        space = env.observation_space
        if not (isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and space.shape[-1] == 4):
            raise ValueError(f"RemoteControlTV wraps the compact (H, W, 4) uint8 grid, got {space}")
        h, w, _ = space.shape
        if not whole_view and not 1 <= region_size <= min(h, w):
            raise ValueError(f"env.tv_region_size={region_size}: must be in 1..{min(h, w)} for a {h}x{w} view")
        if not 0 <= remote_action < env.action_space.n:
            raise ValueError(f"env.tv_remote_action={remote_action}: must be in 0..{env.action_space.n - 1}")
        self.remote_action = remote_action
        self.screen = (slice(None), slice(None)) if whole_view else (slice(0, region_size), slice(0, region_size))
        self._high = space.high[self.screen][..., :3].astype(np.int64) + 1  # exclusive bounds
        self._rng = _tv_rng(None)
        self._showing = False  # the last observation returned shows the TV
        self.on_screen: np.ndarray | None = None  # the channel on screen now, for a full-grid predictor

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = _tv_rng(seed)
        obs, info = self.env.reset(seed=seed, options=options)
        info["tv_action"] = info["tv_in_view"] = info["tv_in_prev_view"] = self._showing = False
        self.on_screen = None
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        executed = int(info.get("executed_action", action))  # sticky actions may override the choice
        on = executed == self.remote_action
        self.on_screen = None
        if on:
            obs = obs.copy()
            self.on_screen = self._rng.integers(0, self._high, dtype=np.uint8)
            obs[self.screen + (slice(0, 3),)] = self.on_screen
        info["tv_in_prev_view"] = self._showing
        info["tv_action"] = info["tv_in_view"] = self._showing = on
        return obs, reward, terminated, truncated, info


class TVBall(Ball):
    """The in-world TV: a ball that cannot be picked up (carrying it would switch it off)."""

    def can_pickup(self):
        return False


def _reachable(grid, start: tuple[int, int]) -> int:
    """Number of cells reachable from ``start`` through cells an agent can pass or open."""
    seen = {start}
    todo = deque([start])
    while todo:
        x, y = todo.popleft()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if (nx, ny) in seen or not (0 <= nx < grid.width and 0 <= ny < grid.height):
                continue
            cell = grid.get(nx, ny)
            if cell is None or cell.can_overlap() or isinstance(cell, Door):
                seen.add((nx, ny))
                todo.append((nx, ny))
    return len(seen)


class InWorldTV(gym.Wrapper):
    """A ball in the grid whose colour is resampled each step or on each use of the remote.

    Placed at reset on a random empty cell that is not next to a door or the goal and
    whose occupation leaves every other reachable cell reachable, so the TV never blocks
    the task. The colour is resampled *before* the inner step so the step's observation
    already shows it. ``tv_in_view`` is True when the ball is in the agent's egocentric
    view and not occluded (always, with ``full_obs``: the policy sees the whole grid).
    """

    def __init__(self, env: gym.Env, resample: str = "step", remote_action: int = DONE_ACTION,
                 full_obs: bool = False, first_room: bool = False):
        super().__init__(env)
        if first_room and not hasattr(env.unwrapped, "rooms"):
            raise ValueError(f"env.tv_first_room=true: {type(env.unwrapped).__name__} has no rooms "
                             "(MultiRoom tasks only)")
        if resample not in RESAMPLE_MODES:
            raise ValueError(f"env.tv_resample={resample}: must be one of {RESAMPLE_MODES}")
        if not 0 <= remote_action < env.action_space.n:
            raise ValueError(f"env.tv_remote_action={remote_action}: must be in 0..{env.action_space.n - 1}")
        self.resample = resample
        self.remote_action = remote_action
        self.full_obs = full_obs
        self.first_room = first_room  # RIDE: the TV is in the room the agent starts in
        self.tv = TVBall()
        self.tv_pos: tuple[int, int] | None = None
        self._rng = _tv_rng(None)
        self._showing = False  # the last observation returned shows the TV

    def _place(self) -> None:
        base = self.env.unwrapped
        grid, agent = base.grid, tuple(int(v) for v in base.agent_pos)
        before = _reachable(grid, agent)

        def near_door_or_goal(x, y):
            around = (grid.get(x + dx, y + dy) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))
            return any(isinstance(c, (Door, Goal)) for c in around)

        xs, ys = range(1, grid.width - 1), range(1, grid.height - 1)
        if self.first_room:  # the interior of MultiRoom's first room, as RIDE places it
            (left, top), (width, height) = base.rooms[0].top, base.rooms[0].size
            xs, ys = range(left + 1, left + width - 1), range(top + 1, top + height - 1)
        empty = [(x, y) for x in xs for y in ys
                 if grid.get(x, y) is None and (x, y) != agent and not near_door_or_goal(x, y)]
        for i in self._rng.permutation(len(empty)):
            x, y = empty[i]
            grid.set(x, y, self.tv)
            if _reachable(grid, agent) == before - 1:
                self.tv_pos = (x, y)
                return
            grid.set(x, y, None)
        self.tv_pos = None  # no cell fits (tiny tasks): the episode runs without a TV

    def _recolour(self) -> None:
        self.tv.color = COLOR_NAMES[self._rng.integers(len(COLOR_NAMES))]

    def _in_view(self, obs) -> bool:
        if self.tv_pos is None:
            return False
        if self.full_obs:
            return True
        coords = self.env.unwrapped.relative_coords(*self.tv_pos)
        return coords is not None and bool(obs["image"][coords[0], coords[1], 0] == BALL_IDX)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = _tv_rng(seed)
        _, info = self.env.reset(seed=seed, options=options)
        self._recolour()
        self._place()
        obs = self.env.unwrapped.gen_obs()  # the reset observation, now showing the TV
        info["tv_action"] = info["tv_in_prev_view"] = False
        info["tv_in_view"] = self._showing = self._in_view(obs)
        return obs, info

    def step(self, action):
        pressed = int(action) == self.remote_action
        if self.resample == "step" or pressed:
            self._recolour()
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["tv_action"] = pressed
        info["tv_in_prev_view"] = self._showing
        info["tv_in_view"] = self._showing = self._in_view(obs)
        return obs, reward, terminated, truncated, info


def task_id(env_cfg) -> str:
    """The gymnasium id to build: a registered noisy-TV id maps to its TV-free task.

    The trainer adds the in-world TV itself (outside level pinning, inside sticky
    actions), so a noisy-TV id needs ``env.noisy_tv=in_world``; anything else is refused.
    """
    base = NOISY_TV_TASKS.get(env_cfg.id)
    if base is None:
        return env_cfg.id
    if getattr(env_cfg, "noisy_tv", "none") != "in_world":
        raise ValueError(f"env.id={env_cfg.id}: has an in-world TV built in, set env.noisy_tv=in_world")
    return base


def wrap_noisy_tv_raw(env: gym.Env, env_cfg) -> gym.Env:
    """Apply the in-world TV (to the task, before the compact encoding) if ``env_cfg`` asks for it."""
    if getattr(env_cfg, "noisy_tv", "none") != "in_world":
        return env
    return InWorldTV(env, resample=env_cfg.tv_resample, remote_action=env_cfg.tv_remote_action,
                     full_obs=env_cfg.full_obs, first_room=getattr(env_cfg, "tv_first_room", False))


def wrap_noisy_tv_compact(env: gym.Env, env_cfg) -> gym.Env:
    """Apply the remote-control TV (to the compact grid) if ``env_cfg`` asks for it."""
    if getattr(env_cfg, "noisy_tv", "none") != "remote":
        return env
    return RemoteControlTV(env, remote_action=env_cfg.tv_remote_action,
                           region_size=env_cfg.tv_region_size, whole_view=env_cfg.tv_whole_view)


def make_multiroom_noisy_tv(minNumRooms: int, maxNumRooms: int, maxRoomSize: int,  # noqa: N803
                            resample: str = "remote", remote_action: int = DONE_ACTION, **kwargs) -> gym.Env:
    """Entry point of the registered ``MultiRoomNoisyTV`` ids: MultiRoom plus RIDE's TV ball."""
    task = MultiRoomEnv(minNumRooms=minNumRooms, maxNumRooms=maxNumRooms, maxRoomSize=maxRoomSize, **kwargs)
    return InWorldTV(task, resample=resample, remote_action=remote_action, first_room=True)


def tv_distraction_metrics(tv_action: torch.Tensor, tv_in_view: torch.Tensor, tv_in_prev_view: torch.Tensor,
                           int_raw: torch.Tensor, valid: torch.Tensor) -> dict:
    """The ``tv/*`` columns for one rollout of ``(T, N)`` flags, raw intrinsic rewards, valid mask.

    ``tv/action_frac``: steps on which the remote was used; ``tv/in_view_frac``: steps whose
    observation shows the TV; ``tv/int_reward_share``: share of the raw intrinsic reward
    earned on TV steps (remote used, or the TV in the transition's observation or its
    successor); NaN when the rollout earned no intrinsic reward.
    """
    keep = valid.bool()
    action, view, prev = (f.bool()[keep] for f in (tv_action, tv_in_view, tv_in_prev_view))
    reward = int_raw[keep].double()
    n = max(int(keep.sum()), 1)
    total = float(reward.sum())
    on_tv = float(reward[action | view | prev].sum())
    return {
        "tv/action_frac": float(action.sum()) / n,
        "tv/in_view_frac": float(view.sum()) / n,
        "tv/int_reward_share": on_tv / total if total > 0 else float("nan"),
    }
