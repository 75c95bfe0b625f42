"""GUI benchmark (offscreen): the main window on a large synthetic dataset.

Measures, and prints as a table beside the targets of the main-window issue (#6):

1. first screen of placeholders after the dataset is selected (target <= 0.5 s), the
   first selection (cold) and the worst of a few later ones (warm);
2. repaint after scrolling to 10 %, 50 %, 90 % and the end (target <= 50 ms each);
3. the longest GUI event-loop stall while a clone of the dataset runs as a background job,
   then while a Python-heavy job runs (:func:`scan_items_job`, export-like: ORM objects
   for every item) (target <= 50 ms; each job is cancelled after ``--job-seconds``), beside the longest
   stall of the same loop with no job (the machine's own noise: other processes share
   the cores); each also without the time the GUI thread sat in the OS run queue
   (``/proc/thread-self/schedstat``), which leaves its own work and its waits for the GIL;
4. the process RSS with the dataset open (target <= 400 MB), split into anonymous memory
   and mapped files (SQLite's mmap), and the peak RSS of the job's worker process;
5. thumbnail throughput of the GUI's loader on ``--thumbs`` 1920x1080 JPEGs (cold disk
   cache) against a bare Pillow draft-mode loop on all cores (target >= 80 %).

Usage::

    python benchmarks/bench_ui.py --catalog /tmp/ui1m.sqlite --items 1000000 --job-seconds 8

Build the catalog first with ``python -m benchmarks.synth /tmp/ui1m.sqlite --items 1000000``
(the bench builds it when it has fewer items, which takes long at 1M).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

THUMB_SRC = Path(tempfile.gettempdir()) / "dsdesk-bench-thumbs"


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM of a process in MB (Linux /proc; {} elsewhere)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    out[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return out


def scan_items_job(ctx, dataset_id: int, chunk: int = 2000):
    """A Python-heavy job, like an export or a sync's reconcile: every item of the dataset
    read as an ORM object and turned into a dict, in chunks, with progress and cancel."""
    from sqlalchemy import func, select

    from dsdesk.catalog.models import Item

    with ctx.db.session() as s:
        total = s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == dataset_id)).scalar_one()
        done, after = 0, 0
        while True:
            ctx.check_cancelled()
            items = s.execute(select(Item).where(Item.dataset_id == dataset_id, Item.id > after)
                              .order_by(Item.id).limit(chunk)).scalars().all()
            if not items:
                return done
            rows = [{"id": it.id, "path": f"{it.dir}/{it.name}", "meta": dict(it.meta_user or {})} for it in items]
            done += len(rows)
            after = items[-1].id
            s.expunge_all()
            ctx.progress(done, total, "scanning")


def run_queue_wait() -> int:
    """Nanoseconds the calling thread has spent runnable but waiting for a CPU (Linux
    schedstat; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def make_jpegs(n: int, folder: Path) -> list[Path]:
    """*n* distinct 1920x1080 JPEGs (quality 90) with gradients and shapes, made with Pillow."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{i:04d}.jpg" for i in range(n)]
    if all(p.is_file() for p in paths):
        return paths
    base = Image.linear_gradient("L").resize((1920, 1080))
    for i, p in enumerate(paths):
        if p.is_file():
            continue
        r = base.rotate(i * 7 % 360)
        im = Image.merge("RGB", (base, r, base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
        d = ImageDraw.Draw(im)
        for k in range(12):
            x, y = (i * 97 + k * 151) % 1800, (i * 53 + k * 89) % 1000
            d.ellipse((x, y, x + 120, y + 80), fill=((i * 40 + k * 20) % 256, (k * 60) % 256, (i * 9) % 256))
            d.text((x, y), f"{i}-{k}", fill=(255, 255, 255))
        im.save(p, "JPEG", quality=90)
    return paths


def _pillow_draft(path: str) -> int:
    from PIL import Image

    with Image.open(path) as im:
        im.draft("RGB", (256, 256))
        im.thumbnail((256, 256), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return im.width


def pillow_rate(paths: list[Path], procs: int) -> float:
    """Images per second of a bare Pillow draft-mode loop on *procs* processes (forked
    before Qt exists, so forking is safe)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(procs) as pool:
        pool.map(_pillow_draft, [str(paths[0])] * procs)  # warm up the workers
        t = time.perf_counter()
        pool.map(_pillow_draft, [str(p) for p in paths], chunksize=1)
        return len(paths) / (time.perf_counter() - t)


def thumbs_dataset(cat, paths: list[Path]):
    """The bench project's 'thumbs' dataset holding *paths* (uploaded once)."""
    import dsdesk

    p = cat.projects.get(project_name="bench")
    try:
        ds = p.datasets.get(dataset_name="thumbs")
    except dsdesk.NotFoundError:
        ds = p.datasets.create("thumbs")
    if ds.items_count < len(paths):
        ds.items.upload(str(paths[0].parent))
    return ds.refresh()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", default=os.path.join(tempfile.gettempdir(), "dsdesk-bench-ui.sqlite"))
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--job-seconds", type=float, default=15.0, help="how long to watch the background clone")
    ap.add_argument("--thumbs", type=int, default=160, help="JPEGs for the thumbnail throughput test (0: skip)")
    a = ap.parse_args()

    os.environ.setdefault("DSDESK_CONFIG_DIR", tempfile.mkdtemp(prefix="dsdesk-bench-config-"))
    from benchmarks.synth import make_catalog

    t = time.perf_counter()
    cat, ds = make_catalog(a.catalog, a.items)
    print(f"catalog: {ds.items_count:,} items in {a.catalog} (ready in {time.perf_counter() - t:.1f} s)")
    cores = os.cpu_count() or 1
    jpegs, bare = [], 0.0
    if a.thumbs:
        jpegs = make_jpegs(a.thumbs, THUMB_SRC / str(a.thumbs))
        tds = thumbs_dataset(cat, jpegs)
        bare = pillow_rate(jpegs, cores)
        print(f"bare Pillow draft mode on {cores} processes: {bare:.0f} images/s")
    cat.close()

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    import dsdesk
    from dsdesk.ui.app import make_application
    from dsdesk.ui.main_window import MainWindow
    from dsdesk.ui.settings import UiPrefs

    app = make_application()
    cat = dsdesk.open_catalog(a.catalog)
    prefs = UiPrefs()
    prefs.last_dataset_id = -1  # start with nothing selected: we time the selection
    win = MainWindow(cat, prefs)
    win.resize(1400, 900)
    win.show()

    def pump_until(cond, timeout: float) -> float:
        t0 = time.perf_counter()
        while not cond():
            app.processEvents()
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError("benchmark condition not reached")
            time.sleep(0.001)
        return time.perf_counter() - t0

    pump_until(lambda: ds.id in win.library.rows and not win.tasks.busy, 120)
    grid, model = win.grid, win.grid.model
    rows = []

    # 1. first screen of placeholders: the first selection, then a few more (another
    #    dataset in between, so each is a real switch).
    selected_at = [0.0]

    def first_screen() -> float:
        t0 = selected_at[0] = time.perf_counter()
        win.library.select_dataset(ds.id)
        pump_until(lambda: model.dataset_id == ds.id and model.rowCount() > 0 and len(model.loaded_ids) > 0, 60)
        grid.view.viewport().repaint()
        return time.perf_counter() - t0

    cold = first_screen()
    rows.append(("first screen after selecting the dataset (first time)", f"{cold * 1000:.0f} ms", "<= 500 ms",
                 cold <= 0.5))
    other = next((r.id for r in win.library.rows.values() if r.id != ds.id), None)
    warm = []
    if other is not None:
        for _ in range(3):
            pump_until(lambda: not model.loading, 300)
            win.library.select_dataset(other)
            pump_until(lambda: model.dataset_id == other and not model.loading, 60)
            warm.append(first_screen())
        rows.append((f"first screen, worst of {len(warm)} later selections", f"{max(warm) * 1000:.0f} ms",
                     "<= 500 ms", max(warm) <= 0.5))

    # Wait for every id and the batched layout to finish.
    pump_until(lambda: not model.loading, 300)
    sb = grid.view.verticalScrollBar()
    # A batched QListView sets its scroll range only once the last batch is laid out (the
    # range stays that of the first batch until then), so "the range stopped changing"
    # is no sign of the end: the last row having a rectangle is.
    def layout_done() -> bool:
        n = model.rowCount()
        return n > 0 and grid.view.rectForIndex(model.index(n - 1)).isValid()

    pump_until(layout_done, 300)
    layout = time.perf_counter() - selected_at[0]
    rows.append(("ids streamed + layout of all rows (background, from the selection)", f"{layout:.1f} s", "(info)",
                 None))

    # 2. scroll to any position
    for frac in (0.1, 0.5, 0.9, 1.0):
        t0 = time.perf_counter()
        sb.setValue(int(sb.maximum() * frac))
        grid.view.viewport().repaint()
        dt = time.perf_counter() - t0
        rows.append((f"scroll to {frac:.0%} and repaint", f"{dt * 1000:.1f} ms", "<= 50 ms", dt <= 0.05))
        for _ in range(20):  # let the row facts arrive, as a user would see
            app.processEvents()
            time.sleep(0.005)
        grid.view.viewport().repaint()

    # 3. longest event-loop stall: with no job (the machine's noise), then during a clone and
    #    during a Python-heavy job (what holds the GIL: an export, a sync's reconcile)
    from dsdesk.versioning.jobs import clone_job

    clock = QElapsedTimer()
    clock.start()
    stall = {"max": 0.0, "own": 0.0, "last": clock.nsecsElapsed(), "wait": run_queue_wait()}

    def tick() -> None:
        # A stall is split into the time the OS kept the GUI thread waiting for a CPU
        # (run-queue wait: other processes, on a 2-core machine shared with other work)
        # and the rest: the thread's own work or its wait for the GIL — ours to fix.
        now, wait = clock.nsecsElapsed(), run_queue_wait()
        gap = (now - stall["last"]) / 1e9
        stall["max"] = max(stall["max"], gap)
        stall["own"] = max(stall["own"], gap - (wait - stall["wait"]) / 1e9)
        stall["last"], stall["wait"] = now, wait

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()

    def watch(seconds: float, until=lambda: False, sample=lambda: None) -> tuple[float, float]:
        t0 = time.perf_counter()
        stall["last"], stall["max"], stall["own"], stall["wait"] = clock.nsecsElapsed(), 0.0, 0.0, run_queue_wait()
        while time.perf_counter() - t0 < seconds and not until():
            app.processEvents()
            if int((time.perf_counter() - t0) * 4) % 2 == 0:  # keep painting as a user scrolling would
                grid.view.viewport().update()
            sample()
            time.sleep(0.001)
        return stall["max"], stall["own"]

    import gc

    gc_pause = {"start": 0.0, "max": 0.0, "gen": -1}

    def on_gc(phase: str, info: dict) -> None:
        # Python's collector stops every thread of the process while it runs.
        if phase == "start":
            gc_pause["start"] = time.perf_counter()
        else:
            dt = time.perf_counter() - gc_pause["start"]
            if dt > gc_pause["max"]:
                gc_pause["max"], gc_pause["gen"] = dt, info.get("generation", -1)

    gc.callbacks.append(on_gc)
    idle, idle_own = watch(min(a.job_seconds, 4.0))
    rows.append(("longest GUI stall with no job (machine noise)", f"{idle * 1000:.1f} ms", "(info)", None))
    rows.append(("  the same without the GUI thread's run-queue wait", f"{idle_own * 1000:.1f} ms", "(info)", None))
    from benchmarks.bench_ui import scan_items_job as scan  # by module path: a worker process can import it

    worker_peak = [0.0]
    stalls = {}
    for kind, title, fn, args, kw in (
            ("clone", "a clone", clone_job, (ds.id,), {"clone_name": f"bench clone {time.time():.0f}"}),
            ("export", "a Python-heavy scan (export-like)", scan, (ds.id,), {})):
        h = win.jobs.submit(kind, f"bench {kind}", fn, *args, dataset_id=ds.id, **kw)

        def sample_worker(h=h) -> None:
            pid = getattr(getattr(h, "ctx", None), "pid", None)
            if pid:
                worker_peak[0] = max(worker_peak[0], proc_status(pid).get("VmHWM", 0.0))

        # Watched from the submit on: starting the job is part of what the user lives through.
        stalls[kind] = watch(a.job_seconds, lambda h=h: h.finished, sample_worker)
        done = h.last.done if h.last else 0
        win.jobs.cancel(h.uid)
        pump_until(lambda h=h: h.finished, 300)
        where = "process" if getattr(h, "in_process", False) else "thread"
        total, own = stalls[kind]
        rows.append((f"longest GUI stall during {title} ({done:,} items in {a.job_seconds:.0f} s, {where})",
                     f"{total * 1000:.1f} ms", "<= 50 ms", total <= 0.05))
        rows.append(("  the same without the GUI thread's run-queue wait (own work + GIL wait)",
                     f"{own * 1000:.1f} ms", "<= 50 ms", own <= 0.05))
    gc.callbacks.remove(on_gc)
    timer.stop()
    rows.append((f"  longest Python GC pause in these windows (generation {gc_pause['gen']})",
                 f"{gc_pause['max'] * 1000:.1f} ms", "(info)", None))

    # 5. thumbnails through the GUI's loader, cold disk cache, against bare Pillow
    if jpegs:
        from dsdesk.api.browse import fetch_infos
        from dsdesk.ui.thumbnails import ThumbnailLoader

        shutil.rmtree(Path(cat.db.cache_root) / "thumbnails", ignore_errors=True)
        with cat.db.session() as s:
            from sqlalchemy import select

            from dsdesk.catalog.models import Item

            ids = s.execute(select(Item.id).where(Item.dataset_id == tds.id)).scalars().all()
        infos = fetch_infos(cat, ids)
        loader = ThumbnailLoader(cat)
        loader.set_capacity(len(ids) + 10)
        # Warm-up on one image: worker start-up is paid once per session, not per image.
        first = infos[ids[0]]
        loader.request(first.thumb_key)
        pump_until(lambda: loader.pixmap(first.id) is not None or first.id in loader.failed, 60)
        shutil.rmtree(Path(cat.db.cache_root) / "thumbnails", ignore_errors=True)
        loader.forget([first.id])
        t0 = time.perf_counter()
        for i in ids:
            loader.request(infos[i].thumb_key)
        pump_until(lambda: all(loader.pixmap(i) is not None or i in loader.failed for i in ids), 600)
        rate = len(ids) / (time.perf_counter() - t0)
        failed = sum(1 for i in ids if i in loader.failed)
        loader.shutdown()
        ratio = rate / bare if bare else 0.0
        rows.append((f"thumbnails: {rate:.0f}/s vs bare Pillow draft {bare:.0f}/s on {cores} cores"
                     + (f" ({failed} failed)" if failed else ""), f"{ratio:.0%}", ">= 80 %", ratio >= 0.8 and not failed))

    # 4. memory (last: after scrolling, thumbnails and a clone, as after a while of use)
    mem = proc_status()
    rss = mem.get("VmRSS", 0.0)
    rows.append((f"RSS with the dataset open (anon {mem.get('RssAnon', 0):.0f} MB, "
                 f"mapped files {mem.get('RssFile', 0):.0f} MB)", f"{rss:.0f} MB", "<= 400 MB", rss <= 400))
    if worker_peak[0]:
        rows.append(("peak RSS of the jobs' worker processes", f"{worker_peak[0]:.0f} MB", "(info)", None))

    win.close()
    cat.close()
    w = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{w}}  {'value':>10}  {'target':>10}  ok")
    print("-" * (w + 30))
    for name, value, target, ok in rows:
        print(f"{name:<{w}}  {value:>10}  {target:>10}  {'' if ok is None else ('yes' if ok else 'NO')}")
    QApplication.quit()
    return 0 if all(r[3] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
