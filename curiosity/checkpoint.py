"""Save and resume training state (atomic writes: a killed run never leaves half a file)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

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
