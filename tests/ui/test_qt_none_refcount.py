"""Regression test for the PySide6 6.12.0 / Python 3.11 crash (shared/QT-PITFALLS.md).

Every call of a void Qt function released one reference to None too many; after a few
thousand calls the interpreter aborted with "deallocating None".  We pin PySide6 < 6.12;
this test fails (instead of a user's session crashing) if an upgrade brings it back.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget


def test_void_qt_calls_keep_none_refcount(qapp):
    w = QWidget()
    try:
        before = sys.getrefcount(None)
        for i in range(20_000):
            w.setWindowTitle("x" if i % 2 else "y")  # a void function
            w.update()
        after = sys.getrefcount(None)
    finally:
        w.deleteLater()
    # Other code may take references to None meanwhile; it must never drop by thousands.
    assert after >= before - 100, f"None's refcount fell from {before} to {after}: the PySide6 6.12 bug is back"
