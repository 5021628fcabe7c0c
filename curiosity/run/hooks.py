"""End-of-iteration hooks: what a run does besides training (SB3-style callbacks).

The trainer only trains; the entry point (``curiosity.train``) passes the hooks it wants.
A hook sees the trainer after each iteration's metrics are logged (``after_iteration``),
once more when the run reaches its budget (``on_finish``, before ``summary.json`` is
written) and at ``close``. ``standard_hooks(cfg)`` are what every run gets: held-out
evaluation, visitation maps and checkpoints on their schedules. Tools add their own (the
renderer's ``curiosity.tools.training_renders.RenderHook``).
"""

from __future__ import annotations

import numpy as np

from curiosity.run.evaluation import HeldOutEvaluator


class Hook:
    def setup(self, trainer) -> None:
        """Once, at the end of the trainer's construction (after any resume)."""

    def after_iteration(self, trainer, row: dict) -> None:
        """After every iteration, with the row just logged."""

    def on_finish(self, trainer, row: dict) -> None:
        """When the run has reached its budget."""

    def close(self) -> None:
        """When the trainer closes (also after an error)."""


class EvaluationHook(Hook):
    """Held-out levels every ``eval.every`` iterations and after the last, into eval.csv."""

    def __init__(self):
        self.evaluator = None

    def setup(self, trainer) -> None:
        self.evaluator = HeldOutEvaluator(trainer.cfg, trainer.run_dir, trainer.device,
                                          wandb_run=trainer.sink.wandb_run,
                                          resume_iteration=trainer.iteration if trainer.resumed else None)

    def after_iteration(self, trainer, row: dict) -> None:
        if self.evaluator.due(trainer.iteration, trainer.num_iterations):
            # the policy's network (None for the random-action agent: uniform actions there too)
            self.evaluator.evaluate(trainer.policy.network, trainer.iteration, trainer.iteration * trainer.batch_size)

    def close(self) -> None:
        if self.evaluator is not None:
            self.evaluator.close()


class VisitationHook(Hook):
    """The (x, y) visit counts every ``logger.visitation_every`` iterations and at the end."""

    def __init__(self, every: int):
        self.every = every

    @staticmethod
    def save(trainer) -> None:
        out = trainer.run_dir / "visitation"
        out.mkdir(exist_ok=True)
        np.save(out / f"visits_frames{trainer.iteration * trainer.batch_size:010d}.npy",
                trainer.explore.visits)

    def after_iteration(self, trainer, row: dict) -> None:
        if self.every and trainer.iteration % self.every == 0:
            self.save(trainer)

    def on_finish(self, trainer, row: dict) -> None:
        self.save(trainer)


class CheckpointHook(Hook):
    """The resumable state every ``logger.checkpoint_every`` iterations and at the end."""

    def __init__(self, every: int):
        self.every = every

    def after_iteration(self, trainer, row: dict) -> None:
        if self.every and trainer.iteration % self.every == 0:
            trainer.checkpoint()

    def on_finish(self, trainer, row: dict) -> None:
        trainer.checkpoint()


def standard_hooks(cfg) -> list[Hook]:
    """Evaluation (when ``eval.every`` > 0), visitation maps and checkpoints."""
    hooks: list[Hook] = [EvaluationHook()] if cfg.eval.every > 0 else []
    return hooks + [VisitationHook(cfg.logger.visitation_every), CheckpointHook(cfg.logger.checkpoint_every)]
