"""Every tool is a console script with a --help that explains each option; bench takes comma lists."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from curiosity.tools import bench

REPO = Path(__file__).resolve().parents[3]
TOOLS = ["train", "report", "render", "heatmaps", "diagnose", "bench", "profile", "select"]
PARSERS = ["analysis.report", "curiosity.tools.render", "curiosity.tools.heatmaps", "curiosity.tools.diagnose",
           "curiosity.tools.bench", "curiosity.tools.profiling", "curiosity.tools.select_tuned"]


def _scripts() -> dict[str, str]:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


def _entry(target: str):
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def test_every_tool_has_a_console_script():
    assert sorted(_scripts()) == sorted(f"curiosity-{t}" for t in TOOLS)


@pytest.mark.parametrize("tool", [t for t in TOOLS if t != "train"])
def test_entry_point_help_exits_0_with_usage_under_the_script_name(tool, monkeypatch, capsys):
    script = f"curiosity-{tool}"
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as exit_info:
        _entry(_scripts()[script])()
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {script} ") and "--help" in out


def test_train_help_explains_usage_and_the_config():
    # Hydra's --help; a subprocess because Hydra keeps global state per process
    code = "import sys; sys.argv = ['curiosity-train', '--help']; from curiosity.tools.cli import train; train()"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "usage: curiosity-train" in out.stdout and "== Configuration groups ==" in out.stdout
    assert "total_frames:" in out.stdout  # the composed config, every key overridable


@pytest.mark.parametrize("module", PARSERS)
def test_every_option_has_a_help_string(module):
    parser = importlib.import_module(module).build_parser()
    for action in parser._actions:
        assert action.help and action.help.strip(), f"{module}: {action.dest} has no help"


def test_module_help_names_the_module(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["/somewhere/curiosity/tools/bench.py"])  # what `python -m` leaves
    with pytest.raises(SystemExit):
        bench.main(["--help"])
    assert capsys.readouterr().out.startswith("usage: python -m curiosity.tools.bench ")


# ---------------------------------------------------------------- bench lists
def test_bench_names_accept_commas_spaces_and_mixes():
    known = bench.available_methods()
    assert bench.parse_names(["none,rnd"], known, "--methods") == ["none", "rnd"]
    assert bench.parse_names(["none", "rnd"], known, "--methods") == ["none", "rnd"]
    assert bench.parse_names(["none,", "rnd", "icm,none"], known, "--methods") == ["none", "rnd", "icm"]
    assert bench.parse_names(None, known, "--methods") is None
    with pytest.raises(ValueError, match="'bogus': unknown; choose from none"):
        bench.parse_names(["none,bogus"], known, "--methods")
    with pytest.raises(ValueError, match="Hydra overrides go before"):
        bench.parse_names(["none", "agent.num_steps=64"], known, "--methods")
    with pytest.raises(ValueError, match="no names"):
        bench.parse_names([","], known, "--methods")


@pytest.mark.parametrize("argv", [["--methods", "none,rnd", "--backends", "python,envpool"],
                                  ["--methods", "none", "rnd", "--backends", "python", "envpool"]])
def test_bench_main_passes_both_list_forms_on(argv, monkeypatch):
    seen = {}

    class Stop(Exception):
        pass

    def fake_run_bench(methods, backends, *rest, **options):
        seen.update(methods=methods, backends=backends)
        raise Stop

    monkeypatch.setattr(bench, "run_bench", fake_run_bench)
    with pytest.raises(Stop):
        bench.main(argv)
    assert seen == {"methods": ["none", "rnd"], "backends": ["python", "envpool"]}


def test_bench_rejects_unknown_names_with_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--methods", "none,bogus"])
    assert exit_info.value.code == 2
    assert "--methods 'bogus': unknown" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--backends", "python,cuda"])
    assert "--backends 'cuda': unknown; choose from python, envpool" in capsys.readouterr().err
