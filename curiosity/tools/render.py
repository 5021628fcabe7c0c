"""Episode renderer with debug overlays.

    python -m curiosity.tools.render RUN_DIR [--checkpoint PT] [--episodes N] [--out FILE.gif]
                               [--frames-dir DIR] [--seed S] [--greedy] [--fps F]

Plays episodes with the run's policy (trained, or untrained when the run has no
checkpoint) in a single env built from the run's config, and writes a GIF (MP4 with
imageio-ffmpeg installed). Each frame is MiniGrid's RGB render of the state s_t beside a
text panel about the transition taken from it: step, action, extrinsic reward, intrinsic
reward raw and normalized, both value estimates, the predictor's error, the action
probabilities and, with a noisy TV, the TV flags. An episode of T steps gives T + 1
frames (the last shows the final state and the episode's return). A recurrent policy's
state starts fresh at each episode and is carried through it, as in training.

The panel is drawn from one record per transition; the records are returned by
:func:`play_episodes` and written beside the video as ``OUT.jsonl``, so what a frame
shows can be checked against a recomputation.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from minigrid.core.actions import Actions
from PIL import Image, ImageDraw, ImageFont

from curiosity.config import ConfigError
from curiosity.envs import make_single_env
from curiosity.tools.run_state import RunState

ACTION_NAMES = [a.name for a in Actions]
PANEL_WIDTH = 300  # px of the text panel beside the grid
GRID_PIXELS = 400  # target size of the grid render; tiles are sized to fit
FONT_SIZE = 13
LINE_HEIGHT = 16
TV_KEYS = ("tv_action", "tv_in_view")


def tile_size_for(width: int, height: int) -> int:
    return int(np.clip(GRID_PIXELS // max(width, height), 8, 32))


def used_bounds(base) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) inclusive: the cells holding anything (MultiRoom leaves most empty)."""
    cells = [(x, y) for x in range(base.width) for y in range(base.height) if base.grid.get(x, y) is not None]
    if not cells:
        return 0, 0, base.width - 1, base.height - 1
    xs, ys = zip(*cells)
    return min(xs), min(ys), max(xs), max(ys)


class FrameCamera:
    """Renders the used part of the grid at a tile size that makes it ~GRID_PIXELS wide."""

    def __init__(self, base):
        self.base = base
        self.x0, self.y0, x1, y1 = used_bounds(base)
        self.w, self.h = x1 - self.x0 + 1, y1 - self.y0 + 1
        self.tile = tile_size_for(self.w, self.h)

    def frame(self) -> np.ndarray:
        t = self.tile
        full = self.base.get_frame(highlight=True, tile_size=t)
        return full[self.y0 * t : (self.y0 + self.h) * t, self.x0 * t : (self.x0 + self.w) * t]


def _action_name(a: int) -> str:
    return ACTION_NAMES[a] if 0 <= a < len(ACTION_NAMES) else str(a)


def _fmt(x, digits: int = 4) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


