"""MiniGrid's egocentric view, cut from the grid's cached codes (issue 29: time to result).

``MiniGridEnv.gen_obs`` slices a 7x7 ``Grid`` of objects out of the world, rotates it
``agent_dir + 1`` times (a new ``Grid`` each time), runs the occlusion pass and encodes the
result: 1.5 s of 2.4 s in a cProfile of 200 steps of 16 Python envs on MultiRoom-N4-S5. The
first fast view read each view cell straight from the world instead (view cell -> world
cell is a fixed affine map per direction) but still encoded and occlusion-tested the cells
object by object: ~35 us a step, half of env stepping in a rollout. Now no per-cell Python
runs per step:

- the cells come from the env's ``curiosity.envs.grid_cache.EncodedGrid`` (the whole grid
  encoded once per episode, a few cells re-encoded per step), padded by ``view - 1`` cells,
  so the view is one numpy gather through precomputed flat indices per direction. The
  padding reads ``unseen``; where the view reaches past the grid's edge those cells become
  walls, as ``Grid.slice`` makes them;
- the occlusion pass (``Grid.process_vis``) needs only which cells can be seen through, and
  that follows from the codes: of MiniGrid's classes only ``Wall`` and ``Door`` override
  ``see_behind`` (a wall never, a door when its state code is "open"). A row of the view is
  a bit set; the pass's two sweeps over a row, given the row's visible and see-through bits,
  give the row's mask and what it reveals of the next row. Each (visible, see-through) pair
  is swept once by a literal transcription of MiniGrid's loop and memoised, so the pass is
  one dict lookup per row;
- a step that changed neither the cached codes (``EncodedGrid.version``) nor the agent's
  pose (a no-op: walking into a wall, picking up nothing, ``done``: ~60 % of a uniformly
  random policy's steps on MultiRoom-N4-S5 and DoorKey-8x8) returns a copy of the previous
  view, the carried object written in anew.

A task whose grid holds an object of a class with its own ``see_behind`` (anything other
than MiniGrid's three definitions, or a wall or door class with its own ``encode``) gets
:func:`image_from_objects`, the object-by-object algorithm (also the tests' reference, with
MiniGrid's own ``gen_obs``). What the cache
cannot see (a task recolouring a plain wall, goal, lava or floor in place; see grid_cache)
the view now cannot see either.

The cache is the env's one ``EncodedGrid`` (``grid_cache.shared_cache``): the predictor's
grid (``full_grid.FullGridInfo``) and the state key (``state_key.StateKey``) read the same
one, so a step encodes a changed cell once; each reader still brings it up to date before
reading (idempotent), since a wrapper may change the grid after ``gen_obs``.

Installed on the env instance by :func:`install_fast_view` only where the task does not
override ``gen_obs`` itself. ``tests/curiosity/envs/test_fast_view.py`` and
``test_fast_view_cached.py`` check it against MiniGrid's own ``gen_obs`` on random walks of
every task family the configs name. It is a picklable object, not a bound function, so
checkpoints can still pickle the envs (the memoised row sweeps are module state, not
pickled).
"""

from __future__ import annotations

import numpy as np
from minigrid.core.constants import DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.world_object import Door, Wall, WorldObj
from minigrid.minigrid_env import MiniGridEnv

from curiosity.envs.grid_cache import UNSEEN_IDX, shared_cache

EMPTY = (OBJECT_TO_IDX["empty"], 0, 0)  # what Grid.encode writes for a visible free cell
UNSEEN = (0, 0, 0)  # ... and for a cell hidden by the occlusion pass
OUTSIDE = Wall()  # Grid.slice puts a new Wall() past the grid's edge: same encoding, opaque
WALL_CODE = np.array(OUTSIDE.encode(), dtype=np.uint8)

# CLEAR[type, state]: the cell can be seen through (see_behind) according to its code. Opaque:
# a wall, a door that is not open (state 1 closed, 2 locked), the padding past the edge.
CLEAR = np.ones((256, 256), dtype=bool)
CLEAR[OBJECT_TO_IDX["wall"], :] = False
CLEAR[OBJECT_TO_IDX["door"], 1:] = False
CLEAR[UNSEEN_IDX, :] = False
_PLAIN: set[type] = {type(None)}  # the classes found to follow CLEAR so far

_ROWS: dict[int, dict[int, tuple[int, int]]] = {}  # view size -> memoised row sweeps


