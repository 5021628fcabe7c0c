"""Bounded run-folder names for sweeps: the ``${bounded_dirname:NAME,LIMIT}`` resolver.

A multirun names each run folder after its overrides (``hydra.job.override_dirname``, e.g.
``method=rnd,seed=2``). With long override lists that name passes the file system's 255-byte
limit and the run fails before it starts. ``conf/config.yaml`` sets::

    hydra.sweep.subdir: ${bounded_dirname:${hydra.job.override_dirname},120}

A ``/`` in the name (a config-group value such as ``method=tuned/multiroom_n4_s5/rnd``) becomes
``.``, so every run folder sits directly in the sweep folder, where the sweep's progress line
looks for it, instead of three levels down. A name of at most LIMIT bytes (UTF-8) is then kept
as it is. A longer one keeps a readable prefix,
cut back to the last whole ``key=value`` item when that keeps at least half of it, followed by
``~`` and the first 10 hex digits of the SHA-256 of the full name, so the result is at most
LIMIT bytes. The hash depends only on the name, and Hydra sorts the overrides in it, so a
resumed sweep (same ``sweep_id``) maps the same overrides to the same folder. The full override
list stays in the run's ``.hydra/overrides.yaml`` and its config in ``config.yaml``; the report
(``analysis.runs``) reads those, never the folder name.

The resolver is registered when this module is imported; ``curiosity.config`` imports it, so
every process that composes or launches a run (joblib and submitit workers included) has it.
"""

from __future__ import annotations

import hashlib

from omegaconf import OmegaConf

RESOLVER = "bounded_dirname"
DEFAULT_LIMIT = 120
HASH_CHARS = 10
GROUP_SEP = "."  # stands for "/" of a config-group path: one folder level per run, not three
ITEM_SEP = ","  # hydra.job.config.override_dirname.item_sep in conf/config.yaml
MIN_LIMIT = HASH_CHARS + 2  # room for the hash, its "~" and one character of prefix


def bounded_dirname(name: str, limit: int | str = DEFAULT_LIMIT) -> str:
    """``name`` if it fits in ``limit`` UTF-8 bytes, else a readable prefix + ``~`` + hash."""
    name = "" if name is None else str(name).replace("/", GROUP_SEP)
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        raise ValueError(f"bounded_dirname limit={limit!r}: not an integer") from None
    if limit < MIN_LIMIT:
        raise ValueError(f"bounded_dirname limit={limit}: must be >= {MIN_LIMIT} (hash + one character)")
    raw = name.encode("utf-8")
    if len(raw) <= limit:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:HASH_CHARS]
    keep = limit - HASH_CHARS - 1
    prefix = raw[:keep].decode("utf-8", errors="ignore")  # never split a multi-byte character
    cut = prefix.rfind(ITEM_SEP)
    if cut >= keep // 2:  # end on a whole key=value item when that keeps most of the prefix
        prefix = prefix[:cut]
    return f"{prefix}~{digest}"


def register_resolver() -> None:
    """Register ``${bounded_dirname:...}`` with OmegaConf (idempotent)."""
    OmegaConf.register_new_resolver(RESOLVER, bounded_dirname, replace=True)


register_resolver()
