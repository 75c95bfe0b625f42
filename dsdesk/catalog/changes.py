"""The change feed's writing side and its two readers: who changed which dataset, and how.

Two clients on one catalog see each other's writes within seconds.  The seam every write
goes through is the ORM session's commit (every layer writes through ``Database.session``
/ ``new_session``, whose factories :func:`install` hooks):

* while a transaction runs, each statement that writes a table a view shows (``item``,
  ``folder``, ``annotation``, ``task_status``, ``dataset``, ``snapshot``, ``recipe``,
  ``label``) adds its *kind* to the session's set: one regular-expression match per
  statement, not per row, so a million-row ``executemany`` costs one match;
* the datasets come from :func:`touch` (``guards.writable_dataset``, which every mutation
  of a dataset's content calls first) and from the ORM objects a flush wrote;
* at commit, one ``change_log`` row per dataset (``dataset_id`` NULL when no dataset is
  known: a catalog-wide change) and, on PostgreSQL, one ``NOTIFY dsdesk_changes`` in the
  same transaction.  A transaction that wrote none of those tables (job progress, sync
  staging, caches) records nothing.

Readers: :class:`LogReader` polls ``change_log`` for rows above the last seen ``seq``
(on SQLite ``PRAGMA data_version`` skips even that query while no other connection
committed); :class:`NotifyListener` LISTENs on its own PostgreSQL connection in a thread.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from dsdesk.catalog.sql import written_table

CHANNEL = "dsdesk_changes"
TABLE_KINDS = {
    "item": "items",
    "folder": "folders",
    "annotation": "annotations",
    "task_status": "annotations",
    "project": "meta",
    "dataset": "meta",
    "snapshot": "meta",
    "recipe": "recipes",
    "label": "recipes",
}
KINDS = frozenset(TABLE_KINDS.values())
_KINDS = "dsdesk_change_kinds"  # session.info: kinds written in this transaction
_DATASETS = "dsdesk_change_datasets"  # session.info: datasets touched in this transaction
_SINK = "dsdesk_change_sink"  # connection.info: the session's kinds set, while it is linked
_LINKED = "dsdesk_change_linked"  # session.info: the connection infos to unlink at the end
_MAX_NOTIFIED = 200  # datasets named in one NOTIFY (its payload is capped at 8000 bytes)
_PRUNE_EVERY = 500  # commits with changes between two prunes of the log
_KEEP = 10_000  # log rows a prune keeps: readers poll every second or so


@dataclass(frozen=True)
class Change:
    """One committed change: *dataset_id* (None: catalog-wide, e.g. a project's recipe)
    changed in *kinds* (``items``, ``folders``, ``annotations``, ``meta``, ``recipes``),
    written by the open catalog *origin* (``host:pid:token``)."""

    dataset_id: int | None
    kinds: frozenset[str]
    origin: str


def touch(session: Session, dataset_id: int) -> None:
    """Name *dataset_id* as changed by *session*'s transaction, if it writes anything a view shows."""
    session.info.setdefault(_DATASETS, set()).add(int(dataset_id))


def note_write(info: dict, table: str) -> None:
    """Count a write into *table* that SQLAlchemy's statement events do not see (a ``COPY``
    on the driver's connection); *info* is the SQLAlchemy connection's ``info``."""
    sink = info.get(_SINK)
    kind = TABLE_KINDS.get(table)
    if sink is not None and kind is not None:
        sink.add(kind)


def new_origin() -> str:
    """A name for one open catalog: host, process and a token (two catalogs in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def install(engine: Engine, factories: tuple[sessionmaker, ...], origin: str) -> None:
    """Record changes for every session of *factories* on *engine* (see the module doc)."""
    notify = engine.dialect.name == "postgresql"
    commits = [0]
    has_log = [False]  # once the table is there it stays (a catalog is never downgraded while open)
    probe = text("SELECT to_regclass('change_log') IS NOT NULL" if notify else
                 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'change_log'")

    @event.listens_for(engine, "before_cursor_execute")
    def _sniff(conn, _cursor, statement, _params, _context, _many):
        sink = conn.info.get(_SINK)
        if sink is None:
            return
        kind = TABLE_KINDS.get(written_table(statement) or "")
        if kind is not None:
            sink.add(kind)

    def _after_begin(session, _transaction, connection):
        sink = session.info.setdefault(_KINDS, set())
        connection.info[_SINK] = sink
        session.info.setdefault(_LINKED, []).append(connection.info)

    def _after_flush(session, _ctx):
        from dsdesk.catalog.models import Dataset  # local: models imports nothing of ours

        ids = session.info.setdefault(_DATASETS, set())
        for obj in (*session.new, *session.dirty, *session.deleted):
            ds = obj.id if isinstance(obj, Dataset) else getattr(obj, "dataset_id", None)
            if isinstance(ds, int):
                ids.add(ds)

    def _before_commit(session):
        session.flush()  # the ORM's pending writes name their kinds and datasets now
        kinds = session.info.get(_KINDS)
        if not kinds:
            return
        if not has_log[0]:
            # A catalog opened without upgrading, still at a revision before 0016.
            has_log[0] = bool(session.execute(probe).scalar())
            if not has_log[0]:
                return
        datasets = sorted(session.info.get(_DATASETS) or ()) or [None]
        word = ",".join(sorted(kinds))
        at = datetime.now(UTC).replace(tzinfo=None)
        session.execute(text("INSERT INTO change_log (dataset_id, kinds, origin, at) VALUES (:d, :k, :o, :a)"),
                        [{"d": d, "k": word, "o": origin, "a": at} for d in datasets])
        if notify:
            named = datasets if len(datasets) <= _MAX_NOTIFIED else [None]
            payload = json.dumps({"o": origin, "k": word, "d": named}, separators=(",", ":"))
            session.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
        commits[0] += 1
        if commits[0] % _PRUNE_EVERY == 0:
            session.execute(text("DELETE FROM change_log WHERE seq < (SELECT max(seq) FROM change_log) - :keep"),
                            {"keep": _KEEP})

    def _after_transaction_end(session, transaction):
        if transaction.parent is not None:
            return
        for info in session.info.pop(_LINKED, ()):
            info.pop(_SINK, None)
        session.info.pop(_KINDS, None)
        session.info.pop(_DATASETS, None)

    for factory in factories:
        event.listen(factory, "after_begin", _after_begin)
        event.listen(factory, "after_flush", _after_flush)
        event.listen(factory, "before_commit", _before_commit)
        event.listen(factory, "after_transaction_end", _after_transaction_end)


def _row_change(dataset_id, kinds: str, origin: str) -> Change:
    return Change(None if dataset_id is None else int(dataset_id), frozenset(kinds.split(",")), origin)


class LogReader:
    """Reads ``change_log`` rows committed since the last read, on a connection of its own.

    Thread-safe (one read at a time).  On SQLite a read first asks ``PRAGMA data_version``,
    which changes only when another connection committed: an idle catalog costs one pragma.
    """

    def __init__(self, engine: Engine):
        self._con = engine.raw_connection()
        self._sqlite = engine.dialect.name == "sqlite"
        self._lock = threading.Lock()
        self._version = None
        cur = self._con.cursor()
        try:
            cur.execute("SELECT coalesce(max(seq), 0) FROM change_log")
            self._last = int(cur.fetchone()[0])
            self._version = self._data_version(cur)
        finally:
            cur.close()
            self._end()

    def _data_version(self, cur):
        if not self._sqlite:
            return None
        cur.execute("PRAGMA data_version")
        return cur.fetchone()[0]

    def _end(self) -> None:
        if not self._sqlite:
            self._con.rollback()  # never idle in a transaction on the server

    def read(self) -> list[Change]:
        """The changes committed since the previous read, oldest first."""
        with self._lock:
            if self._con is None:
                return []
            cur = self._con.cursor()
            try:
                if self._sqlite:
                    v = self._data_version(cur)
                    if v == self._version:
                        return []
                    self._version = v
                ph = "?" if self._sqlite else "%s"
                cur.execute(f"SELECT seq, dataset_id, kinds, origin FROM change_log WHERE seq > {ph} "
                            "ORDER BY seq", (self._last,))
                rows = cur.fetchall()
            finally:
                cur.close()
                self._end()
            if rows:
                self._last = int(rows[-1][0])
            return [_row_change(d, k, o) for _s, d, k, o in rows]

    def close(self) -> None:
        """Give the connection back."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


class NotifyListener:
    """LISTENs on ``dsdesk_changes`` on a PostgreSQL connection of its own (psycopg 3).

    A daemon thread waits for notifications (waking every *wake* seconds to see whether it
    was closed) and queues them; :meth:`read` drains the queue without touching the server.
    Raises ``psycopg.OperationalError`` from the constructor when the server cannot be reached.
    """

    def __init__(self, url: str, wake: float = 0.25):
        import psycopg
        from psycopg.conninfo import make_conninfo

        u = make_url(url)
        params = {k: v for k, v in {"host": u.host, "port": u.port, "dbname": u.database,
                                    "user": u.username, "password": u.password}.items() if v is not None}
        params.update({k: v for k, v in u.query.items() if isinstance(v, str)})
        self._con = psycopg.connect(make_conninfo(**params), autocommit=True)
        self._con.execute(f"LISTEN {CHANNEL}")
        self._queue: queue.SimpleQueue[Change] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._wake = wake
        self.failed = False  # the connection dropped: the feed reports it, a new listener is needed
        self._thread = threading.Thread(target=self._listen, name="dsdesk-change-listener", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                for n in self._con.notifies(timeout=self._wake):
                    self._put(n.payload)
            except Exception:  # noqa: BLE001 - a dropped connection ends listening; the feed reports it
                self._stop.set()
                self.failed = True

    def _put(self, payload: str) -> None:
        try:
            p = json.loads(payload)
            for d in p["d"]:
                self._queue.put(_row_change(d, p["k"], p["o"]))
        except (ValueError, KeyError, TypeError):
            return  # not one of ours (someone else NOTIFYing on the channel)

    def read(self) -> list[Change]:
        """The changes notified since the previous read, oldest first."""
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Stop the thread and close the connection."""
        self._stop.set()
        self._thread.join(timeout=self._wake * 8)
        self._con.close()