def _plain_sight(cls: type) -> bool:
    """True where CLEAR gives ``cls``'s ``see_behind``: a wall or door with MiniGrid's own
    rule, or any other class with the default (always see-through)."""
    rule = getattr(cls, "see_behind", None)
    if issubclass(cls, (Wall, Door)):  # its code must be MiniGrid's too: the rule reads the code
        own = Wall if issubclass(cls, Wall) else Door
        return rule is own.see_behind and cls.encode is own.encode
    return rule is WorldObj.see_behind


def _admit(kinds: set) -> bool:
    """Check the classes not met before; True when every one of ``kinds`` follows CLEAR."""
    ok = True
    for cls in kinds - _PLAIN:
        if _plain_sight(cls):
            _PLAIN.add(cls)
        else:
            ok = False
    return ok


def sweep_row(seen: int, clear: int, v: int) -> tuple[int, int]:
    """``Grid.process_vis`` on one row of ``v`` cells, as bit sets (bit i = view column i):
    from the row's visible cells ``seen`` and see-through cells ``clear``, the row's final
    mask and the cells it makes visible in the next (farther) row. MiniGrid's loop verbatim."""
    ahead = 0
    for i in range(v - 1):  # left to right
        if seen >> i & 1 and clear >> i & 1:
            seen |= 1 << (i + 1)
            ahead |= 3 << i  # cells i and i + 1 of the next row
    for i in range(v - 1, 0, -1):  # right to left
        if seen >> i & 1 and clear >> i & 1:
            seen |= 1 << (i - 1)
            ahead |= 3 << (i - 1)  # cells i - 1 and i
    return seen, ahead


