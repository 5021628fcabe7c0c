"""Hydra entry point: ``python -m curiosity.train [overrides]`` (or ``curiosity-train``).

Composes ``conf/``, validates it, builds env + agent + intrinsic module, trains, and
writes everything into the run directory (``hydra.run.dir``).
"""

from __future__ import annotations

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


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    try:
        validate(cfg)
        row = run_training(cfg, Path(HydraConfig.get().runtime.output_dir))
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
