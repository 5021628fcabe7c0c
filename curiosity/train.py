"""Hydra entry point: ``python -m curiosity.train [overrides]`` (or ``curiosity-train``).

Composes ``conf/``, validates it, builds env + agent + intrinsic module, trains, and
writes everything into the run directory (``hydra.run.dir``).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from curiosity import paths
from curiosity.config import RENAMED, ConfigError, register_configs, validate
from curiosity.run.nan_guard import NonFiniteError
from curiosity.run.tuning import apply_trial

CONF_DIR = str(paths.CONF_DIR)


def run_training(cfg: DictConfig, run_dir: Path) -> dict:
    """Train one run into ``run_dir`` (resuming from its checkpoint if there is one)."""
    from curiosity.run.hooks import standard_hooks
    from curiosity.trainer import Trainer

    hooks = standard_hooks(cfg)
    if cfg.logger.render_every:  # a tool: the entry point brings it, the trainer never imports it
        from curiosity.tools.training_renders import RenderHook

        hooks.append(RenderHook(cfg.logger.render_every))
    trainer = Trainer(cfg, run_dir, hooks=hooks)
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


def _fail(message: str, code: int) -> None:
    """Exit with ``code`` from a single run; in a sweep raise instead, so Hydra marks only
    this job failed and the sweep's other jobs still run (SystemExit would end them all)."""
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        raise RuntimeError(message)
    print(message, file=sys.stderr)
    sys.exit(code)


def _auto_threads(cfg: DictConfig) -> None:
    """``torch_threads=0``: one thread per run when a parallel launcher shares the cores.

    Measured on 2 cores: one run alone is 1.3x faster with torch's default 2 threads than
    with 1, but 2 threads per run in a 2-job sweep oversubscribe the cores and ran PPO
    iterations 5-16x slower than 1 thread each.
    """
    hc = HydraConfig.get()
    launcher = str(hc.launcher.get("_target_", "")) if hc.launcher is not None else ""
    if cfg.torch_threads == 0 and hc.mode == RunMode.MULTIRUN and "BasicLauncher" not in launcher:
        import torch

        torch.set_num_threads(1)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    try:
        apply_trial(cfg)  # a tuning trial (conf/experiment/tune.yaml): its point of the space
        validate(cfg)
        run_dir = Path(HydraConfig.get().runtime.output_dir)
        _auto_threads(cfg)
        done = finished_summary(cfg, run_dir)
        if done is not None:
            logging.getLogger(__name__).info("skipping %s: already finished (%d frames)", run_dir, done["frames"])
            row = done.get("last_metrics", {})
        else:
            row = run_training(cfg, run_dir)
    except ConfigError as err:
        _fail(f"config error: {err}", 2)
    except NonFiniteError as err:  # the run stopped itself; the dump path is in the message
        _fail(f"stopped: {err}", 3)
    success = row.get("charts/success") if row else None
    return None if success is None else float(success)


def _refuse_renamed_overrides(argv: list[str]) -> None:
    """An override of a renamed key stops with the config error that names its new name
    (Hydra's own message would only say the key is not in the schema)."""
    for arg in argv:
        key = arg.lstrip("+~").split("=", 1)[0]
        if key in RENAMED:
            print(f"config error: {key}: {RENAMED[key]}", file=sys.stderr)
            sys.exit(2)


def main() -> None:
    _refuse_renamed_overrides(sys.argv[1:])
    register_configs()
    _hydra_main()


if __name__ == "__main__":
    main()
