# `make run`: set up and open the playground (no FAL_KEY: the offline demo).
# `make test`: set up and pass the tests (lint, types, unit, fake-fal, browser, replicas on
# PostgreSQL, bench smoke).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup setup-test run test bench browser postgres fakefal

# Two stamps: running needs the app's dependencies only; Playwright, ruff, pytest and the
# fake fal cloud's aiohttp are for testing (they doubled the first `make run`).
setup: $(VENV)/.installed-run
setup-test: $(VENV)/.installed-test

$(VENV)/.installed-run: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed-run
	$(PY) -m pip install -q -e '.[test,postgres]'
	touch $@

run: setup
	$(VENV)/bin/pika-playground

browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# The replica tests and benchmarks run a throwaway PostgreSQL cluster of their own
# (tests/postgres.py); only the server's binaries are needed, not a running service.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q postgresql; }

test: setup-test browser postgres
	$(VENV)/bin/ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n 2 --dist loadfile
	$(PY) -m bench --smoke

bench: setup-test postgres
	$(PY) -m bench

fakefal: setup-test
	$(PY) -m tests.fakefal
