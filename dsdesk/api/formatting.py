"""How dsdesk writes sizes, numbers and dates for people: one formatter each, used by every
window, dialog and table so that one dataset never shows two sizes.

Sizes use **decimal** (SI) units, 1 kB = 1,000 bytes.  That is what the file managers
of the desktops dsdesk runs on show (GNOME Files, KDE Dolphin's default, macOS Finder)
and what cloud storage consoles bill in, so a size read in dsdesk matches the one the
user sees for the same files in their file manager or bucket.  Binary units (KiB) would
need their own unit names to be honest, and "KB" meaning 1,024 is the ambiguity this
module exists to remove.

Dates: the catalog stores naive UTC datetimes; people read them in their local time,
to the minute (``2024-05-01 14:03``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: Decimal size units, smallest first (see the module docstring for why decimal).
SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def format_size(n: int | float | None) -> str:
    """Bytes as people read them, in decimal units: ``999 B``, ``1.5 kB``, ``2.0 GB``;
    ``""`` for an unknown size (None)."""
    if n is None:
        return ""
    n = float(n)
    for unit in SIZE_UNITS:
        if abs(n) < 1000 or unit == SIZE_UNITS[-1]:
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover - the loop always returns


def format_number(v: Any) -> str:
    """Integers with thousands separators, floats with up to 6 significant digits."""
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:.6g}"
    return "" if v is None else str(v)


_UTC_OFFSETS: dict[tuple[int, int, int, int], dt.timedelta] = {}


def to_local(d: dt.datetime) -> dt.datetime:
    """A naive-UTC datetime as naive local time."""
    # astimezone() per cell costs more than everything else on the datasets page; the
    # offset only changes at daylight-saving switches, so cache it per UTC hour.
    key = (d.year, d.month, d.day, d.hour)
    off = _UTC_OFFSETS.get(key)
    if off is None:
        try:
            off = d.replace(tzinfo=dt.UTC).astimezone().utcoffset() or dt.timedelta(0)
        except (OverflowError, OSError, ValueError):
            off = dt.timedelta(0)
        if len(_UTC_OFFSETS) > 100_000:
            _UTC_OFFSETS.clear()
        _UTC_OFFSETS[key] = off
    try:
        return d + off
    except OverflowError:
        return d


def format_datetime(d: dt.datetime | None, date_only: bool = False) -> str:
    """A naive-UTC datetime in the user's local time: ``2024-05-01 14:03``; with
    *date_only*, the date as stored (``2024-05-01``); ``""`` for None."""
    if d is None:
        return ""
    if date_only:
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    t = to_local(d)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"
