"""A terminal progress bar fed by job events (no dependency, no Qt)."""

from __future__ import annotations

import sys
import time

from dsdesk.jobs.runner import FINAL, JobEvent


def _fmt_secs(s: float | None) -> str:
    if s is None:
        return "--:--"
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class ProgressBar:
    """Draws ``kind [#####.....] done/total rate eta message`` on stderr, redrawn at most 10×/s.

    Use an instance as the ``on_event`` callback of any job.  On a non-terminal stream it
    prints only the final line, so logs stay readable.
    """

    def __init__(self, stream=None, width: int = 30, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.width = width
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0

    def __call__(self, ev: JobEvent) -> None:
        if not self.enabled:
            return
        final = ev.status in FINAL
        now = time.monotonic()
        if not final and (not self.tty or now - self._last < 0.1):
            return
        self._last = now
        if ev.total:
            frac = min(ev.done / ev.total, 1.0)
            bar = "#" * int(frac * self.width) + "." * (self.width - int(frac * self.width))
            count = f"{ev.done}/{ev.total}"
        else:
            bar, count = "." * self.width, str(ev.done)
        rate = f"{ev.rate:.1f}/s" if ev.rate else ""
        line = f"{ev.kind:<9} [{bar}] {count} {rate} eta {_fmt_secs(ev.eta)} {ev.message[:40]}"
        if final:
            line = f"{ev.kind:<9} [{bar}] {count} {ev.status}" + (f": {ev.error}" if ev.error else "")
        end = "\n" if final else ""
        prefix = "\r\x1b[K" if self.tty else ""
        self.stream.write(prefix + line + end)
        self.stream.flush()
