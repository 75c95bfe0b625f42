#!/usr/bin/env bash
# Prepare a machine for dsdesk: the system libraries Qt needs, and a virtual environment
# (.venv) with dsdesk installed in editable mode.  Idempotent; safe to run again.
#   scripts/setup.sh            the app
#   scripts/setup.sh test       the app and everything the tests need (emulators included)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
want="${1:-app}"

# Qt's offscreen/xcb platforms need these shared libraries; a minimal Debian lacks some.  The xcb
# ones are also what packaging/build.py copies into the bundle, so it runs on a desktop without them.
debs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
      libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1)
[ "$want" = test ] && debs+=(nodejs npm xvfb postgresql)  # the PostgreSQL tests start their own server
missing=()
for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere than Debian (a newer Node is fine for Azurite 3.35).
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
if [ "$want" = test ]; then
    .venv/bin/python -m pip install --quiet -e ".[test]"
    PYTHON=.venv/bin/python bash .ci/install-emulators.sh
else
    .venv/bin/python -m pip install --quiet -e .
fi
echo "setup: ready (.venv)"
