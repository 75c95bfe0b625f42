"""Datasets page benchmark: 5,000 datasets with 10 custom columns, offscreen.

    python -m benchmarks.bench_datasets_page                 # 5,000 datasets, 10 custom columns
    python -m benchmarks.bench_datasets_page --datasets 20000 --repeat 3

Targets (issue 7): the page is shown (catalog read on the page's worker, model filled,
header laid out, first frame painted) in ≤ 300 ms; a sort and a search answer (model updated and the view
repainted) in ≤ 100 ms.  Each figure is the median of --repeat runs.  After the first
frame the page prepares the visible columns' search text in idle time (one column per
event-loop turn); that time is reported on its own line, and searches are measured after it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import insert  # noqa: E402

TARGET_SHOW_MS = 300.0
TARGET_SORT_SEARCH_MS = 100.0
TEAMS = ["vision-team", "ml-ops", "perception", "mapping", "labeling", "research"]


def build_catalog(path: Path, n: int, seed: int = 7):
    """A catalog with one project, *n* datasets (cached counts, varied user metadata) and
    10 custom columns; returns (catalog, project)."""
    import dsdesk
    from dsdesk.catalog.models import Dataset, Recipe

    rng = random.Random(seed)
    cat = dsdesk.open_catalog(path)
    p = cat.projects.create("bench")
    drv = p.internal_driver_id()
    with cat.db.engine.begin() as con:
        recipes = [con.execute(insert(Recipe.__table__).values(project_id=p.id, name=f"recipe {i}", attributes=[]))
                   .inserted_primary_key[0] for i in range(20)]
        rows = []
        for i in range(n):
            items = rng.choice([0, rng.randint(1, 100), rng.randint(100, 100_000)])
            ann = rng.randint(0, items)
            user = {"owner": rng.choice(TEAMS), "split": rng.choice(["train", "val", "test"]),
                    "stats": {"f1": round(rng.random(), 4), "map": round(rng.random(), 4)},
                    "priority": rng.randint(1, 5), "due": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "tags": rng.sample(["city", "night", "rain", "highway", "snow"], 2),
                    "reviewed": rng.random() < 0.5, "wiki": f"https://wiki.example.org/ds/{i}",
                    "camera": rng.choice(["cam-a", "cam-b", "cam-c"])}
            for k in list(user):  # a fifth of the values missing, so "missing last" is exercised
                if rng.random() < 0.2:
                    del user[k]
            rows.append({"project_id": p.id, "name": f"dataset-{i:05d}", "kind": rng.choice(["master", "clone", "merge"]),
                         "driver_id": drv, "recipe_id": rng.choice(recipes), "meta_system": {}, "meta_user": user,
                         "item_count": items, "annotated_count": ann, "annotation_count": ann * 3,
                         "folder_count": rng.randint(1, 40), "bytes_total": items * rng.randint(50_000, 400_000),
                         "readonly": rng.random() < 0.1})
        con.execute(insert(Dataset.__table__), rows)
    cols = [("owner", "Owner", "user.owner", "text", False), ("split", "Split", "user.split", "text", False),
            ("f1", "F1", "user.stats.f1", "number", False), ("map", "mAP", "user.stats.map", "number", False),
            ("priority", "Priority", "user.priority", "number", False), ("due", "Due", "user.due", "date", False),
            ("tags", "Tags", "user.tags", "list", False), ("reviewed", "Reviewed", "user.reviewed", "bool", False),
            ("wiki", "Wiki", "user.wiki", "text", True), ("camera", "Camera", "user.camera", "text", False)]
    from dsdesk.api.columns import Column

    existing = p.columns.list()
    p.columns.apply(existing + [Column(n_, lbl, f, t, True, link, True, True, True, 0, None)
                                for n_, lbl, f, t, link in cols])
    return cat, p


class _Clock:
    """Wall and CPU time of one step.  CPU time (``time.process_time``) is what the step
    costs this process; on a machine shared with other work the wall time is inflated by
    waiting for a core, so both are reported."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return (time.perf_counter() - self.wall) * 1000, (time.process_time() - self.cpu) * 1000


def _ms(t0) -> tuple[float, float]:
    return t0.stop()


