"""kill -9 at any point of a long operation loses nothing (issue 17's fault suite).

Each long operation (clone, merge, snapshot, rollback, purge, upload, sync) runs in a
process of its own on a copy of a 50,000-item catalog and is SIGKILLed, once per kill
point: frozen at its first step and at its last (progress events and the versioning
operations' named points: mid-transaction for the operations that commit once), and at 90 %
of its full run's wall time (anywhere, commit and WAL checkpoint included): 21 kills.  After
each kill the catalog is opened as the app opens it and must show:

* ``PRAGMA integrity_check`` ok, no foreign-key violation, the name index consistent;
* the killed job ``interrupted``, not ``running``;
* cached counts equal to the rows, no orphan rows, every binary that an item points at
  still in the store;
* for clone, merge, snapshot, rollback and purge: the catalog exactly as before or as
  after the operation (content fingerprint); for upload and sync, whatever prefix;
* and a rerun of the operation succeeds and ends exactly as an uninterrupted run does.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dsdesk
from tests.faults.ops import ATOMIC, OPS, build_base
from tests.faults.state import fingerprint, problems, stored_keys

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults-base")
    path = build_base(root)
    return root, path, fingerprint(path), stored_keys(path, root / "base.blobs")


def _copy(base_root: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("base.sqlite", "base.sqlite-wal"):
        if (base_root / name).exists():
            shutil.copyfile(base_root / name, dst / name.replace("base", "cat"))
    shutil.copytree(base_root / "base.blobs", dst / "cat.blobs")
    return dst / "cat.sqlite"


def _child(catalog: Path, facts: Path, op: str, freeze_at: int, marker: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.faults.child", str(catalog), str(facts), op,
                             str(freeze_at), str(marker)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _run_to_end(catalog: Path, facts: Path, op: str, marker: Path) -> tuple[int, float]:
    t = time.monotonic()
    p = _child(catalog, facts, op, 0, marker)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 0, f"{op} failed: {err[-3000:]}"
    text = marker.read_text()
    assert text.startswith("finished"), text
    return int(text.split()[1]), time.monotonic() - t


@pytest.fixture(scope="module")
def references(base, tmp_path_factory):
    """Per operation: its uninterrupted result, how many progress events it emits, how long it runs."""
    root = base[0]
    out = {}
    for op in OPS:
        work = tmp_path_factory.mktemp(f"ref-{op}")
        cat = _copy(root, work)
        events, seconds = _run_to_end(cat, root / "base.json", op, work / "marker")
        after = fingerprint(cat)
        assert after != base[2], f"{op} changed nothing"
        assert not problems(cat, cat.with_suffix(".blobs"), base[3]), f"{op} run to its end"
        out[op] = (after, events, seconds)
    return out


POINTS = 3  # per operation: 21 kills in all


def _kill_points(events: int) -> list[tuple[str, float]]:
    """Inside the first and the last progress events (mid-transaction for the operations
    that commit once), then at 90 % of the full run's time (commit and checkpoint
    included); more timed points when the operation has a single progress event."""
    frozen = [("event", k) for k in sorted({1, events})]
    return (frozen + [("time", f) for f in (0.9, 0.5)])[:POINTS]


CASES = [(op, i) for op in OPS for i in range(POINTS)]


@pytest.mark.parametrize("op,point", CASES, ids=[f"{op}-{i}" for op, i in CASES])
def test_kill9(base, references, tmp_path, op, point):
    root, _, before, stored = base
    after, events, seconds = references[op]
    how, at = _kill_points(events)[point]
    cat = _copy(root, tmp_path / "run")
    marker = tmp_path / "marker"
    child = _child(cat, root / "base.json", op, int(at) if how == "event" else 0, marker)
    try:
        if how == "event":
            deadline = time.monotonic() + 120
            while not marker.exists():
                assert child.poll() is None, f"{op} ended before event {at}: {child.stderr.read()[-2000:]}"
                assert time.monotonic() < deadline, f"{op} never reached event {at}"
                time.sleep(0.02)
        else:
            time.sleep(seconds * at)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()

    reopened = dsdesk.open_catalog(cat)  # as the app opens it
    reopened.mark_interrupted_jobs()
    reopened.close()
    found = problems(cat, cat.with_suffix(".blobs"), stored)
    assert not found, f"{op} killed at {how} {at}: {found}"
    state = fingerprint(cat)
    if op in ATOMIC:
        assert state in (before, after), f"{op} killed at {how} {at} left neither the before nor the after state"
    if state != after:
        # (the full run's end state passed the checks above, in the references)
        _run_to_end(cat, root / "base.json", op, tmp_path / "marker-rerun")
        assert fingerprint(cat) == after, f"{op} rerun after a kill at {how} {at} does not end as a full run"
