#!/usr/bin/env bash
# Install what the tests need (system packages incl. PostgreSQL + PostGIS, the venv), then run pytest.
# Arguments are passed to pytest, e.g. scripts/test.sh tests/db -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh" --test
cd "$ROOT"
exec .venv/bin/python -m pytest "$@"
