"""Runs beside a published curve: mean episode return against frames, with the paper's values.

The reproduction of RIDE's MultiRoom-N7-S4 result (issue 26, ``conf/experiment/reproduce_ride.yaml``)
is judged against the values read off the paper's figure, not against a curve file (none is
published). Each reference is a few (frames, mean return) points and the claim they support;
the figure draws every run's smoothed curve beside them and the table gives, per run, the first
frame at which the smoothed mean return reaches a threshold and its value at chosen frames.

    python -m analysis.published /work/studies/reproduce_ride/r1 --reference ride_multiroom_n7_s4 \
        --out docs/results/figures/reproduction_n7s4.png
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.runs import load_runs
from analysis.scores import SMOOTH_ROWS, curve, smoothed

RETURN = "charts/episode_return"


@dataclass(frozen=True)
class Reference:
    """Values read off a paper's figure: ``points`` per method, (frames, mean episode return)."""

    env: str
    source: str
    points: dict[str, tuple[tuple[float, float], ...]]
    note: str


REFERENCES = {
    # Raileanu & Rocktaschel 2020 (ICLR), Fig. 3, MultiRoom-N7-S4: IMPALA with an LSTM, 40 actors;
    # read off the figure (issue 26): nothing above 0 before ~3M frames, RIDE ~0.77 by ~5M, COUNT
    # ~0.77 by ~6M. Approximate: a figure, not a table.
    "ride_multiroom_n7_s4": Reference(
        env="MiniGrid-MultiRoom-N7-S4-v0",
        source="Raileanu & Rocktaschel 2020, Fig. 3 (values read off the figure)",
        points={"ride": ((0.0, 0.0), (3e6, 0.0), (5e6, 0.77), (6e6, 0.77)),
                "count": ((0.0, 0.0), (3e6, 0.0), (6e6, 0.77))},
        note="IMPALA, LSTM policy, 40 actors; episodic count on the full-grid state",
    ),
}


def run_table(runs, threshold: float, at_frames: list[int], smooth: int = SMOOTH_ROWS) -> pd.DataFrame:
    """Per run: method, seed, frames reached, first frame with smoothed mean return >= threshold
    (NaN if never), and the smoothed mean return at each of ``at_frames`` (NaN past the run's end)."""
    rows = []
    for run in runs:
        c = curve(run, RETURN)
        s = smoothed(c, smooth) if len(c) else pd.Series(dtype=float)
        hit = np.flatnonzero(s.to_numpy() >= threshold) if len(c) else []
        row = {"run": run.name, "method": run.method, "seed": run.seed, "frames": run.frames_reached,
               f"frames_to_{threshold:g}": float(c["frames"].iloc[hit[0]]) if len(hit) else float("nan")}
        for f in at_frames:
            before = np.flatnonzero(c["frames"].to_numpy() <= f) if len(c) else []
            row[f"return_at_{f:,}"] = (float(s.iloc[before[-1]]) if len(before) and run.frames_reached >= f
                                       else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["method", "seed"]).reset_index(drop=True)


def figure(runs, reference: Reference, path: Path, smooth: int = SMOOTH_ROWS) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = sorted({r.method for r in runs})
    colors = {m: plt.cm.tab10(i % 10) for i, m in enumerate(methods)}
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for run in sorted(runs, key=lambda r: (r.method, r.seed)):
        c = curve(run, RETURN)
        if len(c):
            ax.plot(c["frames"], smoothed(c, smooth), color=colors[run.method], lw=1.2, alpha=0.85,
                    label=f"{run.method} (here), seed {run.seed}")
    for name, pts in reference.points.items():
        x, y = zip(*pts)
        ax.plot(x, y, ls="--", marker="o", color=colors.get(name, "k"), lw=1.6, alpha=0.6,
                label=f"{name}, published (read off the figure)")
    ax.set_xlabel("frames")
    ax.set_ylabel("mean episode return")
    ax.set_ylim(-0.02, 1.0)
    ax.set_title(f"{reference.env}: runs here vs {reference.source}", fontsize=8)
    ax.legend(fontsize=6, loc="lower right")
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis.published", description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path, help="folder of run directories")
    p.add_argument("--reference", default="ride_multiroom_n7_s4", choices=sorted(REFERENCES))
    p.add_argument("--out", type=Path, required=True, help="figure path (.png); the table goes beside it (.csv)")
    p.add_argument("--threshold", type=float, default=0.7)
    p.add_argument("--at", default="500000,1000000,2000000,6000000", help="frames to report the return at")
    args = p.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: {args.root}: no such folder", file=sys.stderr)
        return 2
    runs, skipped = load_runs(args.root)
    if not runs:
        print(f"error: {args.root}: no loadable run ({len(skipped)} skipped)", file=sys.stderr)
        return 2
    reference = REFERENCES[args.reference]
    table = run_table(runs, args.threshold, [int(x) for x in args.at.split(",")])
    figure(runs, reference, args.out)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    print(markdown(table))
    return 0


def markdown(table: pd.DataFrame) -> str:
    """The table as markdown (numbers to 3 significant digits, NaN as '-')."""
    fmt = lambda v: "-" if isinstance(v, float) and np.isnan(v) else (f"{v:,.3g}" if isinstance(v, float) else str(v))  # noqa: E731
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
