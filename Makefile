# The two commands: `make demo` (main job) and `make test` (test suite). Both set up .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0

.PHONY: setup demo test test-all lint bench clean noisy-tv learning-check

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# GPU users: install your own torch build into $(VENV) first; otherwise the pinned CPU build.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[sweep,stats,sb3,dev]"
	# envpool (the fast backend) is optional: without a wheel for this platform its tests skip.
	$(PY) -m pip install --quiet -e ".[fast]" || echo "envpool not installed: env.backend=envpool falls back to python"
	touch $(STAMP)

setup: $(STAMP)

# main job: 5 methods x 3 seeds on DoorKey-5x5 (conf/experiment/demo.yaml), 2 runs at a time,
# then the report in runs/demo/$(DEMO_SWEEP)/report/. DEMO_SWEEP=<id> resumes an earlier demo.
DEMO_SWEEP := $(shell date +%Y-%m-%d_%H-%M-%S)
demo: setup
	OMP_NUM_THREADS=1 $(PY) -m curiosity.train +experiment=demo sweep_id=$(DEMO_SWEEP)
	$(PY) -m analysis.report runs/demo/$(DEMO_SWEEP)

# the suite without tests marked slow (the learning checks: GRU cue recall, PPO on Empty-5x5;
# the CLI multirun over every method; the submitit launcher's sweep; forward_transformer on
# the whole 25x25 grid). test-all runs those too.
test: setup
	$(PY) -m pytest -q -n auto -m "not slow"

test-all: setup
	$(PY) -m pytest -q -n auto

lint: setup
	$(PY) -m ruff check curiosity baselines analysis tests

# issue-2 learning check: extrinsic-only PPO, DoorKey-5x5, 5 seeds x 300k frames, then its report
CHECK_SWEEP := $(shell date +%Y-%m-%d_%H-%M-%S)
learning-check: setup
	OMP_NUM_THREADS=1 $(PY) -m curiosity.train -m +experiment=learning_check hydra/launcher=joblib hydra.launcher.n_jobs=2 sweep_id=$(CHECK_SWEEP)
	$(PY) -m analysis.report runs/learning_check/$(CHECK_SWEEP) --threshold 0.9 --solve-threshold 0.9

# noisy-TV experiment: every method (conf/method/*.yaml) x TV {off, remote, in-world} x 5 seeds on DoorKey-5x5
# (conf/experiment/noisy_tv.yaml), 2 runs at a time, then the report with the TV columns
TV_SWEEP := $(shell date +%Y-%m-%d_%H-%M-%S)
TV_METRICS := --metric charts/success --metric tv/action_frac --metric tv/in_view_frac --metric tv/int_reward_share
noisy-tv: setup
	OMP_NUM_THREADS=1 $(PY) -m curiosity.train -m +experiment=noisy_tv hydra/launcher=joblib hydra.launcher.n_jobs=2 sweep_id=$(TV_SWEEP)
	$(PY) -m analysis.report runs/noisy_tv/$(TV_SWEEP) $(TV_METRICS)

# speed: SPS of every method on MultiRoom-N4-S5 (the comparison's task), one thread per process and
# one process per core as the sweeps run, medians of 3, beside SB3's PPO timed in the same run;
# time split (env, inference, intrinsic scoring / training, PPO update), GFLOP/s against a matmul
# peak; table on the terminal, CSV in bench_results/. BENCH_ARGS="--methods none,rnd --repeats 5"
bench: setup
	$(PY) -m curiosity.tools.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) runs multirun outputs .pytest_cache
