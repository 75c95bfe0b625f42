"""Atomicity: a process SIGKILLed at any point of clone, merge, snapshot or rollback leaves
the catalog exactly as before (killed inside the transaction) or as after (killed once it
committed).  The worker process installs a checkpoint hook
(``dsdesk.versioning._common.checkpoint_hook``) that stops the operation at one named point;
the test kills it there."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from dsdesk.catalog.models import Dataset, Snapshot
from dsdesk.versioning import clone, snapshot

from .conftest import full_dump

WORKER = r"""
import json, os, sys, time
from dsdesk.catalog.engine import open_database
from dsdesk.jobs.runner import run_job
from dsdesk.versioning import _common, jobs
db_path, op, (args, kwargs), point, marker = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
def say(word):
    open(marker + ".tmp", "w").write(word)
    os.replace(marker + ".tmp", marker)  # the test sees the marker complete or not at all
def pause(op, step):
    if f"{op}:{step}" == point:
        say(f"{op}:{step}\n")
        time.sleep(600)
_common.checkpoint_hook = pause
_common.BATCH = 2
run_job(open_database(db_path), op, getattr(jobs, op + "_job"), *args, **kwargs)
if point == "after-commit":
    say("committed")
    time.sleep(600)
say("finished")
"""


def _run_and_kill(db_path, op, kwargs, point, tmp_path):
    marker = tmp_path / f"marker-{op}-{point.replace(':', '_')}"
    p = subprocess.Popen([sys.executable, "-c", WORKER, str(db_path), op, json.dumps(kwargs), point, str(marker)],
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if p.poll() is not None:
            raise AssertionError(f"worker ended before {point}: {p.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            p.kill()
            raise AssertionError(f"worker never reached {point}")
        time.sleep(0.05)
    reached = marker.read_text()
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    return reached


def _integrity(db_path):
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        # the name-search index matches the items (raises otherwise)
        con.execute("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('integrity-check', 1)")
        assert con.execute("SELECT count(*) FROM item_name_fts_pause").fetchone()[0] == 0
    finally:
        con.close()


def _setup(cat, master):
    _, ds, _ = master
    with cat.db.session() as s:
        c1 = clone(s, ds.id, "c1").dataset_id
        c2 = clone(s, ds.id, "c2").dataset_id
        snapshot(s, ds.id, "v1")
    ds.items.get("/img0.png").delete()
    ds.items.make_dir("/later")
    return ds.id, c1, c2


CASES = [
    ("clone", "clone:start"), ("clone", "clone:batch0"), ("clone", "clone:batch2"), ("clone", "clone:end"),
    ("merge", "merge:start"), ("merge", "merge:items0"), ("merge", "merge:end"),
    # a snapshot is a version point: no batches; a rollback to one writes what changed
    ("snapshot", "snapshot:start"), ("snapshot", "snapshot:end"),
    ("rollback", "snapshot:end"), ("rollback", "rollback:after-safety"), ("rollback", "rollback:cleared"),
    ("rollback", "rollback:end"),
]


def _kwargs(op, ds_id, c1, c2):
    # positional: run_job keeps a ``dataset_id`` keyword for itself
    return {"clone": ([ds_id], {"clone_name": "new"}),
            "merge": (["new", [c1, c2]], {"with_task_annotations_status": True}),
            "snapshot": ([ds_id, "v2"], {}),
            "rollback": ([ds_id, "v1"], {})}[op]


@pytest.mark.parametrize("op,point", CASES)
def test_killed_inside_the_transaction_leaves_the_catalog_as_before(cat, master, tmp_path, op, point):
    ds_id, c1, c2 = _setup(cat, master)
    db_path = tmp_path / "c.sqlite"
    before = full_dump(cat.db)
    assert _run_and_kill(db_path, op, _kwargs(op, ds_id, c1, c2), point, tmp_path) == f"{point}\n"
    _integrity(db_path)
    assert full_dump(cat.db) == before


@pytest.mark.parametrize("op", ["clone", "merge", "snapshot", "rollback"])
def test_killed_after_commit_leaves_the_catalog_as_after(cat, master, tmp_path, op):
    ds_id, c1, c2 = _setup(cat, master)
    db_path = tmp_path / "c.sqlite"
    before = full_dump(cat.db)
    assert _run_and_kill(db_path, op, _kwargs(op, ds_id, c1, c2), "after-commit", tmp_path) == "committed"
    _integrity(db_path)
    assert full_dump(cat.db) != before
    with cat.db.session() as s:
        if op in ("clone", "merge"):
            new = s.execute(select(Dataset).where(Dataset.name == "new")).scalars().one()
            assert new.item_count == (6 if op == "merge" else 5)
        elif op == "snapshot":
            assert s.execute(select(Snapshot).where(Snapshot.name == "v2")).scalars().one()
        else:
            assert s.get(Dataset, ds_id).item_count == 6
            assert len(s.execute(select(Snapshot).where(Snapshot.auto.is_(True))).all()) == 1
