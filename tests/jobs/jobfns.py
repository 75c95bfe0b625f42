"""Job functions for the process-runner tests.

They live in a module of their own (no pytest import) because a worker process imports
them by path: ``tests.jobs.jobfns:<name>``.
"""

from __future__ import annotations

import os
import sys
import time


def add_job(ctx, a: int, b: int):
    """Reports a few steps, returns a + b and the worker's pid."""
    for i in range(5):
        ctx.progress(i + 1, 5, f"step {i + 1}")
        time.sleep(0.06)  # longer than the event interval: every step reaches the parent
    return {"sum": a + b, "pid": os.getpid()}


def slow_job(ctx, steps: int = 2000):
    """Runs until cancelled (10 ms a step)."""
    for i in range(steps):
        ctx.check_cancelled()
        ctx.progress(i, steps, f"step {i}")
        time.sleep(0.01)
    return "finished"


def failing_job(ctx):
    """Fails with a message the user must see."""
    ctx.progress(1, 3, "about to fail")
    raise ValueError("the bucket exploded")


def crashing_job(ctx):
    """Dies without a word to the runner, leaving a line on stderr (as a C crash would)."""
    ctx.progress(1, 2, "about to crash")
    time.sleep(0.1)
    sys.stderr.write("libfoo: fatal: corrupted heap\n")
    sys.stderr.flush()
    os._exit(3)


def segfault_job(ctx):
    """A real segmentation fault (faulthandler dumps the stack to stderr)."""
    import ctypes

    ctx.progress(1, 2, "about to segfault")
    ctypes.string_at(0)


def env_job(ctx, name: str):
    """The value of an environment variable as the worker sees it, and the catalog's folders."""
    return {"value": os.environ.get(name), "blob_root": str(ctx.db.blob_root)}


def count_items_job(ctx, dataset_id: int):
    """Reads the catalog from the worker."""
    from sqlalchemy import func, select

    from dsdesk.catalog.models import Item

    with ctx.db.session() as s:
        return s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == dataset_id)).scalar_one()


def unpicklable_result_job(ctx):
    """Returns something that cannot cross a pipe (a lock): it arrives as its repr."""
    import threading

    return {"lock": threading.Lock()}


def deaf_job(ctx):
    """Never checks for cancellation (a job stuck in a long C call)."""
    ctx.progress(0, None, "not listening")
    time.sleep(120)
