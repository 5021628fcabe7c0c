"""The command name a tool's ``--help`` shows (its own module: tools import it, and the
console-script module imports the tools)."""

from __future__ import annotations

import sys
from pathlib import Path


def prog_name(module: str) -> str:
    """What ``--help`` shows as the command: the console script's name when run as one,
    else ``python -m MODULE``."""
    invoked = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return invoked if invoked.startswith("curiosity-") else f"python -m {module}"
