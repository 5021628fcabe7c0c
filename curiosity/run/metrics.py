"""One metrics sink: ``metrics.csv`` on disk (flushed per row), wandb, and a console bar."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from tqdm import tqdm

METRICS_FILE = "metrics.csv"


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


class MetricsSink:
    """Writes one flat dict per iteration to every enabled destination.

    The CSV header is fixed by the first row; a later key that was not in it is an error
    (silently dropping a metric would lose results). On resume the file is cut back to
    the checkpointed iteration so the continued file equals an uninterrupted one.
    """

    def __init__(self, run_dir: Path, cfg, total_frames: int, resume_iteration: int | None = None):
        self.path = Path(run_dir) / METRICS_FILE
        self.fields: list[str] | None = None
        if resume_iteration is not None and self.path.exists():
            self._truncate(resume_iteration)
        elif self.path.exists():
            self.path.unlink()
        self._file = None
        self._writer = None
        self.wandb_run = _init_wandb(run_dir, cfg)
        self.tb = None
        if cfg.logger.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"))
        self.bar = tqdm(total=total_frames, unit="frames", dynamic_ncols=True,
                        disable=not cfg.logger.progress, mininterval=1.0)

    def _truncate(self, iteration: int) -> None:
        with open(self.path, newline="") as f:
            rows = list(csv.DictReader(f))
        with open(self.path, newline="") as f:
            self.fields = next(csv.reader(f), None)
        keep = [r for r in rows if r.get("iteration") and int(r["iteration"]) <= iteration]
        with open(self.path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields)
            writer.writeheader()
            writer.writerows(keep)

    def log(self, row: dict) -> None:
        if self._writer is None:
            if self.fields is None:
                self.fields = list(row)
            new_file = not self.path.exists()
            self._file = open(self.path, "a", newline="")
            self._writer = csv.DictWriter(self._file, fieldnames=self.fields)
            if new_file:
                self._writer.writeheader()
        unknown = set(row) - set(self.fields)
        if unknown:
            raise KeyError(f"metrics {sorted(unknown)} appeared after the CSV header was written")
        self._writer.writerow({k: _fmt(row.get(k)) for k in self.fields})
        self._file.flush()
        os.fsync(self._file.fileno())
        if self.wandb_run is not None:
            self.wandb_run.log({k: v for k, v in row.items() if v is not None}, step=int(row["frames"]))
        if self.tb is not None:
            for k, v in row.items():
                if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
                    self.tb.add_scalar(k, v, int(row["frames"]))
        self.bar.n = int(row["frames"])
        ret = row.get("charts/episode_return")
        self.bar.set_postfix(sps=f"{row.get('time/sps', 0):.0f}",
                             ret="-" if ret is None or math.isnan(ret) else f"{ret:.2f}",
                             succ=_fmt_short(row.get("charts/success")), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
        if self._file is not None:
            self._file.close()
        if self.tb is not None:
            self.tb.close()
        if self.wandb_run is not None:
            self.wandb_run.finish()


def _fmt_short(v) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


NOT_ABLATIONS = ("seed", "experiment", "sweep_id", "resume", "device")  # overrides that are bookkeeping


def ablation_tags() -> list[str]:
    """``key=value`` of this job's command-line and sweep overrides (wandb tags, <= 64 chars).

    Seeds, logger settings and bookkeeping keys are left out, so runs of one sweep cell
    share their tags and wandb can filter and group by ablation value.
    """
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    tags = []
    for override in HydraConfig.get().overrides.task:
        item = override.lstrip("+~")
        key = item.split("=", 1)[0]
        if key in NOT_ABLATIONS or key.startswith(("logger.", "hydra.")):
            continue
        tags.append(item[:64])
    return tags


def _init_wandb(run_dir: Path, cfg):
    if cfg.logger.wandb_mode == "disabled":
        return None
    import wandb
    from omegaconf import OmegaConf

    os.environ.setdefault("WANDB_SILENT", "true")
    m = cfg.method
    name = f"{cfg.env.id}-{m.name}-s{cfg.seed}"
    return wandb.init(
        project=cfg.logger.project,
        entity=cfg.logger.entity,
        group=cfg.logger.group or cfg.experiment,
        job_type=m.name,
        name=name,
        tags=list(dict.fromkeys([cfg.env.id, m.name, *cfg.logger.tags, *ablation_tags()])),
        mode=cfg.logger.wandb_mode,
        dir=str(run_dir),
        config=OmegaConf.to_container(cfg, resolve=True),
        reinit="finish_previous",
    )
