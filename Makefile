# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test lint typecheck importlint check bench clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[spark,dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the server on http://127.0.0.1:8080 (SQLite and logs under ./data, local Spark).
run: $(STAMP)
	$(BIN)/sparkjobs serve

## Run the whole test suite (real Spark, SQLite; PostgreSQL and Chromium when present, required in CI).
## Browser tests build on each other within a module (one server, one job through its life),
## so they run in one process after the rest, which runs on two workers.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not browser" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -p no:xdist -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

bench: $(STAMP)
	$(BIN)/python bench/wordcount_overhead.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
