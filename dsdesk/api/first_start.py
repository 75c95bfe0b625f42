"""Which catalog the window opens at start, and the welcome screen's choices (no Qt here).

On a machine where dsdesk never ran there is no catalog yet: the window then shows the
welcome screen instead of failing or silently creating an empty catalog.  The choices it
offers (the demo, a new catalog file, a team's PostgreSQL catalog, a recent one) are
checked and carried out here, so the CLI and tests use the same rules as the window.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dsdesk.api import catalog_locations
from dsdesk.catalog.engine import ENV_CATALOG, default_catalog_path, user_data_dir
from dsdesk.errors import InvalidInputError

#: How many catalogs "Open recent" remembers.
RECENT_MAX = catalog_locations.RECENT_MAX
#: Images in the demo the welcome screen builds (the CLI's ``dsdesk demo`` default too).
DEMO_IMAGES = 240


def demo_catalog_path() -> Path:
    """Where the welcome screen's demo catalog lives (beside the default catalog, never it)."""
    return user_data_dir() / "demo" / "catalog.sqlite"


def catalog_exists(target: str | os.PathLike) -> bool:
    """True when *target* names a catalog that is there to open: an existing SQLite file, or
    a server URL (whether the server answers is for opening it to tell)."""
    s = os.fspath(target)
    if "://" not in s:
        return Path(s).expanduser().is_file()
    try:
        u = make_url(s)
    except (ArgumentError, ValueError):
        return False
    if u.get_backend_name() == "sqlite":
        return bool(u.database) and Path(u.database).is_file()
    return True


def startup_catalog(explicit: str | None = None, default: str | None = None, last: str | None = None) -> str | None:
    """The catalog the window opens, or None for the welcome screen.

    In order: *explicit* (``--catalog``; created when missing, as the CLI always did),
    ``$DSDESK_CATALOG`` (likewise), the preferences' *default* catalog and the *last* one used
    when they still exist, then the default catalog file when it exists.
    """
    for chosen in (explicit, os.environ.get(ENV_CATALOG)):
        if chosen:
            return os.fspath(chosen)
    for remembered in (default, last):
        if remembered and catalog_exists(remembered):
            return remembered
    path = default_catalog_path()
    return str(path) if path.is_file() else None


def team_catalog_url(text: str) -> str:
    """The SQLAlchemy URL of a team catalog typed by the user (``postgresql://user@host/db``).

    The psycopg driver is filled in when the URL names none.  InvalidInputError, naming what
    is wrong, for anything that is not a PostgreSQL URL with a host and a database.
    """
    s = (text or "").strip()
    if not s:
        raise InvalidInputError("no team catalog URL given (e.g. postgresql://user@host/dsdesk)")
    try:
        u = make_url(s)
    except (ArgumentError, ValueError) as e:
        raise InvalidInputError(f"not a database URL: {s!r} (e.g. postgresql://user@host/dsdesk)") from e
    if u.get_backend_name() != "postgresql":
        raise InvalidInputError(f"a team catalog is a PostgreSQL URL (postgresql://...), not {u.get_backend_name()!r}")
    if not u.host:
        raise InvalidInputError(f"the team catalog URL names no server: {s!r}")
    if not u.database:
        raise InvalidInputError(f"the team catalog URL names no database: {s!r}")
    if u.get_driver_name() in ("", "psycopg2") and "+" not in u.drivername:
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def new_catalog_path(path: str | os.PathLike) -> str:
    """The file a new catalog goes to, ``.sqlite`` added when the name has no suffix.

    InvalidInputError for a folder, a folder that does not exist, or an existing file (open it
    with "Open recent" or ``--catalog``; creating never overwrites).
    """
    p = Path(path).expanduser()
    if not p.suffix:
        p = p.with_suffix(".sqlite")
    if p.is_dir():
        raise InvalidInputError(f"a catalog is a file, and {p} is a folder")
    if not p.parent.is_dir():
        raise InvalidInputError(f"the folder {p.parent} does not exist")
    if p.exists():
        raise InvalidInputError(f"{p} already exists: open it instead of creating it")
    return str(p.resolve())


def build_demo_catalog(n_images: int = DEMO_IMAGES, on_event: Callable | None = None) -> str:
    """Build (or find, when it was built before) the demo catalog; returns its path.

    Seconds of work (real images are drawn and uploaded): call it off the GUI thread.
    """
    from dsdesk.api.catalog import Catalog
    from dsdesk.demo import build_demo

    path = demo_catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with Catalog.open(path) as cat:
        build_demo(cat, n_images=n_images, on_event=on_event)
    return str(path)


def remember_recent(recent: Iterable[str], target: str) -> list[str]:
    """*recent* with *target* first and no duplicates, at most :data:`RECENT_MAX` long; a
    server URL is remembered without its password."""
    return catalog_locations.remember_recent(list(recent), target)


def display_name(target: str) -> str:
    """How a catalog is named to the user: the file's path, or the URL without its password."""
    if "://" not in target:
        return target
    try:
        u = make_url(target)
    except (ArgumentError, ValueError):
        return target
    if u.get_backend_name() == "sqlite":
        return u.database or target
    return u.render_as_string(hide_password=True)
