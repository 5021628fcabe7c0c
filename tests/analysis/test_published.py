"""Runs beside a published curve (analysis/published.py): the table's thresholds and the figure."""

import numpy as np

from analysis.published import main, run_table
from analysis.runs import load_runs


def test_frames_to_threshold_and_return_at_frames(tmp_path, write_run):
    n = 20  # 1,000 frames per iteration
    write_run(tmp_path, "ride_s1", method="ride", seed=1, success=np.linspace(0, 1, n))  # return = 0.9 * success
    write_run(tmp_path, "ride_s2", method="ride", seed=2, success=np.zeros(n))
    runs, _ = load_runs(tmp_path)
    table = run_table(runs, threshold=0.7, at_frames=[10_000, 50_000])
    first, never = table.iloc[0], table.iloc[1]
    assert first["seed"] == 1 and never["seed"] == 2
    # smoothed over 5 rows: the mean of 0.9 * linspace reaches 0.7 a few rows after the raw curve
    raw_hit = 1000 * (1 + int(np.argmax(0.9 * np.linspace(0, 1, n) >= 0.7)))
    assert raw_hit < first["frames_to_0.7"] <= raw_hit + 4000
    assert np.isnan(never["frames_to_0.7"])
    assert np.isnan(first["return_at_50,000"])  # past the run's end: no value, not the last one
    assert 0 < first["return_at_10,000"] < 0.7


def test_cli_writes_the_figure_and_the_table(tmp_path, write_run, capsys):
    write_run(tmp_path / "runs", "count_s1", method="count", seed=1)
    out = tmp_path / "fig.png"
    assert main([str(tmp_path / "runs"), "--out", str(out)]) == 0
    assert out.stat().st_size > 0 and out.with_suffix(".csv").exists()
    assert "| count |" in capsys.readouterr().out
    assert main([str(tmp_path / "missing"), "--out", str(out)]) == 2
