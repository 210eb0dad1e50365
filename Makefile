# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint typecheck migrate seed worker beat messages clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required: install python3.11 (and python3.11-venv) first." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the locked dependencies changed: the same hash-checked versions as the image.
$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# One process: it starts the private PostgreSQL and Redis when DATABASE_URL/REDIS_URL are unset, migrates,
# seeds, serves with a worker and beat beside it, prints the admin login last, and stops it all on Ctrl-C.
run: venv
	@mkdir -p var
	$(BIN)/python manage.py serve $(HOST):$(PORT) --setup

test: venv
	bash scripts/test.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: venv
	$(BIN)/mypy core cxm accounts channels_app profiles tickets surveys analytics

migrate: venv
	$(BIN)/python manage.py migrate

seed: venv
	$(BIN)/python manage.py seed_demo

worker: venv
	$(BIN)/celery -A cxm worker -Q realtime,ingest,bulk --loglevel=INFO

beat: venv
	$(BIN)/celery -A cxm beat --loglevel=INFO

# Regenerates the catalogues after UI strings change; translate the new entries, then compile.
messages: venv
	$(BIN)/python manage.py makemessages -l ru -l pl --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