# ---------------------------------------------------------------------- playing
def play_episodes(state: RunState, episodes: int = 1, seed: int = 0, actions=None, greedy: bool = False):
    """Play ``episodes`` episodes; return (frames, records).

    Episode k starts from ``env.reset(seed=seed + k)``. ``actions`` scripts the actions
    instead of the policy (one list for all episodes; an episode also stops when its
    script runs out). Sampling uses its own generator, so the caller's RNG is untouched.
    The intrinsic reward of an episode's steps is scored once it ends, as the trainer scores
    an env's episode (``RunState.intrinsic_episode``: an episodic method's memory starts
    fresh with the episode and pays a revisit less than a first visit).
    """
    env = make_single_env(state.cfg.env, render_mode="rgb_array")
    base = env.unwrapped
    gen = torch.Generator().manual_seed(seed)
    frames, records = [], []
    try:
        for ep in range(episodes):
            obs, _ = env.reset(seed=seed + ep)
            camera = FrameCamera(base)
            ep_return, step = 0.0, 0
            memory = state.initial_memory()
            images, steps, grids = [], [], []  # this episode's frames, records, predictor transitions
            while True:
                image = camera.frame()
                if actions is not None and step >= len(actions):
                    break
                probs, v_ext, v_int, memory = state.policy_step(obs, memory, episode_start=step == 0)
                x, y, d = int(base.agent_pos[0]), int(base.agent_pos[1]), int(base.agent_dir)
                if actions is not None:
                    action = int(actions[step])
                elif greedy:
                    action = int(np.argmax(probs[0]))
                else:
                    action = int(torch.multinomial(torch.as_tensor(probs[0]), 1, generator=gen))
                pred_obs = state.predictor_grid(env, obs)
                next_obs, reward, terminated, truncated, info = env.step(action)
                pred_next = state.predictor_grid(env, next_obs, centre=(x, y))
                ep_return += float(reward)
                steps.append({
                    "episode": ep, "step": step, "action": action, "action_name": _action_name(action),
                    "agent_x": x, "agent_y": y, "agent_dir": d,
                    "reward_ext": float(reward), "reward_int_raw": None, "reward_int_norm": None,  # at the end
                    "value_ext": float(v_ext[0]), "value_int": float(v_int[0]),
                    "predictor_error": state.predictor_error(pred_obs, [action], pred_next),
                    "action_probs": [float(p) for p in probs[0]],
                    "terminated": bool(terminated), "truncated": bool(truncated),
                    "tv": {k: bool(info[k]) for k in TV_KEYS if k in info} or None,
                })
                images.append(image)
                grids.append((pred_obs, action, pred_next))
                obs, step = next_obs, step + 1
                if terminated or truncated:
                    image = camera.frame()
                    break
            if steps:  # the episode's intrinsic rewards, its memory used as in training
                raw = state.intrinsic_episode(np.stack([g[0] for g in grids]), [g[1] for g in grids],
                                              np.stack([g[2] for g in grids]))
                for record, r in zip(steps, raw):
                    record["reward_int_raw"] = float(r)
                    record["reward_int_norm"] = float(state.normalize_intrinsic(float(r)))
            records.extend(steps)
            frames.extend(compose_frame(im, panel_lines(r)) for im, r in zip(images, steps))
            end = {"episode": ep, "steps": step, "return": ep_return,
                   "success": bool(records and records[-1]["terminated"] and records[-1]["reward_ext"] > 0)}
            frames.append(compose_frame(image, end_lines(end)))
    finally:
        env.close()
    return frames, records


# ---------------------------------------------------------------------- drawing
def panel_lines(r: dict) -> list[str]:
    """The text a transition's frame shows, from its record only."""
    lines = [
        f"episode {r['episode']}  step {r['step']}",
        f"action   {r['action_name']} ({r['action']})",
        f"pos      ({r['agent_x']}, {r['agent_y']}) dir {r['agent_dir']}",
        f"r_ext    {_fmt(r['reward_ext'])}",
        f"r_int    raw {_fmt(r['reward_int_raw'], 5)}",
        f"         norm {_fmt(r['reward_int_norm'])}",
        f"V_ext    {_fmt(r['value_ext'])}",
        f"V_int    {_fmt(r['value_int'])}",
        f"pred err {_fmt(r['predictor_error'], 5)}",
        "pi(a|s):",
    ]
    for i, p in enumerate(r["action_probs"]):
        marker = ">" if i == r["action"] else " "
        lines.append(f"{marker} {_action_name(i):<7} {p:.3f} " + "|" * int(round(p * 20)))
    if r["tv"] is not None:
        lines.append("TV: " + ", ".join(f"{k[3:]}={'on' if v else 'off'}" for k, v in r["tv"].items()))
    if r["terminated"] or r["truncated"]:
        lines.append("-> terminated" if r["terminated"] else "-> truncated (time limit)")
    return lines


def end_lines(end: dict) -> list[str]:
    return [f"episode {end['episode']} ended", f"steps    {end['steps']}",
            f"return   {_fmt(end['return'])}", f"success  {end['success']}"]


_FONT = None


def _font():
    global _FONT
    if _FONT is None:
        from matplotlib import font_manager

        try:  # matplotlib ships DejaVu Sans Mono: aligned columns, nothing to download
            _FONT = ImageFont.truetype(font_manager.findfont("DejaVu Sans Mono"), FONT_SIZE)
        except OSError:
            _FONT = ImageFont.load_default()
    return _FONT


def compose_frame(image: np.ndarray, lines: list[str]) -> np.ndarray:
    """The grid render with a dark text panel on its right, as one uint8 RGB array."""
    h, w, _ = image.shape
    height = max(h, 8 + LINE_HEIGHT * len(lines))
    canvas = Image.new("RGB", (w + PANEL_WIDTH, height), (24, 24, 24))
    canvas.paste(Image.fromarray(image), (0, 0))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((w + 8, 4 + i * LINE_HEIGHT), line, fill=(235, 235, 235), font=_font())
    return np.asarray(canvas)


