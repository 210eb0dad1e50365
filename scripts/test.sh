#!/usr/bin/env bash
# `make test`: make sure PostgreSQL, Redis and Chromium are there, then lint, check the import layers and
# types, check migrations and run the whole suite in parallel. Services this script had to start are stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
STATE=.ci-state
mkdir -p "$STATE"

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cxm}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

# shellcheck source=scripts/services.sh
source scripts/services.sh
trap services_stop_started EXIT

services_ensure_postgres
services_ensure_redis
services_ensure_chromium
services_ensure_gettext

echo "== ruff"
"$BIN/ruff" check .
"$BIN/ruff" format --check .

echo "== import layers"
"$BIN/lint-imports" --no-cache

echo "== types"
"$BIN/mypy" core cxm accounts channels_app profiles tickets surveys analytics

echo "== migrations"
"$BIN/python" manage.py makemigrations --check --dry-run

echo "== translations"
"$BIN/python" scripts/check_translations.py

echo "== pytest"
workers="${PYTEST_WORKERS:-auto}"
set +e
"$BIN/python" -m pytest -n "$workers" --dist loadgroup -p no:cacheprovider "$@"
status=$?
set -e
exit "$status"
