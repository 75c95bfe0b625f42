"""Opening a catalog: URL resolution, engine set-up, migrations, sessions.

The catalog URL is the switch between one person and a team: a SQLite file (the default,
in the user data directory) or ``postgresql+psycopg://...``.  :func:`open_database`
validates what it is given, upgrades the schema through Alembic, and returns a
:class:`Database` whose :meth:`Database.session` is what every layer uses.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dsdesk.catalog import changes, pg_analyze, write_lock
from dsdesk.catalog.checkpoint import WAL_KEEP_BYTES, Checkpointer
from dsdesk.errors import CatalogAuthError, CatalogError, ReadOnlyError, SchemaTooNewError

ENV_CATALOG = "DSDESK_CATALOG"
ENV_DATA_DIR = "DSDESK_DATA_DIR"
_OUR_TABLES = {"project", "dataset", "item", "blob", "driver"}


def user_data_dir() -> Path:
    """The directory dsdesk keeps its default catalog, blobs and caches in."""
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env) if env else platformdirs.user_data_path("dsdesk", appauthor=False)


def default_catalog_path() -> Path:
    """Where the default SQLite catalog lives."""
    return user_data_dir() / "catalog.sqlite"


def resolve_url(path_or_url: str | os.PathLike | None) -> str:
    """Turn a path, a URL, ``$DSDESK_CATALOG`` or nothing into an SQLAlchemy URL string."""
    if path_or_url is None:
        path_or_url = os.environ.get(ENV_CATALOG) or default_catalog_path()
    s = os.fspath(path_or_url)
    if "://" in s:
        try:
            make_url(s)
        except (ArgumentError, ValueError) as e:
            raise CatalogError(f"not a catalog URL: {s!r} ({e})") from e
        return s
    return "sqlite:///" + str(Path(s).expanduser().resolve())


def _check_sqlite_file(path: Path) -> None:
    """Refuse, with a message that names the file, anything that is not a usable catalog."""
    if path.is_dir():
        raise CatalogError(f"catalog path is a directory, not a file: {path}")
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CatalogError(f"cannot create the catalog's folder {path.parent}: {e}") from e
        if not os.access(path.parent, os.W_OK):
            raise CatalogError(f"cannot create a catalog in {path.parent}: permission denied")
        return
    if not os.access(path, os.R_OK):
        raise CatalogError(f"cannot read the catalog file {path}: permission denied")
    if path.stat().st_size == 0:
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise CatalogError(f"{path} is not a dsdesk catalog (not an SQLite database: {e})") from e
    if names and not (_OUR_TABLES <= names or names == {"alembic_version"}):
        raise CatalogError(f"{path} is an SQLite database but not a dsdesk catalog "
                           f"(it has tables {sorted(names)[:5]}...)")


CACHE_KIB = 64 * 1024  # an ordinary connection's page cache
BULK_CACHE_KIB = 256 * 1024  # while a bulk write holds the connection (see bulk_cache)
_BULK = "dsdesk_bulk_cache"


def bulk_cache(session: Session) -> None:
    """Give the session's SQLite connection a large page cache until it goes back to the pool.

    A million-row ingest or clone inserts into indexes larger than the ordinary cache (the
    blob key index takes keys at random places); with the pages in memory it runs 5-10 %
    faster.  The pool's check-in shrinks the cache again, after the commit, which frees the
    memory.  No-op on other databases.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    con = session.connection()
    con.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    con.info[_BULK] = True


def _sqlite_checkin(dbapi_con, record) -> None:
    if dbapi_con is not None and record.info.pop(_BULK, False):
        dbapi_con.execute(f"PRAGMA cache_size=-{CACHE_KIB}")


def _sqlite_pragmas(dbapi_con, _record) -> None:
    # WAL lets the GUI read while a job writes; NORMAL is durable across app crashes in WAL;
    # the busy timeout turns "database is locked" into a short wait between our own threads.
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # No checkpoint on the committing thread: dsdesk.catalog.checkpoint runs them in the background.
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")  # a big import's log does not stay big
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cur.execute("PRAGMA mmap_size=268435456")
    cur.close()


def _sqlite_begin(conn) -> None:
    # pysqlite's own implicit transactions break SAVEPOINT and transactional DDL; we emit
    # BEGIN ourselves (SQLAlchemy docs, "pysqlite: serializable isolation / savepoints").
    # Readers use DEFERRED so the GUI never queues behind a long write job; writers use
    # IMMEDIATE, because a deferred transaction that read first cannot take the write lock
    # once another connection committed meanwhile (SQLITE_BUSY at once, no busy wait).
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    if mode == "IMMEDIATE":  # polled every millisecond, not by SQLite's backing-off busy handler
        write_lock.begin_immediate(conn.connection.dbapi_connection)
        return
    conn.exec_driver_sql(f"BEGIN {mode}")


