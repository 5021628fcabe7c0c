"""The whole grid in ``info["full_grid"]``, for a predictor that sees more than the policy.

Predictor observability (``method.predictor_full_obs``): the policy keeps its egocentric
view while the forward model predicts the fully observed grid, the same compact
``(W, H, 4)`` layout ``CompactGridObs(full_obs=True)`` produces (agent written in,
direction in channel 3), except that the agent cell also shows what the agent carries
(colour channel = the carried object's colour, state channel = 1 key, 2 ball or box, 0
nothing). MiniGrid's fully observed grid hides the carried object (the egocentric view
shows it in the agent's cell), which makes "drop" unpredictable from the grid: a forward
model's error there never falls, and a curious agent learned to pick up and drop the key
forever. Only added when asked for.

``method.predictor_crop=k`` (odd, >= 3) cuts a k x k world-aligned window out of that grid
instead, centred on the agent's cell *before* the step: the grid acted in and its successor
are cut from the same window, so the target is the change the step made around the agent
(every change the agent causes is within one cell of it). On MultiRoom-N4-S5's 25 x 25
grid the whole-grid predictor cost 6.2 s of a 7.9 s iteration; a 9 x 9 window has 13 %
of the cells. Cells past the grid's edge read as ``unseen``. Unlike the egocentric view,
the window does not turn with the agent, so turning changes only the direction channel.

A remote-control TV (``curiosity.envs.noisy_tv``) that is on shows the same random
channel in the corner of the predictor's grid as in the policy's view, so a full-grid
predictor faces the same noise the policy's view does.

**Neutral for every method** (issue 26). The agent's direction is written into the agent's
cell only (channel 3; 0 in every other cell), not broadcast to all cells as the policy's
compact grid does: a turn in place changes one cell, not 81, so no method's input moves on
a turn more than on a step. Each step reports two successors: ``full_grid`` after the step
is the grid the agent acts from next (the window re-centred on its new cell), the successor
every method scores (a count key, an embedding, a novelty); ``full_grid_succ`` is the grid
after the step cut from the window the step was taken in, the *change* target of the
forward models (``IntrinsicModule.same_window_successor``). A pose reached by two routes
thus gives one grid, and a no-op repeats the grid it starts from.

**No per-cell Python per step** (issue 29). ``FullGridInfo`` reads the grid's codes from
the env's one ``curiosity.envs.grid_cache.EncodedGrid`` (shared with the policy's view and
the state key): the whole grid encoded once per episode, then only the cells that can have
changed re-encoded after each step; every window is a slice of it (padded with ``unseen``)
plus the agent's cell and the remote TV's screen. The stateless
:func:`compact_full_grid` (the renderer, the heatmaps, the tests' reference) encodes the
window's cells from the world objects each call, as every step did before; the two agree bit
for bit (``tests/curiosity/envs/test_full_grid_incremental.py``).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

from curiosity.envs.grid_cache import EMPTY_CODE, UNSEEN_IDX, shared_cache
from curiosity.envs.wrappers import NUM_COLORS, NUM_DIRECTIONS, NUM_OBJECTS, NUM_STATES

CARRY_STATE = {"key": 1, "ball": 2, "box": 2}  # agent cell's state channel: what it carries
AGENT_CODE = (OBJECT_TO_IDX["agent"], COLOR_TO_IDX["red"], 0)


def _window(base, crop: int, centre) -> tuple[int, int, int, int]:
    """(x0, y0, width, height) of the predictor's grid in world cells (the whole grid if crop=0)."""
    if crop == 0:
        return 0, 0, base.width, base.height
    cx, cy = (int(v) for v in (base.agent_pos if centre is None else centre))
    return cx - crop // 2, cy - crop // 2, crop, crop


def compact_full_grid(env: gym.Env, crop: int = 0, centre=None) -> np.ndarray:
    """uint8 ``(W, H, 4)``: (object, colour, state, direction) of every cell, agent included;
    the direction (channel 3) in the agent's cell only, 0 elsewhere.

    With ``crop`` > 0: the ``crop`` x ``crop`` window centred on ``centre`` (default: the
    agent's cell), cells past the grid's edge ``unseen``. An on-screen remote TV is drawn in.
    Stateless (encodes the window from the world objects): for any env at any time.
    """
    return compact_full_grids(env, crop, [centre])[0]


def compact_full_grids(env: gym.Env, crop: int, centres: list) -> list[np.ndarray]:
    """:func:`compact_full_grid` for several centres, encoding each world cell once (a step
    that moved the agent needs the window before and after: two 9x9 windows share 72 cells).

    The reference algorithm: ``FullGridInfo`` returns the same arrays from its cache."""
    base = env.unwrapped
    boxes = [_window(base, crop, centre) for centre in centres]
    if crop == 0:
        region, rx, ry = base.grid.encode(), 0, 0
    else:  # encode only the windows' cells: the whole grid is a Python loop over W*H cells
        rx, ry = min(b[0] for b in boxes), min(b[1] for b in boxes)
        region = _encode_cells(base, rx, ry, max(b[0] for b in boxes) + crop - rx,
                               max(b[1] for b in boxes) + crop - ry)
    screen = _remote_tv_screen(env)
    return [_compose(base, region[x0 - rx : x0 - rx + w, y0 - ry : y0 - ry + h], x0, y0, screen)
            for x0, y0, w, h in boxes]


