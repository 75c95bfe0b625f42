#!/usr/bin/env bash
# Set up dsdesk and open it on a demo catalog (built on first run in ~/.local/share/dsdesk-demo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh app
catalog="${DSDESK_DEMO_CATALOG:-$HOME/.local/share/dsdesk-demo/catalog.sqlite}"
exec .venv/bin/dsdesk --catalog "$catalog" demo "$@"