def create_catalog_engine(url: str, read_only: bool = False) -> Engine:
    """Create the engine for *url* with dsdesk's connection settings; *read_only* makes the
    database itself refuse writes (SQLite ``query_only``, PostgreSQL read-only transactions)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sync_engine = engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(sync_engine, "connect")
        def _no_autobegin(dbapi_con, _rec):
            dbapi_con.isolation_level = None

        event.listen(sync_engine, "begin", _sqlite_begin)
        event.listen(sync_engine.pool, "checkin", _sqlite_checkin)
        if read_only:
            event.listen(sync_engine, "connect", _sqlite_query_only)
        return engine
    connect_args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args)


def _sqlite_query_only(dbapi_con, _record) -> None:
    dbapi_con.execute("PRAGMA query_only=ON")


# The first word of the statements that change a database (SQLite's PRAGMAs that write are
# refused by query_only, PostgreSQL's by the read-only transaction).
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY",
                     "MERGE", "GRANT", "REVOKE", "VACUUM", "REINDEX"})


def guard_writes(engine: Engine, reason: str, error: type[Exception]) -> None:
    """Make every writing statement on *engine* raise *error*(*reason*) before it reaches the
    database: the message a user can act on, where the database would only say "read-only"."""

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(_conn, _cursor, statement, _params, _context, _many):
        words = statement.lstrip().split(None, 2)
        first = words[0].upper() if words else ""
        # BEGIN IMMEDIATE is how a SQLite write session starts (see _sqlite_begin).
        if first in _WRITES or (first == "BEGIN" and len(words) > 1 and words[1].upper() in ("IMMEDIATE", "EXCLUSIVE")):
            raise error(reason)


#: How often an open catalog looks whether a newer dsdesk upgraded its schema meanwhile.
SCHEMA_CHECK_SECONDS = 10.0


class Database:
    """An open catalog: the engine, a session factory and where its internal blobs live.

    Thread-safe: share one Database between threads; open one Session per thread or job.
    """

    def __init__(self, url: str, engine: Engine, blob_root: Path, cache_root: Path,
                 sqlite_path: Path | None = None):
        self.url = url
        self.engine = engine
        self.blob_root = blob_root
        self.cache_root = cache_root
        self.checkpointer = Checkpointer(sqlite_path) if sqlite_path is not None else None
        #: Why writes are refused (see :func:`open_database`'s *read_only*), or None.
        self.read_only: str | None = None
        self._read_only_error: type[Exception] = ReadOnlyError
        self._next_schema_check = time.monotonic() + SCHEMA_CHECK_SECONDS  # opening checked it
        self._factory = sessionmaker(engine, expire_on_commit=False)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
        self._write_factory = sessionmaker(writer, expire_on_commit=False)
        #: This open catalog's name in the change feed (``dsdesk.catalog.changes``).
        self.change_origin = changes.new_origin()
        changes.install(engine, (self._factory, self._write_factory), self.change_origin)
        self.analyzer = pg_analyze.install(engine)  # PostgreSQL: statistics after bulk writes
        if self.checkpointer is not None:
            # Every session's commit, not only those of session(): automatic checkpoints are
            # off on every connection, so a commit path that forgot this let the log grow
            # without bound (a 1M-key sync, committing page by page through its own
            # sessions, left a 636 MB log and an empty main file).
            for factory in (self._factory, self._write_factory):
                event.listen(factory, "after_commit", self._after_commit)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def new_session(self, write: bool = False) -> Session:
        """A new ORM session; the caller closes it.  *write* as in :meth:`session`: on SQLite
        the transaction takes the write lock up front, so a session that reads and then
        writes never finds the lock lost to a commit in between."""
        self.watch_schema()
        if write and self.read_only is not None:
            raise self._read_only_error(self.read_only)
        return (self._write_factory if write else self._factory)()

    def watch_schema(self) -> None:
        """Every :data:`SCHEMA_CHECK_SECONDS` at most: when a newer dsdesk upgraded the catalog
        since it was opened (another client, on a team catalog), stop writing to it: every
        write then raises SchemaTooNewError; reads go on.  One one-row query; called by
        :meth:`session` and :meth:`new_session`."""
        now = time.monotonic()
        if self.read_only is not None or now < self._next_schema_check:
            return
        self._next_schema_check = now + SCHEMA_CHECK_SECONDS
        from dsdesk.catalog import migrate

        try:
            with self.engine.connect() as con:
                revision = con.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DatabaseError:
            return  # no stamp yet (a catalog being created): nothing to compare
        if migrate.is_too_new(revision):
            reason = migrate.too_new_message(revision)
            guard_writes(self.engine, reason, SchemaTooNewError)
            self.read_only, self._read_only_error = reason, SchemaTooNewError

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        Pass ``write=True`` when the transaction reads and then writes: on SQLite it then
        takes the write lock up front (waiting for other writers) instead of failing later.
        """
        self.watch_schema()
        if write and self.read_only is not None:
            # Before a write session takes SQLite's write lock (write_lock.begin_immediate
            # runs below the statement guard, and the read-only database would refuse it
            # with a bare "attempt to write a readonly database").
            raise self._read_only_error(self.read_only)
        s = (self._write_factory if write else self._factory)()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @property
    def internal_store_config(self) -> dict | None:
        """Where this catalog's internal binaries live, as recorded at its creation
        (:data:`dsdesk.catalog.catalog_settings.INTERNAL_STORE`), or None for the folder
        beside the catalog (:attr:`blob_root`).  Read once, then cached."""
        if not hasattr(self, "_internal_store"):
            from dsdesk.catalog import catalog_settings

            with self.engine.connect() as con:
                present = inspect(con).has_table("catalog_setting")
            self._internal_store = (catalog_settings.read_setting(self, catalog_settings.INTERNAL_STORE)
                                    if present else None)
        return self._internal_store

    @internal_store_config.setter
    def internal_store_config(self, value: dict | None) -> None:
        self._internal_store = value

    def _after_commit(self, _session: Session) -> None:
        self.checkpointer.after_commit()

    def close(self) -> None:
        """Let a running checkpoint finish, then release every pooled connection."""
        if self.checkpointer is not None:
            self.checkpointer.wait()
        if self.analyzer is not None:
            self.analyzer.wait()
        self.engine.dispose()


