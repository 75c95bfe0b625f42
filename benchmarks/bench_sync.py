#!/usr/bin/env python3
"""Sync and thumbnail benchmark: dsdesk against the bare library doing the same work.

  python benchmarks/bench_sync.py [--objects 10000] [--files 1000000] [--images 240]
                                  [--only s3,local,thumbs]

* **S3**: a moto server (its own process, seeded through moto's backend so 10,000 objects
  take a second instead of minutes) holds N objects.  Bare: ``s3fs.find(prefix, detail=True)``.
  dsdesk: the first sync of a new dataset (N new items) and a no-change re-sync.
  Targets: first sync ≤ 1.25 x bare listing, re-sync ≤ 1.1 x.
* **local**: a tree of N empty files under /tmp.  Bare: fsspec's
  ``LocalFileSystem.find(root, detail=True)``.  dsdesk: the first sync (N new items).
  Each run is its own process, so its peak RSS is its own.  Targets: ≤ 2 x, ≤ 300 MB.
* **thumbnails**: 1920x1080 JPEGs in a local folder.  Bare: a process pool on all cores
  running Pillow's draft-mode loop (open, draft, thumbnail, save JPEG).  dsdesk:
  ``Thumbnailer.many`` (cache cold).  Target: ≥ 0.8 x the bare throughput.

Prints one table at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ================================================================================ S3
def serve_moto(port: int, bucket: str, prefix: str, n: int) -> None:
    """Child mode: seed moto's backend directly, then serve it on 127.0.0.1:port."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, "us-east-1")
    for i in range(n):
        backend.put_object(bucket, f"{prefix}/d{i % 50:02d}/s{i % 7}/obj{i:07d}.jpg", b"x" * (16 + i % 64))
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def bench_s3(n: int, rows: list) -> None:
    import s3fs

    port = free_port()
    bucket, prefix = "bench", "data"
    log = open(tempfile.mktemp(prefix="moto-bench-", suffix=".log"), "wb")
    proc = subprocess.Popen([sys.executable, __file__, "--serve-moto", str(port), bucket, prefix, str(n)],
                            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout.readline().strip() == b"ready", "moto did not start"
        endpoint = f"http://127.0.0.1:{port}"

        def bare():
            fs = s3fs.S3FileSystem(key="k", secret="s", skip_instance_cache=True, use_listings_cache=False,
                                   client_kwargs={"endpoint_url": endpoint})
            t = time.perf_counter()
            found = fs.find(f"{bucket}/{prefix}", detail=True)
            dt_ = time.perf_counter() - t
            assert len(found) == n, len(found)
            return dt_

        bare()  # warm the server's code paths once
        os.environ["BENCH_S3"] = json.dumps({"key": "k", "secret": "s"})
        tmp = Path(tempfile.mkdtemp(prefix="bench-s3-"))
        import dsdesk

        cat = dsdesk.open_catalog(tmp / "c.sqlite")
        p = cat.projects.create("bench")
        drv = p.drivers.create("s3", "s3", bucket, path=prefix, endpoint=endpoint, credentials="env:BENCH_S3")
        firsts, resyncs, bares = [], [], []
        for rep in range(2):
            bares.append(bare())
            ds = p.datasets.create(f"ds{rep}", driver=drv)
            t = time.perf_counter()
            r = ds.sync()
            firsts.append(time.perf_counter() - t)
            assert r.new == n, r.summary()
            bares.append(bare())
            t = time.perf_counter()
            r = ds.sync()
            resyncs.append(time.perf_counter() - t)
            assert r.new == 0 and r.changed == 0, r.summary()
        # Best of each: the machine is shared, and the minimum is the run least disturbed.
        b = min(bares)
        f, rs = min(firsts), min(resyncs)
        rows.append((f"S3 (moto) first sync, {n:,} objects", f"{b:.2f}", f"{f:.2f}", f"{f / b:.2f}x", "<= 1.25x",
                     "PASS" if f / b <= 1.25 else "FAIL"))
        rows.append((f"S3 (moto) no-change re-sync, {n:,}", f"{b:.2f}", f"{rs:.2f}", f"{rs / b:.2f}x", "<= 1.10x",
                     "PASS" if rs / b <= 1.10 else "FAIL"))
        cat.close()
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


# ============================================================================= local
def _tree_file(root: Path, i: int) -> Path:
    return root / f"g{i // 100000:03d}" / f"f{i // 1000:05d}" / f"file{i:07d}.jpg"


def make_tree(root: Path, n: int) -> None:
    """n empty files, 1,000 per folder, two levels deep (made once, reused)."""
    stamp = root.with_name(root.name + ".complete")  # beside the tree, not in it
    # The stamp alone is not enough: /tmp cleaners (or a test) may have removed part of the tree.
    if (stamp.exists() and stamp.read_text() == str(n)
            and all(_tree_file(root, i).exists() for i in (0, n // 2, n - 1))):
        return
    shutil.rmtree(root, ignore_errors=True)
    for i in range(0, n, 1000):
        _tree_file(root, i).parent.mkdir(parents=True, exist_ok=True)
        for j in range(i, min(i + 1000, n)):
            os.close(os.open(_tree_file(root, j), os.O_CREAT | os.O_WRONLY, 0o644))
    stamp.write_text(str(n))


def local_child(mode: str, root: str, n: int) -> None:
    """Child mode: one measurement, printed as JSON with this process's peak RSS."""
    if mode == "bare":
        from fsspec.implementations.local import LocalFileSystem

        t = time.perf_counter()
        found = LocalFileSystem().find(root, detail=True)
        dt_ = time.perf_counter() - t
        count = len(found)
    else:
        import dsdesk

        tmp = Path(tempfile.mkdtemp(prefix="bench-local-"))
        cat = dsdesk.open_catalog(tmp / "c.sqlite")
        p = cat.projects.create("bench")
        drv = p.drivers.create("tree", "local", root)
        ds = p.datasets.create("ds", driver=drv)
        t = time.perf_counter()
        r = ds.sync()
        dt_ = time.perf_counter() - t
        count = r.new
        if mode == "sync+resync":
            t = time.perf_counter()
            r2 = ds.sync()
            print(json.dumps({"resync": time.perf_counter() - t, "new": r2.new}), file=sys.stderr)
        cat.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"seconds": dt_, "count": count, "rss_mb": peak_rss_mb()}))


def bench_local(n: int, rows: list) -> None:
    root = Path(tempfile.gettempdir()) / f"dsdesk-bench-tree-{n}"
    t = time.perf_counter()
    make_tree(root, n)
    print(f"tree of {n:,} files ready in {time.perf_counter() - t:.0f}s", flush=True)

    def child(mode):
        out = subprocess.run([sys.executable, __file__, "--local-child", mode, str(root), str(n)],
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    child("bare")  # warm the dentry cache so both sides read from memory
    # Alternate and keep the best of each: the machine is shared and load comes and goes.
    runs = {"bare": [], "sync": []}
    for _ in range(2):
        for mode in ("bare", "sync"):
            runs[mode].append(child(mode))
    bare = min(runs["bare"], key=lambda r: r["seconds"])
    sync = min(runs["sync"], key=lambda r: r["seconds"])
    sync["rss_mb"] = max(r["rss_mb"] for r in runs["sync"])
    assert sync["count"] == n, sync
    ratio = sync["seconds"] / bare["seconds"]
    rows.append((f"local folder first sync, {n:,} files", f"{bare['seconds']:.2f}", f"{sync['seconds']:.2f}",
                 f"{ratio:.2f}x", "<= 2x", "PASS" if ratio <= 2 else "FAIL"))
    rows.append((f"local sync peak RSS (bare: {bare['rss_mb']:.0f} MB)", "", f"{sync['rss_mb']:.0f} MB", "",
                 "<= 300 MB", "PASS" if sync["rss_mb"] <= 300 else "FAIL"))


# ======================================================================== thumbnails
def _bare_thumb(path: str) -> int:
    from PIL import Image

    with Image.open(path) as im:
        im.draft("RGB", (256, 256))
        im.thumbnail((256, 256))
        out = io.BytesIO()
        im.convert("RGB").save(out, "JPEG", quality=85)
        return len(out.getvalue())


def bench_thumbs(n: int, rows: list) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from PIL import Image

    from dsdesk.storage.drivers import DriverConfig, make_driver
    from dsdesk.storage.thumbnails import Thumbnailer

    root = Path(tempfile.mkdtemp(prefix="bench-thumbs-"))
    src = root / "imgs"
    src.mkdir()
    base = Image.radial_gradient("L").resize((1920, 1080)).convert("RGB")
    for i in range(n):
        im = base.point(lambda v, i=i: (v + i * 7) % 256)
        im.save(src / f"img{i:04d}.jpg", "JPEG", quality=90)
    files = sorted(str(p) for p in src.iterdir())
    cores = os.cpu_count() or 1
    drv = make_driver(DriverConfig("local", str(root)))
    bares, ourss = [], []
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_bare_thumb, files[: cores * 2]))  # start the workers
        for rep in range(2):  # alternate, keep the best of each (shared machine)
            t = time.perf_counter()
            list(pool.map(_bare_thumb, files, chunksize=4))
            bares.append(time.perf_counter() - t)
            th = Thumbnailer(drv, 1, root / f"cache{rep}")  # cold cache each time
            t = time.perf_counter()
            res = th.many([(f"imgs/{Path(f).name}", "v1") for f in files])
            ourss.append(time.perf_counter() - t)
            assert all(r.ok for r in res)
    bare, ours = min(bares), min(ourss)
    ratio = (n / ours) / (n / bare)
    rows.append((f"thumbnails, {n} 1920x1080 JPEGs ({cores} cores)", f"{n / bare:.0f}/s", f"{n / ours:.0f}/s",
                 f"{ratio:.2f}x", ">= 0.8x", "PASS" if ratio >= 0.8 else "FAIL"))
    shutil.rmtree(root, ignore_errors=True)


