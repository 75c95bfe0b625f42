"""Fixtures of the storage and sync suites: real S3 / GCS / Azure servers on 127.0.0.1
(see tests/emulators.py) and a local folder, a fresh bucket per test."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulators import cloud_store, emu, store  # noqa: E402,F401
