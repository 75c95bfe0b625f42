"""One operation of the fault suite in a process of its own: ``python -m tests.faults.child
CATALOG FACTS OP FREEZE_AT MARKER``.

It runs the operation as a job and, at its FREEZE_AT-th step (0: never), writes MARKER and
sleeps there, so the parent SIGKILLs it mid-operation.  Steps are the job's progress events
and the named points of the versioning operations (``versioning._common.checkpoint``: start,
each input of a merge, end - inside their one transaction).  Run to the end, it writes
MARKER with ``finished <steps>``.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    catalog, facts, op, freeze_at, marker = sys.argv[1:6]
    import dsdesk
    from tests.faults.ops import build_job

    cat = dsdesk.open_catalog(catalog)
    job = build_job(json.loads(open(facts).read()), op)
    seen = 0

    def say(text: str) -> None:
        with open(marker + ".tmp", "w") as f:
            f.write(text)
        os.replace(marker + ".tmp", marker)

    def step(_what) -> None:
        nonlocal seen
        seen += 1
        if seen == int(freeze_at):
            say(f"frozen {seen}")
            while True:
                time.sleep(1)

    def on_event(ev) -> None:
        if ev.status == "running":
            step(ev)

    from dsdesk.versioning import _common

    _common.checkpoint_hook = lambda op, name: step(name)
    cat.run(job, on_event=on_event)
    say(f"finished {seen}")


if __name__ == "__main__":
    main()
