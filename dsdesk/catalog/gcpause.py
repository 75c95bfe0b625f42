"""Holding Python's cyclic garbage collector while a bulk path builds millions of objects
(annotation uploads, format imports and exports)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block, then restore its state.

    Reading or writing a million annotations makes millions of small dicts and lists
    that hold no cycles; every 700 allocations the collector would walk the young ones and
    every few thousand all of them (the caller's objects too), which took more time than
    building them: it doubled the time of reading a million boxes for an upload.  Reference
    counting still frees everything.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
