# The two commands: `make demo` (main job) and `make test` (test suite). Both set up .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0

.PHONY: setup demo test test-all lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# GPU users: install your own torch build into $(VENV) first; otherwise the pinned CPU build.
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[sweep,stats,dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) -m curiosity.train env=doorkey_5x5 total_frames=100000 experiment=demo

test: setup
	$(PY) -m pytest -q -m "not slow"

test-all: setup
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check curiosity baselines analysis tests

clean:
	rm -rf $(VENV) runs multirun outputs .pytest_cache
