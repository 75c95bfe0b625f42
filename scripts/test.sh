#!/usr/bin/env bash
# Set up everything the tests need (system libraries, .venv, S3/GCS/Azure emulators) and run them.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/api -x
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q "$@"
