"""The dtlpy-shaped calls of issue 16 timed: page moves on a large dataset, DataFrame uploads.

    python -m benchmarks.bench_sdk                 # 100,000 items, 2,000 DataFrame rows
    python -m benchmarks.bench_sdk --items 1000000

Pages (``dataset.items.list(...)``): the count-only ``page_size=0``, a page at 90 % by
``page_offset`` and by ``go_to_page``, the ``next_page()`` after it (a keyset continuation),
the first page of ``reversed(pages)``, and a sorted ``go_to_page``; best of three each.  The
items are registered with ``bulk_import`` (no binaries are read by a page).  Uploads: a
DataFrame of rows that each have their own folder, name and user metadata (one job).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import dsdesk as dd
from dsdesk.catalog.ingest import Record


def _best(fn, reps: int = 3) -> float:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def bench_pages(ds, n: int) -> None:
    """Print the page moves' timings on *ds* (which holds *n* items)."""
    size = 100
    deep = int(n * 0.9) // size
    pages = ds.items.list(page_size=size)
    sorted_by_name = {"filter": {"hidden": False}, "sort": {"name": "descending"}}
    cases = {
        "items_count with page_size=0": lambda: ds.items.list(page_size=0).items_count,
        f"list(page_offset={deep}).items (90 %)": lambda: ds.items.list(page_size=size, page_offset=deep).items,
        f"go_to_page({deep})": lambda: pages.go_to_page(deep),
        "next_page() after it": pages.next_page,
        "reversed(pages): first page": lambda: next(iter(reversed(ds.items.list(page_size=size)))),
        f"sorted go_to_page({deep})": lambda: ds.items.list(filters=sorted_by_name, page_size=size).go_to_page(deep),
    }
    for label, fn in cases.items():
        print(f"  {label:<40} {_best(fn) * 1000:8.1f} ms")


def bench_dataframe(ds, rows: int, image: str) -> None:
    """Print the time of one DataFrame upload of *rows* rows of *image*."""
    import pandas as pd

    df = pd.DataFrame([{"local_path": image, "remote_path": f"/df/{i % 20}", "remote_name": f"r{i:06d}.jpg",
                        "item_metadata": {"user": {"i": i}}} for i in range(rows)])
    t = time.perf_counter()
    ds.items.upload(local_path=df)
    took = time.perf_counter() - t
    print(f"  DataFrame upload, {rows:,} rows{'':<17} {took:8.2f} s ({rows / took:,.0f} rows/s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=2_000)
    args = ap.parse_args()
    from PIL import Image

    with tempfile.TemporaryDirectory() as d:
        cat = dd.open_catalog(f"{d}/catalog.sqlite")
        ds = cat.projects.create("bench").datasets.create("pages")
        recs = (Record(dir=f"/f{i % 50:02d}", name=f"i{i:07d}.jpg", storage_key=f"k{i}", size=10, etag=str(i),
                       mimetype="image/jpeg") for i in range(args.items))
        t = time.perf_counter()
        ds.items.bulk_import(recs)
        print(f"{args.items:,} items registered in {time.perf_counter() - t:.1f} s")
        bench_pages(ds, args.items)
        Image.new("RGB", (16, 16)).save(f"{d}/f.jpg")
        bench_dataframe(cat.projects.get(project_name="bench").datasets.create("uploads"), args.rows, f"{d}/f.jpg")
        cat.close()


if __name__ == "__main__":
    main()
