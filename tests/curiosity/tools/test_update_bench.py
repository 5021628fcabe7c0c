"""The update micro-benchmark parses its network list, times every variant and refuses bad input."""

from __future__ import annotations

import pytest

from curiosity.tools import update_bench


def test_parse_networks_and_bad_items_are_named():
    assert update_bench.parse_networks("32x256, 16x64") == [(32, 256), (16, 64)]
    for bad in ("32", "32x", "ax8", "0x8"):
        with pytest.raises(ValueError, match="CHANNELSxHIDDEN"):
            update_bench.parse_networks(bad)


def test_every_variant_is_timed_against_the_first(capsys):
    results = update_bench.main(["--networks", "8x16,4x8", "--rows", "8", "--steps", "1", "--repeats", "1"])
    assert [r["variant"] for r in results] == ["8x16 eager", "4x8 eager"]
    assert results[0]["ratio"] == 1.0 and all(r["ms_per_step"] > 0 for r in results)
    assert "4x8 eager" in capsys.readouterr().out


def test_bad_arguments_exit_with_one_line(capsys):
    for argv in (["--networks", "big"], ["--rows", "0"]):
        with pytest.raises(SystemExit):
            update_bench.main(argv)
    assert "CHANNELSxHIDDEN" in capsys.readouterr().err
