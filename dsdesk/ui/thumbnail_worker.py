"""The Qt-free half of the grid's thumbnails: decoding in worker processes.

Kept free of Qt on purpose (it runs in worker processes that must start fast and stay
small): :class:`ThumbnailProcessPool` is a small process pool whose workers hold the
catalog open through :class:`dsdesk.api.thumbnails.ThumbnailRenderer`, and :func:`render`
makes (or reads from the disk cache) one thumbnail and returns its pixels as raw ``RGBX`` bytes — Pillow's own layout of an RGB image, copied
out with no repacking (``QImage.Format_RGBX8888``; the GUI process converts it to
``Format_RGB32`` on the pool's reader thread, which is also the copy it has to make).
A result also carries the original image's size, which the decode learns for free: the
GUI writes it back to blobs a sync listed without measuring (:mod:`dsdesk.api.image_sizes`).

Why processes: a JPEG decode in Pillow releases the GIL, but the Python around it (the
blob lookup, draft, EXIF, encoding for the cache) does not, and on a busy grid those
pieces made the GUI thread wait for the GIL.  The parent process does a pipe read and a
memcpy per thumbnail.

Why not ``concurrent.futures.ProcessPoolExecutor``: it hands each task through four
Python threads of the parent (submitter, manager, queue feeder, waiter), pickles the
pixels, and starts its workers one at a time as tasks arrive (with ``forkserver``), so
the second core joined only after a first screen of thumbnails was under way.  Measured
on 2 cores, its parent process used ~0.8 ms of CPU per thumbnail, about a quarter of a
whole draft-mode decode.  Here every worker has its own pipe; one reader thread in the
parent waits on all of them (one epoll set), reads each result (one message: a 16-byte
header and the raw pixels) and at once sends that worker the newest request still
wanted, so a worker never idles while the parent is busy and the queue order stays the
caller's.  Measured: ~0.25 ms of parent CPU per thumbnail, all off the GUI thread but
one pixmap conversion.
"""

from __future__ import annotations

import os
import selectors
import signal
import struct
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from dsdesk.api.thumbnails import CatalogLocation, ThumbnailRenderer
from dsdesk.jobs.process import mp_context

_renderer = None  # the worker process's ThumbnailRenderer

#: Requests a worker holds at once: the one it decodes and the next, so it never waits for
#: the parent between two thumbnails.  More would only delay the dropping of cells that
#: scrolled away.
DEPTH = 2
#: Every message from a worker: ``seq`` (or READY / INIT_FAILED), width (or NO_IMAGE), height,
#: and the original's width and height (0: unknown); the body is the pixels, or the reason
#: (UTF-8) when there are none.
HEADER = struct.Struct("<qiiii")
READY, INIT_FAILED, NO_IMAGE = -1, -2, -1
#: Workers that die before their first result, in a row, before the pool gives up (a
#: catalog that cannot be opened, a broken install): no endless restarts.
MAX_START_FAILURES = 3


def _init_worker(location: CatalogLocation, env: dict[str, str]) -> None:
    """Worker set-up: the parent's environment and a renderer on the catalog (read-only use)."""
    global _renderer
    os.environ.clear()
    os.environ.update(env)
    _renderer = ThumbnailRenderer(location)


def render(driver_id: int, storage_key: str, etag: str | None,
           size: int) -> tuple[int, int, bytes, tuple[int, int] | None] | str:
    """(width, height, RGBX bytes, the original's (width, height) or None) of the thumbnail
    of one object version, or the reason there is none.  Runs in a worker process."""
    return _renderer.render(driver_id, storage_key, etag, size)


