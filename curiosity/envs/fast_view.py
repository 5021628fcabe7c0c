"""MiniGrid's egocentric view, computed without building and rotating sub-grids.

``MiniGridEnv.gen_obs`` slices a 7x7 ``Grid`` of objects out of the world, rotates it
``agent_dir + 1`` times (a new ``Grid`` each time), runs the occlusion pass and encodes the
result: 1.5 s of 2.4 s in a cProfile of 200 steps of 16 Python envs on MultiRoom-N4-S5.
``FastEgocentricView`` returns the same observation by reading each view cell straight from
the world (view cell -> world cell is a fixed affine map per direction), running the same
occlusion pass on the gathered cells and encoding only what is visible.

It is installed on the env instance by :func:`install_fast_view` only where the task does
not override ``gen_obs`` itself, and ``tests/curiosity/envs/test_fast_view.py`` checks it
against MiniGrid's own ``gen_obs`` on random walks of every task family the configs name.
It is a picklable object, not a bound function, so checkpoints can still pickle the envs.
"""

from __future__ import annotations

import numpy as np
from minigrid.core.constants import DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.world_object import Wall
from minigrid.minigrid_env import MiniGridEnv

EMPTY = (OBJECT_TO_IDX["empty"], 0, 0)  # what Grid.encode writes for a visible free cell
UNSEEN = (0, 0, 0)  # ... and for a cell hidden by the occlusion pass
OUTSIDE = Wall()  # Grid.slice puts a new Wall() past the grid's edge: same encoding, opaque


class FastEgocentricView:
    """Drop-in ``gen_obs`` for one MiniGrid env (see the module docstring)."""

    def __init__(self, env: MiniGridEnv):
        self.env = env

    def image(self) -> np.ndarray:
        env = self.env
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

    def __call__(self) -> dict:
        env = self.env
        return {"image": self.image(), "direction": env.agent_dir, "mission": env.mission}


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