def _compose(base, codes: np.ndarray, x0: int, y0: int, screen: np.ndarray | None) -> np.ndarray:
    """The predictor's grid from the window's cell codes ``(w, h, 3)`` at world (x0, y0): the
    agent (with its direction and carried object) and any on-screen remote TV written in.
    One function for the reference and the cached path, so the two cannot drift apart."""
    w, h = codes.shape[:2]
    grid = np.zeros((w, h, 4), dtype=np.uint8)  # channel 3: 0 except the agent's cell
    grid[..., :3] = codes
    x, y = base.agent_pos[0] - x0, base.agent_pos[1] - y0
    if 0 <= x < w and 0 <= y < h:
        grid[x, y, :3] = AGENT_CODE
        grid[x, y, 3] = base.agent_dir  # the direction where it belongs, not in every cell
        if base.carrying is not None:
            grid[x, y, 1] = COLOR_TO_IDX[base.carrying.color]
            grid[x, y, 2] = CARRY_STATE.get(base.carrying.type, 2)
    if screen is not None:  # the same random channel as in the policy's view, in the corner
        sw, sh = min(screen.shape[0], w), min(screen.shape[1], h)
        grid[:sw, :sh, :3] = screen[:sw, :sh]
    return grid


def _encode_cells(base, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """uint8 ``(w, h, 3)`` codes of the world cells from (x0, y0); past the edge ``unseen``
    (the reference path: one ``encode()`` per cell)."""
    codes = np.zeros((w, h, 3), dtype=np.uint8)
    codes[..., 0] = UNSEEN_IDX
    xs = range(max(x0, 0), min(x0 + w, base.width))
    ys = range(max(y0, 0), min(y0 + h, base.height))
    if len(xs) and len(ys):
        cells = base.grid.grid  # row-major list, index j * width + i
        inside = [EMPTY_CODE if (o := cells[j * base.width + i]) is None else o.encode() for i in xs for j in ys]
        codes[xs.start - x0 : xs.stop - x0, ys.start - y0 : ys.stop - y0] = np.array(
            inside, dtype=np.uint8).reshape(len(xs), len(ys), 3)
    return codes


def _remote_tv_screen(env: gym.Env) -> np.ndarray | None:
    """The remote TV's on-screen content (``(k, k, 3)``) if a wrapper in ``env`` shows one."""
    while isinstance(env, gym.Wrapper):
        screen = getattr(env, "on_screen", None)
        if screen is not None:
            return screen
        env = env.env
    return None


def _screen_wrappers(env: gym.Env) -> list:
    """The wrappers in ``env`` that may show a remote TV's screen (an ``on_screen``
    attribute), found once so each step reads them without walking the chain."""
    found = []
    while isinstance(env, gym.Wrapper):
        if hasattr(env, "on_screen"):
            found.append(env)
        env = env.env
    return found


def full_grid_space(env: gym.Env, crop: int = 0) -> gym.spaces.Box:
    """The Box of the predictor's grid: the whole grid's shape, or crop x crop."""
    base = env.unwrapped
    high = np.empty((crop or base.width, crop or base.height, 4), dtype=np.uint8)
    high[...] = (NUM_OBJECTS - 1, NUM_COLORS - 1, NUM_STATES - 1, NUM_DIRECTIONS - 1)
    return gym.spaces.Box(0, high, dtype=np.uint8)


class FullGridInfo(gym.Wrapper):
    """Adds the predictor's grid to the info after every reset and step.

    ``info["full_grid"]``: the grid the next action is taken in (after the step, before any
    reset): the successor every method scores; ``info["full_grid_succ"]``: the grid after the
    step cut from the window the step was taken in, the forward models' change target (the
    same array as ``full_grid`` when the predictor sees the whole grid, or the agent stayed).
    Both are cut from an :class:`~curiosity.envs.grid_cache.EncodedGrid` kept current cell by
    cell; they equal :func:`compact_full_grids` bit for bit.
    """

    def __init__(self, env: gym.Env, crop: int = 0):
        super().__init__(env)
        if crop != 0 and (crop < 3 or crop % 2 == 0):
            raise ValueError(f"method.predictor_crop={crop}: must be 0 (whole grid) or an odd number >= 3")
        self.crop = crop
        self.full_grid_space = full_grid_space(env, crop)
        self._centre = (0, 0)
        self.cache = shared_cache(env, crop // 2)  # the env's one cache; every window a slice
        self._screens = _screen_wrappers(env)
        self._base = env.unwrapped  # gymnasium's `unwrapped` walks the chain on every read

    def _grids(self, centres: list) -> list[np.ndarray]:
        """The predictor's grids centred on ``centres`` (None: the agent), from the cache."""
        base = self._base
        screen = next((s for w in self._screens if (s := w.on_screen) is not None), None)
        out = []
        for centre in centres:
            x0, y0, w, h = _window(base, self.crop, centre)
            out.append(_compose(base, self.cache.region(x0, y0, w, h), x0, y0, screen))
        return out

    def _current(self) -> np.ndarray:
        """The grid around the agent now, and remember its cell as the next step's centre."""
        self._centre = tuple(int(v) for v in self._base.agent_pos)
        return self._grids([None])[0]

    def reset(self, *, seed=None, options=None):
        """Reset, report the new layout's grid (a new Grid object: the cache encodes it whole,
        once per episode, whichever reader updates it first)."""
        obs, info = self.env.reset(seed=seed, options=options)
        self.cache.update(self._base.grid)
        info["full_grid"] = info["full_grid_succ"] = self._current()
        return obs, info

    def step(self, action):
        """Step, re-encode the cells that can have changed, report the new and same-window grids."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.cache.update(self._base.grid)
        before = self._centre
        self._centre = tuple(int(v) for v in self._base.agent_pos)
        if self.crop and before != self._centre:  # the window moved: both windows from the cache
            info["full_grid"], info["full_grid_succ"] = self._grids([None, before])
        else:
            info["full_grid"] = info["full_grid_succ"] = self._grids([None])[0]
        return obs, reward, terminated, truncated, info
