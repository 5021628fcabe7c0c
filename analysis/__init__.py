"""From a folder of runs to a report: loading (runs), per-run scores (scores), statistics
(stats), tables (tables), figures (figures), the reproducibility checklist (checklist) and
the ``python -m analysis.report`` entry point (report)."""