def visible_rows(row_clear: list[int], v: int) -> list[int]:
    """``Grid.process_vis`` on bit rows: ``row_clear[j]`` holds the see-through cells of view
    row j (bit i: column i; row v - 1 is the agent's, the agent in column v // 2); returns the
    visible cells of each row. Each row's sweep is memoised (per view size, for the process)."""
    memo = _ROWS.setdefault(v, {})
    mask, seen = [0] * v, 1 << (v // 2)  # the agent's cell, in the nearest row
    for j in range(v - 1, -1, -1):  # near to far, as process_vis
        key = seen | row_clear[j] << v
        swept = memo.get(key)
        if swept is None:
            swept = memo[key] = sweep_row(seen, row_clear[j], v)
        mask[j], seen = swept
    return mask


class FastEgocentricView:
    """Drop-in ``gen_obs`` for one MiniGrid env (see the module docstring)."""

    def __init__(self, env: MiniGridEnv):
        self.env = env
        self.cache = shared_cache(env, env.agent_view_size - 1)
        self._prepared = None  # (key, offsets, bounds): see _prepare
        self._last = (None, None)  # (key, the view before the carried object): see image

    def __getstate__(self) -> dict:
        """Pickled without what is derived (rebuilt on the next call)."""
        state = self.__dict__.copy()
        state["_prepared"], state["_last"] = None, (None, None)
        return state

    def _prepare(self, v: int):
        """Flat offsets into the padded codes of each view cell, per direction (view column
        i, row j: the world cell forward * (v-1-j) + right * (i - v//2) from the agent), the
        view's reach per direction."""
        cache = self.cache
        if cache.pad < v - 1:
            cache.widen(v - 1)
        key = (v, cache.pad, cache.padded.shape[1])
        if self._prepared is not None and self._prepared[0] == key:
            return self._prepared
        stride = cache.padded.shape[1]
        i, j = np.meshgrid(np.arange(v), np.arange(v), indexing="ij")
        forward, right = v - 1 - j, i - v // 2
        offsets, bounds = [], []
        for dx, dy in DIR_TO_VEC:
            dx, dy = int(dx), int(dy)
            wx, wy = forward * dx - right * dy, forward * dy + right * dx  # the right is (-dy, dx)
            offsets.append(wx * stride + wy)
            bounds.append((int(wx.min()), int(wx.max()), int(wy.min()), int(wy.max())))
        self._prepared = (key, offsets, bounds)
        return self._prepared

    def image(self) -> np.ndarray:
        """uint8 ``(v, v, 3)``: ``gen_obs()["image"]``, bit for bit."""
        env = self.env
        cache = self.cache
        cache.update(env.grid)
        if not cache.kinds <= _PLAIN and not _admit(cache.kinds):
            return image_from_objects(env)  # an object with its own see_behind: the slow way
        v = env.agent_view_size
        ax, ay, d = int(env.agent_pos[0]), int(env.agent_pos[1]), int(env.agent_dir)
        key = (cache.version, ax, ay, d, v, env.see_through_walls)
        if self._last[0] == key:  # same codes, same pose (a no-op step): the same view
            img = self._last[1].copy()
        else:
            img = self._world_view(v, ax, ay, d, env.see_through_walls)
            self._last = (key, img.copy())
        carrying = env.carrying
        img[v // 2, v - 1] = carrying.encode() if carrying else EMPTY
        return img

    def _world_view(self, v: int, ax: int, ay: int, d: int, see_through_walls: bool) -> np.ndarray:
        """The view's cells from the cache, occluded cells zeroed (the agent's cell as in the world)."""
        cache = self.cache
        _, offsets, bounds = self._prepare(v)
        p = cache.pad
        img = cache.padded.reshape(-1, 3).take((ax + p) * cache.padded.shape[1] + ay + p + offsets[d], axis=0)
        x0, x1, y0, y1 = bounds[d]
        width, height = cache.codes.shape[:2]
        if ax + x0 < 0 or ay + y0 < 0 or ax + x1 >= width or ay + y1 >= height:
            img[img[..., 0] == UNSEEN_IDX] = WALL_CODE  # past the edge: Grid.slice's walls
        if see_through_walls:
            return img
        clear = CLEAR[img[..., 0], img[..., 2]]  # (v, v) [column, row]
        row_clear = (1 << np.arange(v)).dot(clear).tolist()  # per row, bit i: column i
        mask = visible_rows(row_clear, v)
        if v <= 8:  # unpack the rows' bits into (v, v) [column, row]
            visible = np.unpackbits(np.array([mask], dtype=np.uint8), axis=0, count=v, bitorder="little")
        else:
            visible = ((np.array(mask) >> np.arange(v)[:, None]) & 1).astype(np.uint8)
        img *= visible[..., None]
        return img

    def __call__(self) -> dict:
        env = self.env
        return {"image": self.image(), "direction": env.agent_dir, "mission": env.mission}


def image_from_objects(env: MiniGridEnv) -> np.ndarray:
    """The view object by object (the fast view before issue 29): each view cell read from the
    world, the occlusion pass on the objects, the visible ones encoded. The reference for the
    tests and the fallback for objects with their own ``see_behind``."""
    v = env.agent_view_size
    half = v // 2
    grid = env.grid
    gw, gh, cells = grid.width, grid.height, grid.grid
    ax, ay = int(env.agent_pos[0]), int(env.agent_pos[1])
    dx, dy = (int(c) for c in DIR_TO_VEC[env.agent_dir])
    rx, ry = -dy, dx  # the agent's right
    # objs[i][j]: view column i (left to right), view row j (far to near; the agent at
    # (half, v - 1)); world cell = agent + forward * (v-1-j) + right * (i - half)
    objs = [[None] * v for _ in range(v)]
    for i in range(v):
        r = i - half
        bx, by = ax + r * rx, ay + r * ry
        col = objs[i]
        for j in range(v):
            f = v - 1 - j
            x, y = bx + f * dx, by + f * dy
            col[j] = cells[y * gw + x] if 0 <= x < gw and 0 <= y < gh else OUTSIDE
    if env.see_through_walls:
        mask = [[True] * v for _ in range(v)]
    else:
        mask = _visible(objs, v, (half, v - 1))
    codes = [[(EMPTY if o is None else o.encode()) if seen else UNSEEN for o, seen in zip(col, vis)]
             for col, vis in zip(objs, mask)]
    carrying = env.carrying
    codes[half][v - 1] = carrying.encode() if carrying else EMPTY
    return np.array(codes, dtype=np.uint8)


def _visible(objs, v: int, agent) -> list[list[bool]]:
    """``Grid.process_vis`` on the gathered cells (same sweep, same order)."""
    mask = [[False] * v for _ in range(v)]
    mask[agent[0]][agent[1]] = True
    clear = [[o is None or o.see_behind() for o in col] for col in objs]
    for j in reversed(range(v)):
        for i in range(v - 1):
            if not mask[i][j] or not clear[i][j]:
                continue
            mask[i + 1][j] = True
            if j > 0:
                mask[i + 1][j - 1] = True
                mask[i][j - 1] = True
        for i in reversed(range(1, v)):
            if not mask[i][j] or not clear[i][j]:
                continue
            mask[i - 1][j] = True
            if j > 0:
                mask[i - 1][j - 1] = True
                mask[i][j - 1] = True
    return mask


def install_fast_view(env) -> bool:
    """Give ``env``'s MiniGrid task the fast ``gen_obs``; False (left as is) when the task
    is not a MiniGridEnv or defines its own ``gen_obs``."""
    base = env.unwrapped
    if not isinstance(base, MiniGridEnv) or type(base).gen_obs is not MiniGridEnv.gen_obs:
        return False
    base.gen_obs = FastEgocentricView(base)
    return True
