"""The sync's page writer thread (``dsdesk.sync.staging.PageWriter``): order, errors, shutdown."""

from __future__ import annotations

import threading

import pytest

from dsdesk.sync.staging import PageWriter


def test_pages_are_written_in_order_on_another_thread():
    written, threads = [], set()

    def write(rows, cursor):
        threads.add(threading.get_ident())
        written.append((rows, cursor))

    w = PageWriter(write)
    for i in range(50):
        w.put([(i,)], f"k{i}")
    w.close()
    assert written == [([(i,)], f"k{i}") for i in range(50)]
    assert threads and threading.get_ident() not in threads


def test_a_write_error_stops_the_writing_and_reaches_the_stager():
    written = []

    def write(rows, cursor):
        if cursor == "k2":
            raise RuntimeError("database is locked")
        written.append(cursor)

    w = PageWriter(write)
    with pytest.raises(RuntimeError, match="locked"):
        for i in range(100):  # a later put (or close) raises it
            w.put([], f"k{i}")
        w.close()
    w.close(raise_error=False)
    assert written == ["k0", "k1"]  # nothing after the failed page: the cursor stays before it


def test_a_staging_error_still_writes_what_was_queued():
    written = []
    release = threading.Event()

    def write(rows, cursor):
        release.wait(10)
        written.append(cursor)

    w = PageWriter(write)
    w.put([], "k0")
    w.put([], "k1")  # queued while k0 is being written
    release.set()
    w.close(raise_error=False)  # the stager failed: pages already handed over are written
    assert written == ["k0", "k1"]
