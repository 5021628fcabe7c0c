"""Debug renders during training (``logger.render_every``): an end-of-iteration hook that
the entry point registers, so the trainer never imports the renderer."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from curiosity.run.hooks import Hook
from curiosity.tools.heatmaps import write_intrinsic_heatmap
from curiosity.tools.render import render_run
from curiosity.tools.run_state import RunState


class RenderHook(Hook):
    """Every ``every`` iterations: one episode GIF and the intrinsic heatmap."""

    def __init__(self, every: int):
        self.every = every

    def after_iteration(self, trainer, row: dict) -> None:
        if self.every and trainer.iteration % self.every == 0:
            render_during_training(trainer)


def render_during_training(trainer) -> list[Path]:
    """One debug episode (and the intrinsic heatmap) into RUN_DIR/renders and wandb.

    Uses the live modules without changing them or any RNG the run draws from, so a run
    with rendering on trains exactly like one with it off.
    """
    state = RunState.from_trainer(trainer)
    out_dir = trainer.run_dir / "renders"
    tag = f"frames{trainer.iteration * trainer.batch_size:010d}"
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        gif = out_dir / f"episode_{tag}.gif"
        render_run(state, gif, episodes=1, seed=int(trainer.cfg.seed))
        written = [gif]
        if state.intrinsic is not None:
            written.append(write_intrinsic_heatmap(state, out_dir / f"intrinsic_{tag}.png",
                                                   seed=int(trainer.cfg.seed)))
    random.setstate(py_state)
    np.random.set_state(np_state)
    wandb_run = getattr(trainer.sink, "wandb_run", None)
    if wandb_run is not None:
        import wandb

        media = {"render/episode": wandb.Video(str(gif), format="gif")}
        if len(written) > 1:
            media["render/intrinsic_heatmap"] = wandb.Image(str(written[1]))
        wandb_run.log(media, step=trainer.iteration * trainer.batch_size)
    return written
