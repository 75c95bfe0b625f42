"""Grid benchmark (offscreen): scrolling a large grid with annotation overlays off and on.

The grid scrolls through ``--steps`` screens of a ``--items`` dataset with about
``--per-item`` boxes per item, a quarter screen per 60 Hz frame as a wheel or a drag
does; each frame's GUI-thread time (the scroll, the repaint, the handling of what the
workers sent) is what makes scrolling smooth or not.  The two runs start cold (caches
dropped) at the same positions and alternate ``--rounds`` times; the table gives the
median of each beside its bare step:

* the mean frame, overlays off and on (target: on <= 1.2 x off), the 95th percentile
  frame, and how long the last screen takes to complete once the scroll stops;
* the overlay read of one page of rows (:func:`dsdesk.api.overlays.fetch_overlays`)
  beside the same SELECT on the bare DB-API cursor (no JSON decoding, no objects);
* painting one screen with overlays beside a bare QPainter drawing the same rectangles.

Thumbnails are a constant grey pixmap in both runs (the synthetic items have no
binaries), so the figures are the overlays' cost and nothing else.

Usage::

    python benchmarks/bench_grid_overlays.py --catalog /tmp/overlays100k.sqlite --items 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", default=os.path.join(tempfile.gettempdir(), "dsdesk-bench-overlays.sqlite"))
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--per-item", type=float, default=3.0, help="boxes per item")
    ap.add_argument("--steps", type=int, default=40, help="screens scrolled per run")
    ap.add_argument("--rounds", type=int, default=3, help="off/on pairs of runs")
    a = ap.parse_args()
    os.environ.setdefault("DSDESK_CONFIG_DIR", tempfile.mkdtemp(prefix="dsdesk-bench-config-"))

    from benchmarks.synth import make_catalog

    t = time.perf_counter()
    cat, ds = make_catalog(a.catalog, a.items, a.per_item, dataset=f"overlays-{a.items}")
    print(f"catalog: {ds.items_count:,} items, {ds.annotations_count:,} annotations in {a.catalog} "
          f"(ready in {time.perf_counter() - t:.1f} s)")
    cat.close()

    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

    import dsdesk
    from dsdesk.api.overlays import fetch_overlays
    from dsdesk.ui.annotations.overlay_painter import OverlayPainter
    from dsdesk.ui.app import make_application
    from dsdesk.ui.grid import INFO_PAGE
    from dsdesk.ui.main_window import MainWindow
    from dsdesk.ui.settings import UiPrefs

    app = make_application()
    cat = dsdesk.open_catalog(a.catalog)
    prefs = UiPrefs()
    prefs.last_dataset_id = -1
    win = MainWindow(cat, prefs)
    win.resize(1400, 900)
    win.show()
    grid, model, view = win.grid, win.grid.model, win.grid.view

    def pump_until(cond, timeout: float) -> float:
        t0 = time.perf_counter()
        while not cond():
            app.processEvents()
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError("benchmark condition not reached")
            time.sleep(0.0005)
        return time.perf_counter() - t0

    pump_until(lambda: ds.id in win.library.rows and not win.tasks.busy, 120)
    win.library.select_dataset(ds.id)
    pump_until(lambda: model.dataset_id == ds.id and not model.loading, 300)
    pump_until(lambda: view.rectForIndex(model.index(model.rowCount() - 1)).isValid(), 300)
    side = grid.delegate.thumb_side()
    grey = QPixmap(side, side * 9 // 16)  # the synthetic images are 1920x1080
    grey.fill(QColor(110, 110, 110))
    grid.loader.pixmap = lambda _item_id, _size=None: grey  # same stand-in thumbnail in both runs

    sb = view.verticalScrollBar()
    start = int(sb.maximum() * 0.2)

    def complete(on: bool) -> bool:
        for r in view.visible_rows():
            iid = model.item_id(r)
            if iid is None or model.info(iid, fetch=False) is None:
                return False
            if on and model.overlay(iid) is None:
                return False
        return True

    frame = 1 / 60

    def run(on: bool) -> tuple[list[float], float]:
        """Scroll a quarter screen per 60 Hz frame, as a wheel or a drag does; each frame's
        GUI-thread time is the scroll, the repaint and the handling of what the workers
        sent.  Returns the frame times and how long the last screen took to complete."""
        grid.set_overlays_visible(on)
        model.forget_infos()
        model.forget_overlays()
        frames = []
        for i in range(a.steps * 4):
            t0 = time.perf_counter()
            sb.setValue(start + i * sb.pageStep() // 4)
            view.viewport().repaint()
            app.processEvents()
            busy = time.perf_counter() - t0
            frames.append(busy)
            time.sleep(max(0.0, frame - busy))  # the rest of the frame: the workers read meanwhile
        t0 = time.perf_counter()
        pump_until(lambda: complete(on), 60)
        return frames, time.perf_counter() - t0

    run(False)  # warm the page cache and the statement caches once
    off, on, p95_off, p95_on, tail_off, tail_on = [], [], [], [], [], []
    for _ in range(a.rounds):
        for flag, means, p95s, tails in ((False, off, p95_off, tail_off), (True, on, p95_on, tail_on)):
            frames, tail = run(flag)
            means.append(statistics.fmean(frames))
            p95s.append(statistics.quantiles(frames, n=20)[-1])
            tails.append(tail)
    step_off, step_on = statistics.median(off), statistics.median(on)

    # The overlay read of one page of rows, beside the bare SELECT on the DB-API cursor.
    ids = [model.item_id(r) for r in range(start // 10, start // 10 + INFO_PAGE)]
    ids = [i for i in ids if i is not None]
    reads, bare = [], []
    marks = ",".join("?" * len(ids))
    sql = (f"SELECT a.item_id, a.id, a.type, a.label, a.coordinates, b.width, b.height, l.color FROM annotation a "
           f"JOIN item i ON i.id = a.item_id JOIN blob b ON b.id = i.blob_id JOIN dataset d ON d.id = a.dataset_id "
           f"LEFT JOIN label l ON l.recipe_id = d.recipe_id AND l.tag = a.label WHERE a.item_id IN ({marks}) "
           f"ORDER BY a.item_id, a.id")
    for _ in range(15):
        t0 = time.perf_counter()
        got = fetch_overlays(cat, ids)
        reads.append(time.perf_counter() - t0)
        with cat.db.session() as s:
            t0 = time.perf_counter()
            s.connection().exec_driver_sql(sql, tuple(ids)).fetchall()
            bare.append(time.perf_counter() - t0)
    shapes = sum(len(o.shapes) for o in got.values())

    # Painting one screen of overlays, beside a bare QPainter drawing the same rectangles.
    grid.set_overlays_visible(True)
    pump_until(lambda: complete(True), 60)
    img = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    visible = [model.overlay(model.item_id(r)) for r in view.visible_rows()]
    visible = [o for o in visible if o is not None]
    paint, bare_paint = [], []
    for _ in range(30):
        p = QPainter(img)
        t0 = time.perf_counter()
        for o in visible:
            OverlayPainter(QRectF(0, 0, grey.width(), grey.height())).paint(p, o.shapes)
        paint.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for o in visible:
            for s in o.shapes:
                (x0, y0), (x1, y1) = s.rings[0]
                p.setPen(QColor(s.color))
                p.drawRect(QRectF(x0 * grey.width(), y0 * grey.height(), (x1 - x0) * grey.width(),
                                  (y1 - y0) * grey.height()))
        bare_paint.append(time.perf_counter() - t0)
        p.end()
    n_shapes = sum(len(o.shapes) for o in visible)

    win.close()
    win.shutdown()
    cat.close()

    ratio = step_on / step_off if step_off else float("inf")
    rows = [
        (f"GUI time per frame while scrolling, overlays off (mean, median of {a.rounds} runs of {a.steps * 4})",
         f"{step_off * 1000:.2f} ms", "(bare step)", ""),
        ("GUI time per frame while scrolling, overlays on", f"{step_on * 1000:.2f} ms",
         f"{ratio:.2f} x off", "<= 1.20 x " + ("PASS" if ratio <= 1.2 else "FAIL")),
        ("95th percentile frame, overlays on", f"{statistics.median(p95_on) * 1000:.2f} ms",
         f"off {statistics.median(p95_off) * 1000:.2f} ms", ""),
        ("last screen complete after the scroll stops, overlays on", f"{statistics.median(tail_on) * 1000:.1f} ms",
         f"off {statistics.median(tail_off) * 1000:.1f} ms", ""),
        (f"overlay read of {len(ids)} rows ({shapes} shapes), fetch_overlays", f"{statistics.median(reads) * 1000:.1f} ms",
         f"bare SELECT {statistics.median(bare) * 1000:.1f} ms", ""),
        (f"paint one screen's overlays ({len(visible)} cells, {n_shapes} shapes)",
         f"{statistics.median(paint) * 1000:.2f} ms", f"bare drawRect {statistics.median(bare_paint) * 1000:.2f} ms", ""),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"\n{'step':<{w}}  {'figure':>10}  {'bare / ratio':>24}  target")
    for name, fig, bare_fig, target in rows:
        print(f"{name:<{w}}  {fig:>10}  {bare_fig:>24}  {target}")
    print(f"(per-run mean frames, off: {', '.join(f'{x * 1000:.2f}' for x in off)} ms; "
          f"on: {', '.join(f'{x * 1000:.2f}' for x in on)} ms)")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
