"""One operation of the fault suite in a process of its own: ``python -m tests.faults.child
CATALOG FACTS OP FREEZE_AT MARKER``.

It runs the operation as a job and, at its FREEZE_AT-th progress event (0: never), writes
MARKER and sleeps inside the event, so the parent SIGKILLs it mid-operation.  Run to the
end, it writes MARKER with ``finished <events>``.
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

    def on_event(ev) -> None:
        nonlocal seen
        if ev.status != "running":
            return
        seen += 1
        if seen == int(freeze_at):
            say(f"frozen {seen}")
            while True:
                time.sleep(1)

    cat.run(job, on_event=on_event)
    say(f"finished {seen}")


if __name__ == "__main__":
    main()
