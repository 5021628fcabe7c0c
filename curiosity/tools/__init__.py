"""Offline tools over runs and methods (bench, profiling, diagnose, render, heatmaps) and
their console scripts. The training core never imports this package. See README.md here."""
