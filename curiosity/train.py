"""Hydra entry point: ``python -m curiosity.train [overrides]`` (or ``curiosity-train``).

Composes ``conf/``, validates it, builds env + agent + intrinsic module, trains, and
writes everything into the run directory (``hydra.run.dir``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from curiosity.config import ConfigError, register_configs, validate

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def run_training(cfg: DictConfig, run_dir: Path) -> dict:
    """Train one run into ``run_dir`` (resuming from its checkpoint if there is one)."""
    from curiosity.trainer import Trainer

    trainer = Trainer(cfg, run_dir)
    try:
        return trainer.train()
    finally:
        trainer.close()


def finished_summary(cfg: DictConfig, run_dir: Path) -> dict | None:
    """``run_dir``'s summary.json if that run already finished this budget, else None.

    Re-running a sweep (same ``sweep_id``) skips these runs; unfinished ones resume from
    ``checkpoints/latest.pt`` in the Trainer. ``resume=false`` retrains everything.
    """
    path = Path(run_dir) / "summary.json"
    if not cfg.resume or not path.exists():
        return None
    try:
        summary = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # a torn or corrupt summary: treat the run as unfinished
    batch = cfg.agent.num_steps * cfg.env.num_envs
    budget = cfg.total_frames // batch * batch
    if summary.get("status") == "finished" and summary.get("frames", -1) >= budget:
        return summary
    return None


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    try:
        validate(cfg)
        run_dir = Path(HydraConfig.get().runtime.output_dir)
        done = finished_summary(cfg, run_dir)
        if done is not None:
            print(f"skipping {run_dir}: already finished ({done['frames']} frames)", flush=True)
            row = done.get("last_metrics", {})
        else:
            row = run_training(cfg, run_dir)
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        sys.exit(2)
    success = row.get("charts/success") if row else None
    return None if success is None else float(success)


def main() -> None:
    register_configs()
    _hydra_main()


if __name__ == "__main__":
    main()
