# The two entry points of the README. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
DEMO_DB ?= demo.db

STAMP_SERVE := $(VENV)/.installed-serve

.PHONY: demo serve test lint typecheck bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[cli,fast]'
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/python -m whoson.demo --db $(DEMO_DB)

$(STAMP_SERVE): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[web,cli,fast]'
	touch $@

# The demo shop at http://127.0.0.1:8000/ and the agents' console at /whoson/live (token: demo).
serve: $(STAMP_SERVE)
	$(BIN)/python -m whoson serve sqlite:///$(DEMO_DB) --demo-site --agent demo:demo

test: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench examples

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

bench: $(STAMP_DEV)
	$(BIN)/pip install --quiet -e '.[bench,sql]'
	$(BIN)/python bench/run.py

bench-quick: $(STAMP_DEV)
	$(BIN)/pip install --quiet -e '.[bench,sql]'
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info $(DEMO_DB)
