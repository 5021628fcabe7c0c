"""The grid's compact codes, kept current a few cells per step (issue 29: time to result).

``Grid.encode`` is a Python loop over every cell (~0.5 ms on MultiRoom's 25 x 25 grid), and
encoding even a 9 x 9 window object by object on every step was most of a predictor grid's
cost. :class:`EncodedGrid` encodes the whole grid once per episode (:meth:`EncodedGrid.reset`)
into a uint8 ``(W, H, 3)`` array, ``Grid.encode``'s numbers, and after each step
(:meth:`EncodedGrid.update`) re-encodes only the cells that can have changed:

- every cell that holds another object than it did (a pickup, a drop, a box opened into its
  contents, an object the task moved, a door a task swapped in): the grid's cell list is
  compared with a copy of it, object by object (``WorldObj`` defines no ``__eq__``, so this
  is an identity test), in one C-speed list comparison (~1 us on 625 cells) when nothing
  moved, row by row to find the cells when something did. No hint from the action is
  needed, so sticky actions and tasks that move objects by themselves need nothing more;
- every cell holding an object whose code can change in place (a door opening or
  unlocking, the in-world TV ball changing colour, ``curiosity.envs.noisy_tv.InWorldTV``):
  every object but MiniGrid's plain ``Wall``, ``Goal``, ``Lava`` and ``Floor`` (the exact
  classes; a subclass is re-encoded every step), whose codes never change.

A grid object swapped in mid-episode is encoded anew. What this cannot see is a task that
recolours a plain wall, goal, lava or floor in place (none of MiniGrid's does). Setting
``EncodedGrid.slow = True`` (on the class or an instance) makes every update a full
re-encode, and :meth:`EncodedGrid.stale_cells` compares the cache with a full encoding
(``tests/curiosity/envs/test_full_grid_incremental.py``).

Users: ``fast_view.FastEgocentricView`` gathers the policy's egocentric view from the cache,
``full_grid.FullGridInfo`` cuts the predictor's windows out of it (a padded array, so a
window past the grid's edge is a plain slice), ``state_key.StateKey`` hashes the cells that
differ from the layout at reset. They share one cache per env (:func:`shared_cache`, kept on
the task object), so a step re-encodes a changed cell once; every reader calls
:meth:`EncodedGrid.update` before it reads (cheap when nothing changed: the list comparison
and the live cells), since a wrapper may change the grid after another reader's update.
"""

from __future__ import annotations

import numpy as np
from minigrid.core.constants import OBJECT_TO_IDX
from minigrid.core.world_object import Floor, Goal, Lava, Wall

UNSEEN_IDX = OBJECT_TO_IDX["unseen"]  # past the grid's edge
EMPTY_CODE = (OBJECT_TO_IDX["empty"], 0, 0)  # what Grid.encode writes for a free cell
CONSTANT_CODE = frozenset((Wall, Goal, Lava, Floor))  # classes whose code never changes in place


def _constant(obj) -> bool:
    """True where a cell's code can change only by the cell getting another object."""
    return obj is None or type(obj) in CONSTANT_CODE