# ============================================================================== main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=10_000, help="S3 objects (default 10,000)")
    ap.add_argument("--files", type=int, default=1_000_000, help="local files (default 1,000,000)")
    ap.add_argument("--images", type=int, default=240, help="1920x1080 JPEGs for the thumbnail run")
    ap.add_argument("--only", default="s3,local,thumbs")
    ap.add_argument("--serve-moto", nargs=4, metavar=("PORT", "BUCKET", "PREFIX", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--local-child", nargs=3, metavar=("MODE", "ROOT", "N"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve_moto:
        port, bucket, prefix, n = a.serve_moto
        serve_moto(int(port), bucket, prefix, int(n))
        return 0
    if a.local_child:
        local_child(a.local_child[0], a.local_child[1], int(a.local_child[2]))
        return 0
    rows: list = []
    only = set(a.only.split(","))
    for name, fn, n in (("s3", bench_s3, a.objects), ("local", bench_local, a.files),
                        ("thumbs", bench_thumbs, a.images)):
        if name in only:
            before = len(rows)
            fn(n, rows)
            for r in rows[before:]:
                print("  ", " | ".join(map(str, r)), flush=True)
    head = ("case", "bare s", "dsdesk s", "ratio", "target", "")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print()
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    return 0 if all(r[-1] != "FAIL" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
