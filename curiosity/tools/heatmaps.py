"""Intrinsic-reward and visitation heatmaps over the MiniGrid map.

    python -m curiosity.tools.heatmaps RUN_DIR [--checkpoint PT] [--seed S] [--out-dir DIR]

- Intrinsic reward: for one layout (``env.reset(seed)``), the agent is placed on every
  cell it can stand on and reach from its start, facing each of the 4 directions, and
  every action is taken once from a copy of the env; the current predictor scores each
  of these transitions with the inputs of training (``RunState.intrinsic_raw``: the run's
  normalizers), and the map shows the mean over directions and actions, drawn over the
  layout. The probe transitions belong to no episode: an episodic method (count, ride,
  noveld, e3b) scores each as an episode's first step (its stateless ``reward``), so the map
  shows its first-visit bonus. The full (x, y, dir, action) array is saved as .npy.
- Visitation: the latest ``RUN_DIR/visitation/visits_frames*.npy`` (per-cell visit
  counts summed over all envs and, on procedurally generated tasks, over all layouts).
"""

from __future__ import annotations

import argparse
import copy
from collections import deque
from pathlib import Path

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from curiosity.config import ConfigError  # noqa: E402
from curiosity.envs import make_single_env  # noqa: E402
from curiosity.tools.render import ACTION_NAMES, used_bounds  # noqa: E402
from curiosity.tools.run_state import RunState  # noqa: E402

NUM_DIRECTIONS = 4
TILE = 16  # px per cell of the background map


# ---------------------------------------------------------------------- env probing
def observe(env: gym.Env) -> np.ndarray:
    """The observation of the env's current state, through every observation wrapper."""
    chain = []
    e = env
    while isinstance(e, gym.Wrapper):
        chain.append(e)
        e = e.env
    obs = e.gen_obs()
    for w in reversed(chain):  # innermost first, as in a real step
        if isinstance(w, gym.ObservationWrapper):
            obs = w.observation(obs)
    return obs


def standable(cell) -> bool:
    return cell is None or cell.can_overlap()


def reachable_cells(base) -> list[tuple[int, int]]:
    """Cells the agent can stand on, connected to its start through non-wall cells (doors count)."""
    start = (int(base.agent_pos[0]), int(base.agent_pos[1]))
    seen, queue, out = {start}, deque([start]), []
    while queue:
        x, y = queue.popleft()
        if standable(base.grid.get(x, y)):
            out.append((x, y))
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if (nx, ny) in seen or not (0 <= nx < base.width and 0 <= ny < base.height):
                continue
            cell = base.grid.get(nx, ny)
            if cell is not None and cell.type == "wall":
                continue
            seen.add((nx, ny))
            queue.append((nx, ny))
    return sorted(out)


def probe_transitions(env: gym.Env, cells, num_actions: int, view=lambda env, obs, centre=None: obs):
    """(obs, action, next_obs) for every cell x direction x action, from copies of ``env``;
    ``view(env, obs, centre)`` maps to what the predictor sees (``RunState.predictor_grid``)."""
    obs_list, act_list, next_list = [], [], []
    for x, y in cells:
        for d in range(NUM_DIRECTIONS):
            placed = copy.deepcopy(env)
            base = placed.unwrapped
            base.agent_pos, base.agent_dir, base.step_count = (x, y), d, 0
            obs = view(placed, observe(placed))
            for a in range(num_actions):
                trial = copy.deepcopy(placed)
                next_obs = view(trial, trial.step(a)[0], (x, y))
                obs_list.append(obs)
                act_list.append(a)
                next_list.append(next_obs)
    return np.stack(obs_list), np.asarray(act_list), np.stack(next_list)


def intrinsic_reward_grid(state: RunState, seed: int, chunk: int = 4096):
    """(per_cell (W, H) mean reward, NaN off the reachable cells; full (W, H, 4, A) array; env)."""
    if state.intrinsic is None:
        raise ValueError(f"method={state.cfg.method.name}: the run has no intrinsic module to map")
    env = make_single_env(state.cfg.env, render_mode="rgb_array")
    env.reset(seed=seed)
    base = env.unwrapped
    cells = reachable_cells(base)
    a = state.num_actions
    obs, actions, next_obs = probe_transitions(env, cells, a, state.predictor_grid)
    raw = np.concatenate([state.intrinsic_raw(obs[i : i + chunk], actions[i : i + chunk], next_obs[i : i + chunk])
                          for i in range(0, len(actions), chunk)])
    full = np.full((base.width, base.height, NUM_DIRECTIONS, a), np.nan)
    per = raw.reshape(len(cells), NUM_DIRECTIONS, a)
    for (x, y), values in zip(cells, per):
        full[x, y] = values
    per_cell = np.full((base.width, base.height), np.nan)
    for x, y in cells:
        per_cell[x, y] = full[x, y].mean()
    return per_cell, full, env


def latest_visitation(run_dir: Path) -> tuple[np.ndarray, int]:
    """(visits (W, H), frames) of the newest saved visitation map."""
    files = sorted((Path(run_dir) / "visitation").glob("visits_frames*.npy"))
    if not files:
        raise FileNotFoundError(f"{run_dir}/visitation: no visits_frames*.npy (logger.visitation_every)")
    return np.load(files[-1]), int(files[-1].stem.removeprefix("visits_frames"))


