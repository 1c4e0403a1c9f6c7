#!/usr/bin/env bash
# Bootstrap, migrate, load the sample data and serve mapsvc on http://127.0.0.1:5000/.
# Extra arguments are passed to `mapsvc serve`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
.venv/bin/mapsvc db upgrade
.venv/bin/mapsvc load-sample
exec .venv/bin/mapsvc serve --host 127.0.0.1 --port 5000 "$@"
