# costsite: `make run` to start locally, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test lint format install bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Local run: DEBUG on, SQLite, the demo organization, web server and task worker together.
run: export DEBUG ?= 1
run: export COSTSITE_WEBHOOK_ALLOW_PRIVATE ?= 1
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_catalog
	$(PY) manage.py load_carbon_catalog
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py setup_schedules
	@echo "costsite on http://127.0.0.1:$(PORT)/  (demo@example.com / demo)  Ctrl-C stops both processes"
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py qcluster & \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT) & \
	  wait

# Tests: SQLite by default; set DATABASE_URL=postgres://... to run on PostgreSQL (CI does).
test: export DEBUG ?= 1
test: install /usr/bin/chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# Benchmarks against PostgreSQL on 127.0.0.1 (database costsite_bench); BENCH_QUICK=1 for a short run.
bench: install
	BENCH_QUICK=$(BENCH_QUICK) $(PY) -m bench.run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache
