"""Where a catalog is, as the "Open catalog" dialog and the CLI describe it (no Qt here).

A catalog is a local SQLite file or a PostgreSQL server (host, port, database, user, an
optional SSL mode).  Its *location* is the URL without any password: that is what goes into
settings, the recent list, window titles and messages.  The password comes, in this order,
from what the caller holds in memory (a prompt), the OS keyring (``keyring``; saved only
when the user asks), or libpq's ``~/.pgpass``, which libpq reads by itself when no password
is given, so dsdesk never sees or stores it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from dsdesk.errors import CatalogError, InvalidInputError

#: The keyring service dsdesk's catalog passwords are saved under.
KEYRING_SERVICE = "dsdesk-catalog"
#: libpq's SSL modes (``sslmode=``), weakest first.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_PORT = 5432


@dataclass(frozen=True)
class ServerLocation:
    """A PostgreSQL catalog's address: never a password (so ``repr`` cannot leak one)."""

    host: str
    database: str
    user: str = ""
    port: int = DEFAULT_PORT
    sslmode: str = ""

    def url(self) -> str:
        """The SQLAlchemy URL of this server catalog (psycopg driver, no password)."""
        return server_url(self.host, self.port, self.database, self.user, self.sslmode)


def server_url(host: str, port: int | str | None, database: str, user: str = "", sslmode: str = "") -> str:
    """The URL of the PostgreSQL catalog at *host*:*port*/*database* as *user*, without a
    password.  InvalidInputError, naming the field, for a missing host or database, a port
    that is not a number from 1 to 65535 or an unknown SSL mode."""
    host, database, user, sslmode = (host or "").strip(), (database or "").strip(), (user or "").strip(), \
        (sslmode or "").strip()
    if not host:
        raise InvalidInputError("the server's host name is missing")
    if not database:
        raise InvalidInputError("the database name is missing")
    try:
        port_no = int(port) if port not in (None, "") else DEFAULT_PORT
    except (TypeError, ValueError):
        raise InvalidInputError(f"the port must be a number, not {port!r}") from None
    if not 0 < port_no < 65536:
        raise InvalidInputError(f"the port must be between 1 and 65535, not {port_no}")
    if sslmode and sslmode not in SSL_MODES:
        raise InvalidInputError(f"unknown SSL mode {sslmode!r}; expected one of {', '.join(SSL_MODES)}")
    query = {"sslmode": sslmode} if sslmode else {}
    if host.startswith("/"):  # a Unix socket folder: libpq takes it as the host parameter
        query["host"] = host
        host = ""
    u = URL.create("postgresql+psycopg", username=user or None, host=host or None,
                   port=None if query.get("host") else port_no, database=database, query=query)
    if "host" in query:
        u = u.update_query_dict({"port": str(port_no)})
    return u.render_as_string(hide_password=False)


def parse_server_url(url: str) -> ServerLocation:
    """The fields of a PostgreSQL catalog URL (for the dialog to show); a password in it is
    dropped.  InvalidInputError for anything that is not a PostgreSQL URL with a database."""
    u = _url(url)
    if u.get_backend_name() != "postgresql":
        raise InvalidInputError(f"not a PostgreSQL catalog URL: {location(url)!r}")
    if not u.database:
        raise InvalidInputError(f"the catalog URL names no database: {location(url)!r}")
    host = u.host or str(u.query.get("host") or "")
    port = u.port or int(u.query.get("port") or DEFAULT_PORT)
    return ServerLocation(host=host, database=u.database, user=u.username or "", port=port,
                          sslmode=str(u.query.get("sslmode") or ""))


def is_server(target: str | os.PathLike) -> bool:
    """True when *target* is a server URL (not a file path or a SQLite URL)."""
    s = os.fspath(target)
    if "://" not in s:
        return False
    try:
        return make_url(s).get_backend_name() != "sqlite"
    except (ArgumentError, ValueError):
        return False


