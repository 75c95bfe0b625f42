"""Which process runs a job, and whether it is still alive.

A job row records its process as ``host:pid:start`` (``start``: the process's start time in
clock ticks from ``/proc``, so a recycled pid is not taken for the old process; empty where
``/proc`` is missing).  :func:`is_gone` decides, when a catalog is opened, whether a job
left 'queued' or 'running' lost its process: on this host by asking the OS, on another host
(a shared PostgreSQL catalog) by its heartbeat, which the runner writes with its progress.
"""

from __future__ import annotations

import datetime as dt
import os
import socket

# Another host's job is taken for dead after this long without a heartbeat.  The runner
# writes one at most every half second while the job reports progress, so this leaves a
# long single step (one big statement) ample room.
STALE_AFTER = dt.timedelta(minutes=15)


def _start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return ""
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of the whole line: starttime


def this_process() -> str:
    """The owner string of the calling process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def _alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    return not start or _start_ticks(pid) in ("", start)


def is_gone(owner: str | None, heartbeat_at: dt.datetime | None, now: dt.datetime,
            judge_other_hosts: bool = True) -> bool:
    """True when the process *owner* names has certainly stopped (see the module docstring).

    *judge_other_hosts* False leaves other hosts' jobs alone: a SQLite catalog writes no
    heartbeat while a job runs (progress travels by events there), so silence proves nothing.

    A job recorded before owners were (``owner`` None) is gone: only a process that died
    leaves such a row unfinished after the upgrade.
    """
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host == socket.gethostname():
        try:
            return not _alive(int(pid_text), start)
        except ValueError:
            return True
    return judge_other_hosts and heartbeat_at is not None and now - heartbeat_at > STALE_AFTER
