# make run   — set up (first time) and start the API + web UI with the demo company
# make test  — set up (first time), start PostgreSQL/Redis if down, install Chromium if
#              missing (for tests/ui), lint and type-check (make lint), run the whole suite
# make bench — benchmarks (print tables, write JSON to bench/results/)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export DO_NOT_TRACK := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test lint bench services browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

services:
	@bash scripts/services.sh

browser:
	@bash scripts/browser.sh

run: install
	$(BIN)/clearance serve --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install services browser lint
	$(BIN)/python -m pytest

bench: install services
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .clearance-data .pytest_cache .hypothesis
