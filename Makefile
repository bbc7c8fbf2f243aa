# kybernetes — two set-up commands: `make run` and `make test`.
# Both install what a fresh Debian machine lacks, then do their job.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA_DIR ?= $(CURDIR)/.kyb
PYTEST_ARGS ?=

.PHONY: run test lint bench deps system-deps clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kybernetes needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

deps: $(STAMP)

## Debian packages the suite drives for real (installed only when running as root).
system-deps:
	@scripts/install-system-deps

run: deps
	$(BIN)/kyb server --data-dir $(DATA_DIR)

lint: deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

test: deps system-deps lint
	$(BIN)/pytest $(PYTEST_ARGS)

bench: deps system-deps
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/apiserver.py
	$(BIN)/python benchmarks/structural.py
	$(BIN)/python benchmarks/scheduler_core.py
	$(BIN)/python benchmarks/scheduler.py
	$(BIN)/python benchmarks/controllers.py
	$(BIN)/python benchmarks/kubelet_simulated.py
	$(BIN)/python benchmarks/process_runtime.py
	$(BIN)/python benchmarks/pod_startup.py
	$(BIN)/python benchmarks/proxy.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
