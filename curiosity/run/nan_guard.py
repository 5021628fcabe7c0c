"""Stop a run at the first non-finite reward, value, loss or gradient, and keep the evidence.

- Rewards and values: checked over the whole rollout right after intrinsic scoring.
- Gradients: each parameter's gradient is checked as it is accumulated (before grad-norm
  clipping, which would smear one bad component's NaN over all of them); the optimizer's
  step pre-hook raises before the bad step, so the weights stay finite.
- Losses, grad norms and reward/value statistics: checked in the iteration's metrics row.

The error names the quantity and the iteration. ``NanGuard.dump`` writes
``RUN_DIR/nan_dump/``: ``checkpoint.pt`` (the trainer's checkpoint format, so
``curiosity.tools.render --checkpoint`` can load it; ``checkpoints/latest.pt`` keeps the last
good state for resuming), ``batch.pt`` (every rollout tensor of the offending iteration)
and ``error.txt``.
"""

from __future__ import annotations

from pathlib import Path

import torch

DUMP_DIR = "nan_dump"
ROLLOUT_CHECKS = ("rewards_ext", "rewards_int_raw", "rewards_int", "values_ext", "values_int")
METRIC_PREFIXES = ("losses/", "grad_norm/", "reward/", "values/")
NAN_ALLOWED = ("explained_var",)  # NaN by definition when the returns have zero variance


class NonFiniteError(RuntimeError):
    """A NaN or inf in a training quantity; the message names it and the iteration."""

    def __init__(self, quantity: str, iteration: int, detail: str):
        super().__init__(f"non-finite {quantity} at iteration {iteration}: {detail}")
        self.quantity, self.iteration, self.detail = quantity, iteration, detail


def check_tensor(quantity: str, x: torch.Tensor, iteration: int) -> None:
    """Raise if ``x`` (a (T, N) rollout tensor) holds a NaN or inf, locating the first one."""
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        first = [int(i) for i in torch.nonzero(bad)[0]]
        where = f"step {first[0]}, env {first[1]}" if len(first) == 2 else f"index {first}"
        raise NonFiniteError(quantity, iteration,
                             f"{int(bad.sum())} of {x.numel()} values (first at {where}: {x[tuple(first)].item()})")


def check_metrics(row: dict, iteration: int) -> None:
    """Raise on the first non-finite loss, grad norm or reward/value statistic in ``row``."""
    for key, value in row.items():
        if not key.startswith(METRIC_PREFIXES) or any(k in key for k in NAN_ALLOWED):
            continue
        if isinstance(value, float) and not torch.isfinite(torch.tensor(value)):
            raise NonFiniteError(key, iteration, f"{key}={value} in the iteration's metrics")


class GradientGuard:
    """Flags non-finite gradients per parameter as backward accumulates them; the
    optimizer's step pre-hook raises (skipping the step) if any was flagged."""

    def __init__(self, label: str, module: torch.nn.Module, optimizer: torch.optim.Optimizer, iteration_fn):
        self.label = label
        self.iteration_fn = iteration_fn
        self._flags: dict[str, torch.Tensor] = {}
        self.handles = []
        for name, p in module.named_parameters():
            if p.requires_grad:
                self.handles.append(p.register_post_accumulate_grad_hook(self._flagger(name)))
        self.handles.append(optimizer.register_step_pre_hook(self._before_step))

    def _flagger(self, name: str):
        def hook(p: torch.Tensor) -> None:
            self._flags[name] = torch.isfinite(p.grad).all()  # a tensor: no device sync here

        return hook

    def _before_step(self, optimizer, args, kwargs) -> None:
        flags, self._flags = self._flags, {}
        if not flags or bool(torch.stack(list(flags.values())).all()):
            return
        bad = [name for name, ok in flags.items() if not bool(ok)]
        components = sorted({name.split(".")[0] for name in bad})
        detail = f"{len(bad)} of {len(flags)} parameter gradients ({', '.join(bad[:4])}{', ...' if len(bad) > 4 else ''})"
        if len(bad) == len(flags):
            detail += "; every gradient is bad, so the loss itself is likely non-finite"
        raise NonFiniteError(f"gradient of {self.label} ({', '.join(components)})", self.iteration_fn(), detail)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


class NanGuard:
    """All checks for one trainer, and the dump when one trips."""

    def __init__(self, trainer):
        self.trainer = trainer
        it = lambda: trainer.iteration  # noqa: E731
        self.guards = [GradientGuard("agent", trainer.agent, trainer.optimizer, it)]
        runtime = trainer.runtime  # the method's module and optimizer (curiosity/intrinsic/runtime.py)
        if runtime.module is not None and runtime.optimizer is not None:
            self.guards.append(GradientGuard("intrinsic", runtime.module, runtime.optimizer, it))

    def check_rollout(self) -> None:
        s = self.trainer.storage
        for name in ROLLOUT_CHECKS:
            check_tensor(name.replace("rewards_", "reward/").replace("values_", "value/"),
                         getattr(s, name), self.trainer.iteration)

    def check_metrics(self, row: dict) -> None:
        check_metrics(row, self.trainer.iteration)

    def dump(self, err: NonFiniteError) -> Path:
        """Write checkpoint, offending rollout and the message to RUN_DIR/nan_dump/."""
        t = self.trainer
        out = t.run_dir / DUMP_DIR
        out.mkdir(parents=True, exist_ok=True)
        torch.save(t.checkpoint_state(), out / "checkpoint.pt")
        batch = {k: v.detach().cpu() for k, v in vars(t.storage).items() if isinstance(v, torch.Tensor)}
        torch.save({"iteration": err.iteration, "quantity": err.quantity, "message": str(err), "rollout": batch},
                   out / "batch.pt")
        (out / "error.txt").write_text(f"{err}\n")
        return out