def location(target: str | os.PathLike) -> str:
    """*target* as it may be stored and shown: a file path as is, a URL without its password."""
    s = os.fspath(target)
    if "://" not in s:
        return s
    try:
        u = make_url(s)
    except (ArgumentError, ValueError):
        return s.split("@")[-1] if "@" in s else s  # unparseable: keep nothing before an '@'
    # URL.set(password=None) keeps the password (None means "unchanged" there).
    return u._replace(password=None).render_as_string(hide_password=False)


def with_password(url: str, password: str | None) -> str:
    """*url* with *password* in it, to open it in this process only: never store or show it."""
    if not password:
        return url
    return _url(url).set(password=password).render_as_string(hide_password=False)


def has_password(url: str) -> bool:
    """True when the URL carries a password."""
    try:
        return bool(make_url(url).password)
    except (ArgumentError, ValueError):
        return False


# ---- the OS keyring ------------------------------------------------------------------

def keyring_account(url: str) -> str:
    """The keyring user name a server catalog's password is saved under: its location
    (user, host, port, database) without the password or the driver."""
    s = parse_server_url(url)
    return f"{s.user or ''}@{s.host}:{s.port}/{s.database}"


def keyring_password(url: str) -> str | None:
    """The password remembered in the OS keyring for the server catalog *url*, or None (also
    when no keyring is usable on this machine)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_keyring().get_password(KEYRING_SERVICE, keyring_account(url))
    except (KeyringError, RuntimeError):
        return None


def save_password(url: str, password: str) -> None:
    """Remember *password* for the server catalog *url* in the OS keyring.  CatalogError
    when there is no usable keyring (the message says so; the password is not in it)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.get_keyring().set_password(KEYRING_SERVICE, keyring_account(url), password)
    except (KeyringError, RuntimeError) as e:
        raise CatalogError(f"cannot save the password in the OS keyring: {type(e).__name__}") from None


def forget_password(url: str) -> bool:
    """Remove the keyring's password for *url*; False when there was none."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.get_keyring().delete_password(KEYRING_SERVICE, keyring_account(url))
        return True
    except (PasswordDeleteError, KeyringError, RuntimeError):
        return False


def with_keyring_password(target):
    """*target* to open: a server URL that has no password gets the keyring's (when it holds
    one); anything else is returned unchanged (libpq then tries ``~/.pgpass``)."""
    if target is None or not is_server(target) or has_password(os.fspath(target)):
        return target
    try:
        pw = keyring_password(os.fspath(target))
    except InvalidInputError:
        return target
    return with_password(os.fspath(target), pw)


# ---- checking a server ---------------------------------------------------------------

@dataclass(frozen=True)
class ConnectionCheck:
    """What "Test connection" found: the server's version and what the database holds."""

    server_version: str
    catalog: str  # "dsdesk catalog", "empty database" or "not a dsdesk catalog"
    schema: str | None  # the catalog's schema revision
    schema_too_new: bool

    def summary(self) -> str:
        """One line for the dialog."""
        if self.catalog == "empty database":
            what = "an empty database: opening it creates a new catalog"
        elif self.catalog == "dsdesk catalog":
            what = f"a dsdesk catalog (schema {self.schema})"
            if self.schema_too_new:
                what += ", upgraded by a newer dsdesk: this one can only read it"
        else:
            what = "a database that is not a dsdesk catalog"
        return f"Connected to PostgreSQL {self.server_version}: {what}."