class EncodedGrid:
    """``Grid.encode()`` of one env's grid, kept current by :meth:`update` after each step.

    ``codes`` is the ``(W, H, 3)`` array; it lives inside ``padded``, ``pad`` cells of
    ``unseen`` on every side, so :meth:`region` cuts a window reaching ``pad`` cells past
    the edge without copying. ``version`` grows with every write to ``codes``, so a reader
    can memoise what it derives from them (``StateKey`` its diff with the reset layout).
    ``kinds`` holds every class that has held a cell since the last full encoding (the view
    checks that it can tell from the codes which cells can be seen through).
    """

    slow = False  # True: every update re-encodes the whole grid (the reference, for tests)
    version = 0  # counts the writes to ``codes``: same version, same codes

    def __init__(self, pad: int = 0):
        self.pad = int(pad)
        self.grid = None
        self.padded = np.zeros((0, 0, 3), dtype=np.uint8)
        self.codes = self.padded
        self._refs: list = []  # the object in each cell (grid.grid's order) when last encoded
        self._live: list[int] = []  # flat indices of the cells re-encoded every step
        self._live_xy = (np.zeros(0, np.intp), np.zeros(0, np.intp))
        self._live_codes: list = []  # their codes as in ``codes`` (skips unchanged writes)
        self.kinds: set[type] = set()  # the classes of the cells' objects (NoneType included)

    def __getstate__(self) -> dict:
        """Pickled without ``codes``: a view into ``padded`` pickled apart from it comes back
        a copy, and a resumed run would then cut its windows from codes that never update."""
        state = self.__dict__.copy()
        del state["codes"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        p = self.pad
        w, h = self.padded.shape[0] - 2 * p, self.padded.shape[1] - 2 * p
        self.codes = self.padded[p : p + w, p : p + h] if w > 0 and h > 0 else self.padded

    def reset(self, grid) -> None:
        """Encode ``grid`` whole: at every episode start (and if a task swaps its grid)."""
        w, h, p = grid.width, grid.height, self.pad
        self.grid = grid
        self.padded = np.zeros((w + 2 * p, h + 2 * p, 3), dtype=np.uint8)
        self.padded[..., 0] = UNSEEN_IDX
        self.codes = self.padded[p : p + w, p : p + h]
        self._refs = list(grid.grid)
        self.kinds = set(map(type, self._refs))
        # Grid.encode()'s numbers, ~3x faster: one list of tuples, not a numpy write per cell
        self.codes[...] = np.array([EMPTY_CODE if o is None else o.encode() for o in self._refs],
                                   dtype=np.uint8).reshape(h, w, 3).transpose(1, 0, 2)
        self._set_live(i for i, obj in enumerate(self._refs) if not _constant(obj))
        self.version += 1

    def update(self, grid) -> None:
        """Bring the codes up to date after a step: the cells whose object changed, then the
        cells whose object can change in place (see the module docstring)."""
        if self.slow or grid is not self.grid or len(grid.grid) != len(self._refs):
            self.reset(grid)
            return
        cells = grid.grid
        if cells != self._refs:  # some cell holds another object (rare: a pickup, a drop, ...)
            self._moved(cells)
        if self._live:  # written only when one differs: most steps open nothing, recolour nothing
            now = [EMPTY_CODE if (o := cells[i]) is None else o.encode() for i in self._live]
            if now != self._live_codes:
                self.codes[self._live_xy] = now
                self._live_codes = now
                self.version += 1

    def _moved(self, cells: list) -> None:
        """Re-encode the cells holding another object than when last encoded, found a row at
        a time (a slice comparison per row, the cells of a changed row one by one)."""
        width, refs = self.grid.width, self._refs
        live = set(self._live)
        for start in range(0, len(cells), width):
            stop = start + width
            if cells[start:stop] == refs[start:stop]:
                continue
            for i in range(start, stop):
                obj = cells[i]
                if obj is refs[i]:
                    continue
                refs[i] = obj
                self.kinds.add(type(obj))
                self.codes[i % width, i // width] = EMPTY_CODE if obj is None else obj.encode()
                if _constant(obj):
                    live.discard(i)
                else:
                    live.add(i)
        self._set_live(live)
        self.version += 1

    def widen(self, pad: int) -> None:
        """Make the padding at least ``pad`` cells (re-encoding the grid if it has one)."""
        if pad > self.pad:
            self.pad = int(pad)
            if self.grid is not None:
                self.reset(self.grid)

    def _set_live(self, indices) -> None:
        """Record the cells to re-encode every step, with their (x, y) for one numpy write."""
        width = self.grid.width
        self._live = sorted(indices)
        self._live_codes = [tuple(int(v) for v in self.codes[i % width, i // width]) for i in self._live]
        self._live_xy = (np.array([i % width for i in self._live], dtype=np.intp),
                         np.array([i // width for i in self._live], dtype=np.intp))

    def region(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """uint8 ``(w, h, 3)`` codes of the world cells from (x0, y0), ``unseen`` past the
        edge: a read-only-by-convention view of the cache where the padding reaches."""
        p = self.pad
        gw, gh = self.codes.shape[:2]
        if x0 >= -p and y0 >= -p and x0 + w <= gw + p and y0 + h <= gh + p:
            return self.padded[x0 + p : x0 + p + w, y0 + p : y0 + p + h]
        out = np.zeros((w, h, 3), dtype=np.uint8)  # further out than the padding: copy
        out[..., 0] = UNSEEN_IDX
        xs, ys = range(max(x0, 0), min(x0 + w, gw)), range(max(y0, 0), min(y0 + h, gh))
        if len(xs) and len(ys):
            out[xs.start - x0 : xs.stop - x0, ys.start - y0 : ys.stop - y0] = \
                self.codes[xs.start : xs.stop, ys.start : ys.stop]
        return out

    def stale_cells(self, grid) -> list[tuple[int, int]]:
        """The (x, y) cells where the cache differs from ``grid.encode()`` (empty when the
        cache is current): what the tests check after every step."""
        return [tuple(int(v) for v in xy) for xy in np.argwhere((self.codes != grid.encode()).any(-1))]


CACHE_ATTR = "encoded_grid"  # where the task object keeps its shared EncodedGrid


def shared_cache(env, pad: int = 0) -> EncodedGrid:
    """The one :class:`EncodedGrid` of ``env``'s task (created and kept on the task object
    by the first caller), its padding widened to at least ``pad``."""
    base = env.unwrapped
    cache = vars(base).get(CACHE_ATTR)
    if cache is None:
        cache = EncodedGrid(pad)
        setattr(base, CACHE_ATTR, cache)
    cache.widen(pad)
    return cache
