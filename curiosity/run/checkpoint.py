"""Save and resume training state (atomic writes: a killed run never leaves half a file)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from omegaconf import OmegaConf

from curiosity.config import ConfigError

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.pt"


def save_checkpoint(run_dir: Path, state: dict) -> Path:
    path = Path(run_dir) / CHECKPOINT_DIR / LATEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(run_dir: Path, map_location=None) -> dict | None:
    path = Path(run_dir) / CHECKPOINT_DIR / LATEST
    if not path.exists():
        return None
    return torch.load(path, map_location=map_location, weights_only=False)


# settings a checkpoint's tensors and streams depend on: resuming with any of them changed
# would fail deep inside load_state_dict (a shape mismatch) or silently mix two experiments
RESUME_KEYS = (
    "env.id", "env.num_envs", "env.full_obs", "agent.num_steps", "agent.conv_channels",
    "agent.hidden_size", "agent.recurrent", "method.name", "method.module", "method.predictor_full_obs",
    "method.predictor_crop",
)

# what a checkpoint saved before a key existed ran with (its config lacks the key)
RESUME_DEFAULTS = {"agent.recurrent": "none"}


def _lookup(cfg, dotted: str):
    node = cfg
    for part in dotted.split("."):
        if node is None:
            return None
        node = node.get(part) if isinstance(node, dict) else OmegaConf.select(node, part)
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def check_resume_compatible(saved_config: dict | None, cfg) -> None:
    """Refuse, before any work, to resume a checkpoint whose run had another setting of a
    key the saved state depends on; the one-line error names the key and both values."""
    if saved_config is None:
        return
    for key in RESUME_KEYS:
        old, new = _lookup(saved_config, key), _lookup(cfg, key)
        old = RESUME_DEFAULTS.get(key) if old is None else old
        if old != new:
            raise ConfigError(f"{key}={new}: the checkpoint in this run directory was saved with"
                              f" {key}={old}; resume with the same value, or use a new run"
                              " directory (or resume=false to start over)")
