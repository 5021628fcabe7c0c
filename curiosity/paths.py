"""Where the project's files are: one place, so a module that moves keeps finding them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository (or the installed tree)
CONF_DIR = ROOT / "conf"
METHOD_DIR = CONF_DIR / "method"


def method_names() -> list[str]:
    """Every method: one per ``conf/method/*.yaml``, so adding a method is one module and one
    yaml, and every list of methods (tests, bench, the library API) follows."""
    return sorted(p.stem for p in METHOD_DIR.glob("*.yaml"))
