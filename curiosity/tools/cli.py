"""Console-script entry points: every tool of the testbed as one ``curiosity-*`` command.

``pyproject.toml [project.scripts]`` points here. Each entry imports its tool only when called
(so ``curiosity-report --help`` does not load torch) and returns None: a console script passes
the function's return value to ``sys.exit``, and the tools' ``main`` functions return objects
(a report path, a bench table) that would otherwise turn into exit status 1.

    curiosity-train     python -m curiosity.train      (Hydra: overrides, -m for sweeps)
    curiosity-report    python -m analysis.report
    curiosity-render    python -m curiosity.tools.render
    curiosity-heatmaps  python -m curiosity.tools.heatmaps
    curiosity-diagnose  python -m curiosity.tools.diagnose
    curiosity-bench     python -m curiosity.tools.bench
    curiosity-profile   python -m curiosity.tools.profiling
    curiosity-select    python -m curiosity.tools.select_tuned
"""

from __future__ import annotations


def train() -> None:
    from curiosity.train import main

    main()


def report() -> None:
    from analysis.report import main

    main()


def render() -> None:
    from curiosity.tools.render import main

    main()


def heatmaps() -> None:
    from curiosity.tools.heatmaps import main

    main()


def diagnose() -> None:
    from curiosity.tools.diagnose import main

    main()


def bench() -> None:
    from curiosity.tools.bench import main

    main()


def profile() -> None:
    from curiosity.tools.profiling import main

    main()


def select() -> None:
    from curiosity.tools.select_tuned import main

    main()