# ---------------------------------------------------------------------- drawing
def _draw(values_xy: np.ndarray, out: Path, title: str, label: str, background=None, cmap="magma",
          bounds=None, per_action: dict | None = None) -> Path:
    """Draw a (W, H) map zoomed to ``bounds`` (x0, y0, x1, y1 inclusive), with the RGB
    layout ``background`` beside it when given (blank grey cells have no value), and a bar
    chart of ``per_action`` {action name: mean value} after it when given."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = values_xy.shape
    extent = (0, w, h, 0)  # cell (x, y) spans [x, x+1] x [y, y+1], y down as in MiniGrid
    x0, y0, x1, y1 = bounds if bounds is not None else (0, 0, w - 1, h - 1)
    map_width = float(np.clip(3.6 * (x1 - x0 + 1) / (y1 - y0 + 1), 2.2, 6.0))  # follow the map's aspect
    widths = [map_width] * (1 + (background is not None)) + ([4.0] if per_action is not None else [])
    fig, axes = plt.subplots(1, len(widths), figsize=(sum(widths) + 1.6, 4.6), squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    axes = list(axes[0])
    if per_action is not None:
        bars = axes.pop()
        bars.barh(list(per_action), list(per_action.values()), color="#7a3b8f")
        bars.invert_yaxis()
        bars.set_xlabel(f"mean {label}")
        bars.set_title("by action (mean over cells and directions)", fontsize=8)
    if background is not None:
        axes[0].imshow(background, extent=extent)
        axes[0].set_title("layout", fontsize=8)
    ax = axes[-1]
    colormap = plt.get_cmap(cmap).with_extremes(bad="#b0b0b0")
    im = ax.imshow(np.ma.masked_invalid(values_xy.T), extent=extent, cmap=colormap, interpolation="nearest")
    fig.colorbar(im, ax=ax, label=label, fraction=0.046, pad=0.04)
    for a in axes:
        a.set_xlim(x0, x1 + 1)
        a.set_ylim(y1 + 1, y0)
        a.set_xlabel("x")
        a.set_ylabel("y")
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def write_intrinsic_heatmap(state: RunState, out: Path, seed: int) -> Path:
    """Draw the intrinsic-reward map of layout ``seed``; also save the raw array beside it."""
    per_cell, full, env = intrinsic_reward_grid(state, seed)
    background = env.unwrapped.get_frame(highlight=False, tile_size=TILE)
    bounds = used_bounds(env.unwrapped)
    env.close()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.save(Path(out).with_suffix(".npy"), full)
    when = "untrained" if state.frames is None else f"{state.frames} frames"
    title = (f"{state.cfg.env.id}  method={state.cfg.method.name}  ({when}), layout seed {seed}\n"
             f"raw intrinsic reward per cell: mean over 4 directions x {state.num_actions} actions")
    by_action = {ACTION_NAMES[a] if a < len(ACTION_NAMES) else str(a): float(np.nanmean(full[..., a]))
                 for a in range(full.shape[-1])}
    return _draw(per_cell, out, title, "raw intrinsic reward", background, bounds=bounds, per_action=by_action)


def write_visitation_heatmap(run_dir: Path, out: Path, env_id: str = "") -> Path:
    visits, frames = latest_visitation(run_dir)
    counts = np.where(visits > 0, visits, np.nan).astype(float)
    title = (f"{env_id}  visits per cell after {frames} frames\n"
             "(all envs; over all layouts on procedurally generated tasks; blank = never)")
    xs, ys = np.nonzero(visits)
    bounds = (xs.min() - 1, ys.min() - 1, xs.max() + 1, ys.max() + 1) if len(xs) else None
    return _draw(np.log10(counts), out, title, "log10 visits", cmap="viridis", bounds=bounds)


def build_parser() -> argparse.ArgumentParser:
    from curiosity.tools.prog import prog_name

    p = argparse.ArgumentParser(prog=prog_name("curiosity.tools.heatmaps"), description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path,
                   help="a run directory (holds config.yaml, checkpoints/ and visitation/)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="checkpoint to load (default RUN_DIR/checkpoints/latest.pt)")
    p.add_argument("--seed", type=int, default=None,
                   help="layout seed of the intrinsic-reward map (default: the run's seed)")
    p.add_argument("--out-dir", type=Path, default=None, help="folder for the PNGs (default RUN_DIR/heatmaps)")
    p.add_argument("--device", default="cpu", help="torch device to load the networks on (default cpu)")
    return p


def main(argv=None) -> None:
    p = build_parser()
    args = p.parse_args(argv)
    try:
        state = RunState.load(args.run_dir, args.checkpoint, args.device)
    except (FileNotFoundError, ConfigError) as err:
        p.exit(2, f"error: {err}\n")
    out_dir = args.out_dir or args.run_dir / "heatmaps"
    seed = int(state.cfg.seed) if args.seed is None else args.seed
    tag = "untrained" if state.frames is None else f"frames{state.frames:010d}"
    if state.intrinsic is None:
        print(f"method={state.cfg.method.name}: no intrinsic module, skipping the intrinsic-reward map")
    else:
        print(f"wrote {write_intrinsic_heatmap(state, out_dir / f'intrinsic_{tag}.png', seed)}")
    try:
        print(f"wrote {write_visitation_heatmap(args.run_dir, out_dir / 'visitation.png', state.cfg.env.id)}")
    except FileNotFoundError as err:
        print(f"no visitation map: {err}")


if __name__ == "__main__":
    main()
