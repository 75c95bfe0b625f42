"""Run a sync in a child process and freeze it mid-listing, so a test can SIGKILL it.

Usage: python sync_child.py CATALOG DATASET_ID PAGE_SIZE MARKER PAGES

After PAGES listing pages were committed the child writes MARKER and sleeps until it is
killed: the parent kills it at a known point, with staged rows and a cursor on disk.
"""

import os
import sys
import time

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


def main() -> None:
    catalog, dataset_id, page_size, marker, pages = sys.argv[1:6]
    import dsdesk
    from dsdesk.jobs.runner import prepare, run_job
    from dsdesk.sync.engine import sync_job

    cat = dsdesk.open_catalog(catalog)
    seen = {"pages": 0}

    def on_event(ev):
        if ev.message.startswith("listed"):
            seen["pages"] += 1
            if seen["pages"] >= int(pages):
                with open(marker, "w") as f:
                    f.write(str(ev.done))
                while True:
                    time.sleep(1)

    ctx = prepare(cat.db, "sync", dataset_id=int(dataset_id), on_event=on_event)
    run_job(cat.db, "sync", sync_job, int(dataset_id), ctx=ctx, page_size=int(page_size))


if __name__ == "__main__":
    main()
