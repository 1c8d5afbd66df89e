# Checkie — the two commands that matter: `make run` and `make test`.
#
#   make run      embedded profile (SQLite + Huey on SQLite): migrate, seed the demo merchant,
#                 serve http://127.0.0.1:5000 and run a Huey consumer; Ctrl-C stops both
#   make test     ruff and mypy, then the whole suite against PostgreSQL and Redis (+ the embedded smoke test)
#   make lint     ruff and mypy on checkie/ alone (settings in pyproject.toml)
#   make worker   a Huey consumer on its own       make migrate   apply the migrations
#   make seed     create the demo merchant if missing    make clean     remove the venv and build output

# The first of python3.11 / python3 that really is Python 3.11 (override: make PYTHON=/path/to/python).
PYTHON ?= $(shell for p in python3.11 python3; do \
	if $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then command -v $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
FLASK := $(BIN)/flask --app wsgi

HOST ?= 127.0.0.1
PORT ?= 5000
# pytest-xdist workers; each gets its own throwaway PostgreSQL database (tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
JUNIT_XML := build/junit.xml

# `make run` serves at HOST:PORT, so links in emails and the printed URL point there too.
RUN_ENV := APP_URL="$${APP_URL:-http://$(HOST):$(PORT)}"

.PHONY: help run test lint install install-dev migrate seed worker clean bench
.DEFAULT_GOAL := help

help:
	@sed -n '1,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

$(BIN)/python:
	@if [ -z "$(PYTHON)" ] || ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
		echo "Checkie needs Python 3.11: put python3.11 on PATH or run make PYTHON=/path/to/python3.11" >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	@echo "Installing requirements.txt into $(VENV)"
	@$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(BIN)/python
	@echo "Installing requirements-dev.txt into $(VENV)"
	@$(PIP) install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime

install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) db upgrade

seed: migrate
	@$(RUN_ENV) $(FLASK) seed-demo

run: migrate
	@$(RUN_ENV) $(FLASK) seed-demo
	@$(RUN_ENV) HOST=$(HOST) PORT=$(PORT) VENV_BIN=$(BIN) bash scripts/run.sh

worker: install
	$(BIN)/huey_consumer checkie.worker.huey --workers 2 --worker-type thread

lint: install-dev
	$(BIN)/ruff check
	$(BIN)/mypy

# Lint first: a finding stops the run before pytest, so no build/pytest-exit-code is written
# and .ci/run reports make's own failure. The exit code of pytest is kept there for .ci/run.
test: install-dev
	@mkdir -p build
	@rm -f $(JUNIT_XML) build/pytest-exit-code
	@$(MAKE) --no-print-directory lint
	@rc=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --junitxml=$(JUNIT_XML) $(PYTEST_ARGS) || rc=$$?; \
		echo $$rc > build/pytest-exit-code; exit $$rc

# SPEC §12 budgets under gunicorn on loopback (PostgreSQL + Redis as for `make test`); see bench/README.md.
bench: install-dev
	@bash bench/run

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache
