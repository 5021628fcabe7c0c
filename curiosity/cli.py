"""Console-script entry points: every tool of the testbed as one ``curiosity-*`` command.

``pyproject.toml [project.scripts]`` points here. Each entry imports its tool only when called
(so ``curiosity-report --help`` does not load torch) and returns None: a console script passes
the function's return value to ``sys.exit``, and the tools' ``main`` functions return objects
(a report path, a bench table) that would otherwise turn into exit status 1.

    curiosity-train     python -m curiosity.train      (Hydra: overrides, -m for sweeps)
    curiosity-report    python -m analysis.report
    curiosity-render    python -m curiosity.render
    curiosity-heatmaps  python -m curiosity.heatmaps
    curiosity-diagnose  python -m curiosity.diagnose
    curiosity-bench     python -m curiosity.bench
    curiosity-profile   python -m curiosity.profile
"""

from __future__ import annotations

import sys
from pathlib import Path


def prog_name(module: str) -> str:
    """What ``--help`` shows as the command: the console script's name when run as one,
    else ``python -m MODULE``."""
    invoked = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return invoked if invoked.startswith("curiosity-") else f"python -m {module}"


def train() -> None:
    from curiosity.train import main

    main()


def report() -> None:
    from analysis.report import main

    main()


def render() -> None:
    from curiosity.render import main

    main()


def heatmaps() -> None:
    from curiosity.heatmaps import main

    main()


def diagnose() -> None:
    from curiosity.diagnose import main

    main()


def bench() -> None:
    from curiosity.bench import main

    main()


def profile() -> None:
    from curiosity.profile import main

    main()