def check_connection(url: str, timeout: float = 5) -> ConnectionCheck:
    """Connect to the server catalog *url* once and say what is there, writing nothing.

    CatalogAuthError when the password is refused or missing, CatalogError for any other
    failure (unreachable server, unknown database); messages never contain the password.
    """
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from dsdesk.catalog import migrate
    from dsdesk.catalog.engine import catalog_open_error

    u = _url(url)
    if u.get_backend_name() != "postgresql":
        raise InvalidInputError(f"not a PostgreSQL catalog URL: {location(url)!r}")
    engine = create_engine(u, poolclass=NullPool, connect_args={"connect_timeout": max(1, int(timeout))})
    try:
        with engine.connect() as con:
            version = str(con.execute(text("SHOW server_version")).scalar()).split()[0]
            tables = set(inspect(con).get_table_names())
            revision = None
            if "alembic_version" in tables:
                revision = con.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as e:
        raise catalog_open_error(u, e) from None
    finally:
        engine.dispose()
    if not tables:
        kind = "empty database"
    elif "alembic_version" in tables and {"project", "item", "blob"} <= tables:
        kind = "dsdesk catalog"
    else:
        kind = "not a dsdesk catalog"
    return ConnectionCheck(version, kind, revision, migrate.is_too_new(revision))


def prepare_server(url: str, password: str | None = None, *, remember: bool = False,
                   internal_store: dict | None = None, for_open: bool = True):
    """Check the server catalog *url* (no password in it) before opening it, writing nothing
    to the database: the password is *password* (typed by the user) or the keyring's (else
    libpq's ``~/.pgpass``).  Returns ``(ConnectionCheck, the URL to open with the password in
    it, the checked internal store location or None)``; saves a typed *password* in the
    keyring when *remember* and the server took it.

    CatalogAuthError for a refused or missing password; with *for_open*, CatalogError for
    a database that holds something else than a dsdesk catalog, SchemaTooNewError for a
    catalog a newer dsdesk upgraded, CatalogError when *internal_store* is given for a
    catalog that exists already; StorageError when that bucket is not usable.
    """
    from dsdesk.api import internal_store as stores
    from dsdesk.catalog.migrate import too_new_message
    from dsdesk.errors import SchemaTooNewError

    full = with_password(url, password or keyring_password(url))
    found = check_connection(full)
    store = None
    if for_open:
        if found.catalog == "not a dsdesk catalog":
            raise CatalogError(f"{describe(url)} holds tables that are not a dsdesk catalog's")
        if found.schema_too_new:
            raise SchemaTooNewError(too_new_message(found.schema))
        if internal_store is not None:
            if found.catalog != "empty database":
                raise CatalogError("this catalog exists already: its internal store was chosen when it was "
                                   "created (untick the bucket to open it)")
            store = stores.checked_location(internal_store, must_be_empty=True)
    if remember and password:
        save_password(url, password)
    return found, full, store


# ---- the recent list -----------------------------------------------------------------

#: How many catalogs the recent list keeps.
RECENT_MAX = 8


def remember_recent(recent: list[str], target: str | os.PathLike) -> list[str]:
    """The recent list with *target* first (as its :func:`location`: never a password), no
    duplicates, at most :data:`RECENT_MAX` long; entries saved with a password by an older
    dsdesk lose it."""
    first = location(target)
    out = [first] + [r for r in (location(x) for x in recent) if r != first]
    return list(dict.fromkeys(out))[:RECENT_MAX]


def forget_recent(recent: list[str], target: str | os.PathLike) -> list[str]:
    """The recent list without *target*."""
    gone = location(target)
    return [r for r in (location(x) for x in recent) if r != gone]


def describe(target: str | os.PathLike) -> str:
    """How the recent list names a catalog: ``name.sqlite — /folder`` for a file, ``user@host:port/db``
    for a server."""
    s = location(target)
    if is_server(s):
        try:
            loc = parse_server_url(s)
        except InvalidInputError:
            return s
        user = f"{loc.user}@" if loc.user else ""
        return f"{user}{loc.host}:{loc.port}/{loc.database}"
    path = Path(make_url(s).database or s) if s.startswith("sqlite:") else Path(s)
    return f"{path.name} — {path.parent}"


def _url(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as e:
        raise InvalidInputError(f"not a catalog URL: {location(url)!r} ({type(e).__name__})") from None
