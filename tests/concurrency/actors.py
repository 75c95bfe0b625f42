"""The two processes of the no-block test, each on its own catalog object on one database.

    python -m tests.concurrency.actors writer URL SOURCE_ID SYNC_ID OUT.json
    python -m tests.concurrency.actors browser URL SOURCE_ID EDIT_ID READY STOP OUT.json

The writer clones the source dataset (every item, with metadata) and then runs the first
sync of a dataset on a local folder, writing the wall-clock span of each to OUT.  The
browser, once warmed up (READY written), loops until STOP exists over what a second user
does meanwhile: the first page of the source, a folder's count, a page at 90 % depth, a
metadata edit of one source item and a folder rename in a small dataset; each call's
wall-clock start and latency go to OUT.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from dsdesk.api.catalog import Catalog

PAGE = 100
JOB_NICENESS = 5  # dsdesk.ui.jobs.JOB_NICENESS (not imported: this process has no Qt)


def writer(url: str, source_id: int, sync_id: int, out: Path) -> None:
    """Clone the source, then sync the folder dataset; the spans go to *out*.  Niced as
    the window runs its job processes (``dsdesk.ui.jobs.JOB_NICENESS``)."""
    os.nice(JOB_NICENESS)
    cat = Catalog.open(url)
    spans = {}
    try:
        src = cat.dataset_by_id(source_id)
        t0 = time.time()
        clone = src.clone("concurrent-clone")
        spans["clone"] = [t0, time.time(), clone.items_count]
        t0 = time.time()
        report = cat.dataset_by_id(sync_id).sync()
        spans["sync"] = [t0, time.time(), report.new]
    finally:
        cat.close()
    out.write_text(json.dumps(spans))


def _browse_steps(cat: Catalog, source_id: int, edit_id: int):
    src = cat.dataset_by_id(source_id)
    edits = cat.dataset_by_id(edit_id)
    deep = int(src.items_count * 0.9) // PAGE
    first = next(iter(src.items.list(page_size=PAGE)))
    item_id = first[0].id
    folder = {"name": "a"}
    n = [0]

    def first_page():
        assert len(next(iter(src.items.list(page_size=PAGE)))) == PAGE

    def count():
        assert src.items.list(filters={"filter": {"dir": "/d1/d0/d0"}}, page_size=1).items_count > 0

    def deep_page():
        assert len(next(iter(src.items.list(page_offset=deep, page_size=PAGE)))) == PAGE

    def edit_metadata():
        n[0] += 1
        item = src.items.get(item_id=item_id)
        item.metadata.setdefault("user", {})["seen"] = n[0]
        item.update()

    def rename():
        new = "b" if folder["name"] == "a" else "a"
        edits.items.rename_folder("/" + folder["name"], new)
        folder["name"] = new

    return [first_page, count, deep_page, edit_metadata, rename]


def browser(url: str, source_id: int, edit_id: int, ready: Path, stop: Path, out: Path) -> None:
    """Loop over the browsing steps until *stop* exists; every call's latency goes to *out*."""
    cat = Catalog.open(url)
    calls = []
    try:
        steps = _browse_steps(cat, source_id, edit_id)
        for _ in range(3):  # warm: imports, statement caches, pooled connections
            for step in steps:
                step()
        ready.write_text("ready")
        while not stop.exists():
            for step in steps:
                t0, c0 = time.time(), time.perf_counter()
                step()
                calls.append([step.__name__, t0, time.perf_counter() - c0])
            time.sleep(0.02)  # a person's pace, not a benchmark loop
    finally:
        cat.close()
    out.write_text(json.dumps(calls))


if __name__ == "__main__":
    role, url, *rest = sys.argv[1:]
    if role == "writer":
        writer(url, int(rest[0]), int(rest[1]), Path(rest[2]))
    else:
        browser(url, int(rest[0]), int(rest[1]), Path(rest[2]), Path(rest[3]), Path(rest[4]))