def _pad(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Pad frames to a common size (panels of different lengths)."""
    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    out = []
    for f in frames:
        if f.shape[:2] != (h, w):
            g = np.full((h, w, 3), 24, dtype=np.uint8)
            g[: f.shape[0], : f.shape[1]] = f
            f = g
        out.append(f)
    return out


# ---------------------------------------------------------------------- writing
def write_video(frames: list[np.ndarray], out: Path, fps: float = 4.0) -> Path:
    """GIF (always available) or MP4 (needs imageio-ffmpeg), chosen by the suffix."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frames = _pad(frames)
    if out.suffix.lower() == ".gif":
        iio.imwrite(out, np.stack(frames), duration=1000.0 / fps, loop=0)
    elif out.suffix.lower() == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise SystemExit(f"--out {out}: MP4 needs imageio-ffmpeg (pip install imageio-ffmpeg); use .gif") from None
        iio.imwrite(out, np.stack(frames), fps=fps, codec="libx264", macro_block_size=1)
    else:
        raise SystemExit(f"--out {out}: unknown video format '{out.suffix}' (use .gif or .mp4)")
    return out


def write_frames(frames: list[np.ndarray], frames_dir: Path) -> None:
    frames_dir = Path(frames_dir)
    frames_dir.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        iio.imwrite(frames_dir / f"frame_{i:05d}.png", frame)


def write_records(records: list[dict], path: Path) -> None:
    """One JSON object per transition (NaN written as null)."""
    clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps({k: clean(v) for k, v in r.items()}) + "\n")


def render_run(state: RunState, out: Path, episodes: int = 1, seed: int = 0, greedy: bool = False,
               frames_dir: Path | None = None, fps: float = 4.0, actions=None) -> tuple[list, list]:
    frames, records = play_episodes(state, episodes, seed, actions=actions, greedy=greedy)
    write_video(frames, out, fps)
    write_records(records, Path(out).with_suffix(".jsonl"))
    if frames_dir is not None:
        write_frames(frames, frames_dir)
    return frames, records




# ---------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    from curiosity.tools.prog import prog_name

    p = argparse.ArgumentParser(prog=prog_name("curiosity.tools.render"), description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", type=Path, help="a run directory (holds config.yaml and checkpoints/)")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="checkpoint to load (default RUN_DIR/checkpoints/latest.pt)")
    p.add_argument("--episodes", type=int, default=1, help="episodes to play, one after another (default 1)")
    p.add_argument("--out", type=Path, default=None,
                   help="GIF to write; the per-step records go beside it as .jsonl "
                        "(default RUN_DIR/renders/render_<frames>.gif)")
    p.add_argument("--frames-dir", type=Path, default=None, help="also write every frame as PNG here")
    p.add_argument("--seed", type=int, default=None, help="layout seed of the first episode (default: the run's seed)")
    p.add_argument("--greedy", action="store_true", help="argmax actions instead of sampling from the policy")
    p.add_argument("--fps", type=float, default=4.0, help="frames per second of the GIF (default 4)")
    p.add_argument("--device", default="cpu", help="torch device to load the networks on (default cpu)")
    return p


def main(argv=None) -> None:
    p = build_parser()
    args = p.parse_args(argv)
    if args.episodes < 1:
        p.error(f"--episodes {args.episodes}: must be >= 1")
    try:
        state = RunState.load(args.run_dir, args.checkpoint, args.device)
    except (FileNotFoundError, ConfigError) as err:
        p.exit(2, f"error: {err}\n")
    tag = "untrained" if state.frames is None else f"frames{state.frames:010d}"
    out = args.out or args.run_dir / "renders" / f"render_{tag}.gif"
    seed = int(state.cfg.seed) if args.seed is None else args.seed
    frames, records = render_run(state, out, args.episodes, seed, args.greedy, args.frames_dir, args.fps)
    returns = [sum(r["reward_ext"] for r in records if r["episode"] == e) for e in range(args.episodes)]
    print(f"wrote {out} ({len(frames)} frames, {args.episodes} episode(s), returns "
          f"{', '.join(f'{x:.3f}' for x in returns)}) and {Path(out).with_suffix('.jsonl')}")


if __name__ == "__main__":
    main()
