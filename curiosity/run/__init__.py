"""Run infrastructure: what one training run writes and how it is kept safe (checkpoints,
metrics, run info, the NaN guard, held-out evaluation, exploration counts, the
end-of-iteration hooks) and what a sweep of runs shows (progress line, bounded folder
names). See README.md in this folder."""