def _worker_main(conn: Connection, init_args: tuple) -> None:
    """A worker's loop: ``(seq, driver_id, key, etag, size)`` in, one :data:`HEADER` and
    the pixels (or the reason) out, until ``None`` or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the GUI's to handle
    try:
        try:
            _init_worker(*init_args)
        except Exception as e:  # noqa: BLE001 - reported to the parent, which stops restarting workers
            conn.send_bytes(HEADER.pack(INIT_FAILED, 0, 0, 0, 0) + f"{type(e).__name__}: {e}".encode())
            return
        conn.send_bytes(HEADER.pack(READY, 0, 0, 0, 0))
    except OSError:
        return  # the parent went away while this worker started
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        seq, driver_id, key, etag, size = msg
        got = render(driver_id, key, etag, size)
        try:
            if isinstance(got, str):
                conn.send_bytes(HEADER.pack(seq, NO_IMAGE, 0, 0, 0) + got.encode("utf-8", "replace"))
            else:
                w, h, pixels, original = got
                ow, oh = original or (0, 0)
                conn.send_bytes(HEADER.pack(seq, w, h, ow, oh) + pixels)  # one message: one wake-up of the reader
        except (OSError, ValueError):
            return  # the parent closed the pipe


def _read_exact(fd: int, into: memoryview) -> None:
    """Fill *into* from *fd* (blocking); EOFError when the other end closed first."""
    got, n = 0, len(into)
    while got < n:
        k = os.readv(fd, [into[got:]])
        if k == 0:
            raise EOFError("the thumbnail worker closed its pipe")
        got += k


@dataclass
class _Request:
    tag: Hashable
    args: tuple  # (driver_id, key, etag, size)
    tries: int = 0


@dataclass
class _Worker:
    proc: object
    conn: Connection
    ready: bool = False
    busy: dict[int, _Request] = field(default_factory=dict)  # seq -> request sent to it


#: What :class:`ThumbnailProcessPool` calls with each result: ``(tag, (w, h, pixels, original) | reason)``;
#: *pixels* is a memoryview of RGBX bytes, valid during the call only; *original* is the
#: original image's ``(width, height)``, or None when the worker did not learn it.
ResultCallback = Callable[[Hashable, "tuple[int, int, memoryview] | str"], None]


class ThumbnailProcessPool:
    """Worker processes running :func:`render` for the catalog at *location*, newest request first.

    ``submit(tag, driver_id, key, etag, size)`` queues a request (a tag already queued moves
    to the front, one running is ignored); ``on_result(tag, result)`` is called on the
    pool's reader thread with ``(width, height, RGBX pixels, original size or None)`` (the
    pixels a memoryview valid during the call) or the reason there is no thumbnail.  Requests not yet sent to a worker can
    be dropped (:meth:`retain`, :meth:`clear`).  Thread-safe.
    The workers start (all at once, on a thread of the pool) with the first request or
    :meth:`start`; :meth:`shutdown` stops them.

    A worker that dies (a crash in a decoder) is replaced; the requests it held are tried
    once more, and a request that also kills the second worker gets the reason
    ``the thumbnail worker died``, so one bad file does not blank the grid.
    """

    def __init__(self, location: CatalogLocation, on_result: ResultCallback, workers: int | None = None,
                 depth: int = DEPTH):
        self._args = (location, dict(os.environ))
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.depth = max(1, depth)
        self._on_result = on_result
        self._lock = threading.Lock()
        self._pending: dict[Hashable, _Request] = {}  # insertion order: the newest is last
        self._running: set[Hashable] = set()  # tags sent to a worker, result not yet back
        self._workers: list[_Worker] = []
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._sel: selectors.BaseSelector | None = None  # the reader thread's, like the two buffers
        self._head = bytearray(12)
        self._buf = bytearray(1 << 18)
        self._wake_r, self._wake_w = os.pipe()
        self._closed = False
        self._broken: str | None = None
        self._start_failures = 0

    # ---- any thread ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers now (in the background) instead of with the first request."""
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="dsdesk-thumbnail-reader", daemon=True)
                self._thread.start()

    def submit(self, tag: Hashable, driver_id: int, storage_key: str, etag: str | None, size: int) -> bool:
        """Queue a render; False when *tag* is already queued (it then runs next) or running,
        or the pool is closed."""
        with self._lock:
            if self._closed or tag in self._running:
                return False
            if tag in self._pending:
                self._pending[tag] = self._pending.pop(tag)  # asked again: the most wanted now
                return False
            broken = self._broken
            if broken is None:
                self._pending[tag] = _Request(tag, (driver_id, storage_key, etag, size))
                self._dispatch()
        if broken is not None:
            self._deliver(tag, broken)
            return True
        self.start()
        return True

    def retain(self, keep: Callable[[Hashable], bool]) -> int:
        """Drop queued requests whose tag *keep* rejects; returns how many were dropped."""
        with self._lock:
            gone = [t for t in self._pending if not keep(t)]
            for t in gone:
                del self._pending[t]
        return len(gone)

    def clear(self) -> None:
        """Drop every queued request (running ones finish)."""
        with self._lock:
            self._pending.clear()

    @property
    def queued(self) -> int:
        """Requests waiting for a worker."""
        with self._lock:
            return len(self._pending)

    @property
    def running(self) -> int:
        """Requests a worker holds."""
        with self._lock:
            return len(self._running)

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        with self._lock:
            return [w.proc.pid for w in self._workers if w.proc.pid is not None]

    @property
    def alive(self) -> bool:
        """True while the pool's reader thread runs."""
        t = self._thread
        return t is not None and t.is_alive()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop the workers (queued requests are dropped, a running render finishes first);
        False when they did not stop within *timeout* seconds (they are then killed)."""
        with self._lock:
            if self._closed:
                thread = None
            else:
                self._closed = True
                self._pending.clear()
                thread = self._thread
            self._wake()
        ok = True
        if thread is not None:
            thread.join(timeout)
            ok = not thread.is_alive()
        with self._lock:
            workers, self._workers = self._workers, []
        for w in workers:
            # Closed before the join: a worker blocked sending a result nobody reads any
            # more (a frame larger than the socket buffer) gets EPIPE and ends.
            w.conn.close()
        deadline = time.monotonic() + max(0.0, timeout)
        for w in workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                ok = False
                w.proc.kill()
                w.proc.join(1.0)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1
        return ok

    # ---- internals (the lock held where said) --------------------------------------------
    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _dispatch(self) -> None:
        """Send the newest queued requests to workers with room (lock held)."""
        if not self._pending:
            return
        for w in self._workers:
            while w.ready and len(w.busy) < self.depth and self._pending:
                tag = next(reversed(self._pending))
                req = self._pending.pop(tag)
                self._seq += 1
                try:
                    w.conn.send((self._seq, *req.args))
                except (OSError, ValueError):
                    self._pending[tag] = req  # the reader sees the dead worker and replaces it
                    w.ready = False
                    break
                w.busy[self._seq] = req
                self._running.add(tag)

    def _spawn(self) -> _Worker:
        ctx = mp_context()
        parent, child = ctx.Pipe(duplex=True)
        p = ctx.Process(target=_worker_main, args=(child, self._args), name="dsdesk-thumbnails", daemon=True)
        p.start()
        child.close()
        return _Worker(p, parent)

    def _add(self, w: _Worker) -> None:
        """Register a started worker (reader thread)."""
        self._sel.register(w.conn, selectors.EVENT_READ, (w, "conn"))
        self._sel.register(w.proc.sentinel, selectors.EVENT_READ, (w, "sentinel"))
        with self._lock:
            if self._closed:
                w.conn.send(None)
            self._workers.append(w)

    def _run(self) -> None:  # the reader thread
        self._sel = selectors.DefaultSelector()
        try:
            self._sel.register(self._wake_r, selectors.EVENT_READ, (None, "wake"))
            for _ in range(self.workers):
                self._add(self._spawn())
            while not self._closed:
                for key, _ev in self._sel.select():
                    w, what = key.data
                    if what == "wake":
                        os.read(self._wake_r, 4096)
                    elif w not in self._workers:
                        continue  # lost earlier in this round
                    elif what == "conn":
                        self._read(w)
                    else:
                        while w.conn.poll():  # results it sent before it ended
                            if not self._read(w):
                                break
                        self._lost(w)
        except Exception as e:  # noqa: BLE001 - fork server gone, out of file descriptors: every request fails
            self._give_up(f"the thumbnail workers cannot run: {type(e).__name__}: {e}")
        finally:
            with self._lock:
                for w in self._workers:
                    try:
                        w.conn.send(None)
                    except (OSError, ValueError):
                        pass
            self._sel.close()

    def _recv(self, conn: Connection) -> memoryview:
        """One message of *conn* (``Connection.send_bytes`` framing) read into the reader's
        reused buffer: valid until the next call.  ``recv_bytes`` allocated ~3 buffers of
        the message's size per thumbnail, and in a thread's malloc arena each came back
        as fresh pages to fault in: 0.1 ms a thumbnail, measured, against 0.02 ms here."""
        fd = conn.fileno()
        head = memoryview(self._head)
        _read_exact(fd, head[:4])
        (n,) = struct.unpack("!i", head[:4])
        if n == -1:  # more than 2 GiB: never for a thumbnail, but it is the framing
            _read_exact(fd, head[4:12])
            (n,) = struct.unpack("!Q", head[4:12])
        if len(self._buf) < n:
            self._buf = bytearray(max(n, 2 * len(self._buf)))
        body = memoryview(self._buf)[:n]
        _read_exact(fd, body)
        return body

    def _read(self, w: _Worker) -> bool:
        """Take one message of *w*; False when it is gone."""
        try:
            msg = self._recv(w.conn)
        except (EOFError, OSError):
            self._lost(w)
            return False
        seq, width, height, ow, oh = HEADER.unpack_from(msg)
        if seq == READY:
            with self._lock:
                w.ready = True
                self._dispatch()
            return True
        body = memoryview(msg)[HEADER.size:]
        if seq == INIT_FAILED:
            self._start_failures = MAX_START_FAILURES  # this will not get better by retrying
            self._lost(w, reason=f"the thumbnail workers cannot start: {bytes(body).decode('utf-8', 'replace')}")
            return False
        with self._lock:
            req = w.busy.pop(seq, None)
            if req is not None:
                self._running.discard(req.tag)
            self._start_failures = 0
            self._dispatch()
        if req is not None:
            result = (bytes(body).decode("utf-8", "replace") if width == NO_IMAGE
                      else (width, height, body, (ow, oh) if ow > 0 and oh > 0 else None))
            self._deliver(req.tag, result)
        return True

    def _lost(self, w: _Worker, reason: str | None = None) -> None:
        """*w* died (or cannot start): retry what it held once, start another."""
        with self._lock:
            if w not in self._workers:
                return
            self._workers.remove(w)
            failed = []
            for req in w.busy.values():
                self._running.discard(req.tag)
                req.tries += 1
                if req.tries > 1 or self._closed:
                    failed.append(req)
                elif req.tag not in self._pending:
                    self._pending[req.tag] = req  # last: tried again first
            w.busy.clear()
            if not w.ready:
                self._start_failures += 1
            replace = not self._closed and self._start_failures < MAX_START_FAILURES
        for obj in (w.conn, w.proc.sentinel):
            try:
                self._sel.unregister(obj)
            except (KeyError, ValueError, OSError):
                pass
        try:
            w.conn.close()
        except OSError:
            pass
        w.proc.join(1.0)
        code = w.proc.exitcode
        why = f"the thumbnail worker died (exit code {code})"
        for req in failed:
            self._deliver(req.tag, why)
        if replace:
            self._add(self._spawn())
        elif not self._closed and not self._workers:
            self._give_up(reason or f"the thumbnail workers cannot start ({why})")

    def _give_up(self, reason: str) -> None:
        """Every queued request and every later one gets *reason*."""
        with self._lock:
            self._broken = reason
            reqs = list(self._pending.values())
            self._pending.clear()
            for w in self._workers:
                reqs.extend(w.busy.values())
                w.busy.clear()
            self._running.clear()
        for req in reqs:
            self._deliver(req.tag, reason)

    def _deliver(self, tag: Hashable, result) -> None:
        """Hand a result to the callback; its failure (a receiver already deleted while the
        window closes) must not stop the reader thread."""
        try:
            self._on_result(tag, result)
        except Exception:  # noqa: BLE001 - nothing to tell: the result is simply not shown
            pass