def run(n: int, repeat: int) -> list[tuple[str, float, float]]:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from dsdesk.ui.datasets.page import DatasetsPage

    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = tempfile.mkdtemp(prefix="dsdesk-bench-dp-")
    t = time.perf_counter()
    cat, project = build_catalog(Path(tmp) / "bench.sqlite", n)
    print(f"built {n:,} datasets with 10 custom columns in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    show, sorts, cold, warm, query, warmup = [], {}, [], [], [], []
    sort_cols = ["items", "f1", "owner", "due", "size", "name"]
    for _ in range(repeat):
        page = DatasetsPage(cat)
        page.resize(1600, 900)
        app.processEvents()
        t0 = _Clock()
        loop = QEventLoop()
        page.table_loaded.connect(loop.quit)
        page.set_project(project.id)  # read on the page's worker thread
        page.show()
        loop.exec()  # waits without spinning, so the CPU time is the page's own
        page.repaint()  # the first frame, painted now rather than at the next event loop turn
        show.append(_ms(t0))
        assert page.model.rowCount() == n

        # What the page prepares in idle time once it is shown (search text of the visible
        # columns), measured on its own; a user cannot type a word in that time.
        t0 = _Clock()
        while not page.warmed_up:
            app.processEvents()
        warmup.append(_ms(t0))

        for name in sort_cols:
            col = page.model.column_index(name)
            t0 = _Clock()
            page._on_header_section_clicked(col)
            page.view.viewport().repaint()
            sorts.setdefault(name, []).append(_ms(t0))

        t0 = _Clock()
        page.apply_search_now("perception")
        page.view.viewport().repaint()
        cold.append(_ms(t0))
        assert 0 < page.model.rowCount() < n
        for term in ("cam-b", "dataset-0421", "no-such-thing", ""):
            t0 = _Clock()
            page.apply_search_now(term)
            page.view.viewport().repaint()
            warm.append(_ms(t0))
        t0 = _Clock()
        page.apply_search_now("owner:vision-team items>1000 f1>0.5")
        page.view.viewport().repaint()
        query.append(_ms(t0))
        assert page.search.property("error") is False, page.search.toolTip()
        assert 0 < page.model.rowCount() < n
        page.apply_search_now("")
        page.close()
        page.deleteLater()
        app.processEvents()
    cat.close()

    def med(xs):
        return statistics.median(w for w, _ in xs), statistics.median(c for _, c in xs)

    def worst(xs):
        return max(w for w, _ in xs), max(c for _, c in xs)
    out = [("page shown (load + model + header + first paint)", med(show), TARGET_SHOW_MS)]
    for name in sort_cols:
        out.append((f"sort by {name}", med(sorts[name]), TARGET_SORT_SEARCH_MS))
    out.append(("(idle-time search preparation after showing)", med(warmup), float("nan")))
    out.append(("search, words, first", med(cold), TARGET_SORT_SEARCH_MS))
    out.append(("search, words, next ones (worst)", worst(warm), TARGET_SORT_SEARCH_MS))
    out.append(("search, query syntax (one SQL query)", med(query), TARGET_SORT_SEARCH_MS))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_datasets_page")
    ap.add_argument("--datasets", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    rows = run(args.datasets, args.repeat)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.datasets:,} datasets, 10 custom columns, offscreen, median of {args.repeat}; "
          f"{os.cpu_count()} cores, load average {load:.1f} (wall time suffers when it exceeds the cores)\n")
    print(f"| {'step':<50} | {'wall ms':>7} | {'cpu ms':>7} | {'target':>6} | ok (cpu) |")
    print(f"|{'-' * 52}|{'-' * 9}|{'-' * 9}|{'-' * 8}|----------|")
    ok = True
    for name, (wall, cpu), target in rows:
        if target != target:  # informative row, no target
            print(f"| {name:<50} | {wall:7.1f} | {cpu:7.1f} | {'-':>6} | -        |")
            continue
        good = cpu <= target
        ok &= good
        print(f"| {name:<50} | {wall:7.1f} | {cpu:7.1f} | {target:6.0f} | {'yes' if good else 'NO':<8} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