def open_database(path_or_url=None, *, upgrade: bool = True, read_only: bool = False) -> Database:
    """Open (creating if needed) the catalog at *path_or_url* and bring its schema up to date.

    Raises CatalogError when the target is unreadable, is not a dsdesk catalog, or the
    server cannot be reached; SchemaTooNewError (writing nothing) when a newer dsdesk
    upgraded its schema.  With *read_only* nothing is created or upgraded and every write
    raises (SchemaTooNewError on such a newer catalog, which can still be read this way,
    ReadOnlyError otherwise); :attr:`Database.read_only` says why.
    """
    from dsdesk.catalog import migrate  # local: alembic is only needed when opening

    url = resolve_url(path_or_url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if not u.database or u.database == ":memory:":
            raise CatalogError("an in-memory catalog is not supported; give a file path")
        db_path = Path(u.database)
        if read_only and not db_path.is_file():
            raise CatalogError(f"no catalog at {db_path} to open read-only")
        _check_sqlite_file(db_path)
        blob_root = db_path.parent / (db_path.stem + ".blobs")
        cache_root = db_path.parent / (db_path.stem + ".cache")
    else:
        data = user_data_dir()
        tag = f"{u.host or 'local'}-{u.port or ''}-{u.database or ''}".replace("/", "_")
        blob_root = Path(os.environ.get("DSDESK_BLOB_ROOT") or data / "blobs" / tag)
        cache_root = data / "cache" / tag
    engine = create_catalog_engine(url, read_only=read_only)
    try:
        with engine.connect() as con:
            con.execute(text("SELECT 1"))
            if u.get_backend_name() != "sqlite":
                names = set(inspect(con).get_table_names())
                if names and "alembic_version" not in names and not _OUR_TABLES <= names:
                    raise CatalogError(f"{u.render_as_string(hide_password=True)} is not a dsdesk catalog")
    except (OperationalError, DatabaseError) as e:
        engine.dispose()
        raise catalog_open_error(u, e) from e
    sqlite_path = db_path if u.get_backend_name() == "sqlite" and not read_only else None
    db = Database(url, engine, blob_root, cache_root, sqlite_path)
    if read_only:
        _guard_read_only(db)
    elif upgrade:
        try:
            migrate.upgrade(db)
        except CatalogError:
            engine.dispose()
            raise
    return db


# libpq's words for "wrong password" and "a password is needed" (fe-auth.c, auth.c).
_AUTH_FAILURES = ("password authentication failed", "no password supplied", "password is required")


def catalog_open_error(u, e: DatabaseError) -> CatalogError:
    """The CatalogError for a failed first connection: CatalogAuthError when the password was
    refused or missing; the password itself never appears in the message."""
    detail = str(e.orig).strip()
    if u.password:
        detail = detail.replace(str(u.password), "***")
    where = u.render_as_string(hide_password=True)
    if any(w in detail for w in _AUTH_FAILURES):
        why = ("no password was given (type it, or keep it in the OS keyring or ~/.pgpass)"
               if "no password supplied" in detail else "wrong password or user")
        return CatalogAuthError(f"the server of {where} refused the password for user "
                                f"{u.username or '(default)'}: {why}")
    return CatalogError(f"cannot open catalog {where}: {detail}")


def _guard_read_only(db: Database) -> None:
    """Refuse every write on *db*, saying why; CatalogError when it cannot be read as it is."""
    from dsdesk.catalog import migrate

    try:
        cur = migrate.current_revision(db)
    except (OperationalError, DatabaseError) as e:
        db.engine.dispose()
        raise CatalogError(f"cannot read the catalog's schema revision: {e.orig}") from e
    if migrate.is_too_new(cur):
        reason, error = migrate.too_new_message(cur), SchemaTooNewError
    elif cur == migrate.head_revision():
        reason, error = "this catalog was opened read-only", ReadOnlyError
    else:
        db.engine.dispose()
        raise CatalogError("this catalog has no dsdesk schema yet" if cur is None else
                           f"this catalog's schema ({cur}) is older than this dsdesk's "
                           f"({migrate.head_revision()}): open it for writing once to upgrade it")
    db.read_only, db._read_only_error = reason, error
    guard_writes(db.engine, reason, error)
