"""Schema migrations through Alembic, run when a catalog is opened.

Opening checks the stored revision first with one query, so an up-to-date catalog pays
nothing for Alembic; an older one is upgraded in place, inside a transaction.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from dsdesk.errors import CatalogError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(db) -> Config:
    """An Alembic Config bound to *db*'s engine (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["engine"] = db.engine
    return cfg


def head_revision() -> str:
    """The newest revision this version of dsdesk knows."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(db) -> str | None:
    """The revision stamped in the catalog, or None for an empty database."""
    with db.engine.connect() as con:
        if "alembic_version" not in inspect(con).get_table_names():
            return None
        return con.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db, revision: str = "head") -> None:
    """Bring *db* to *revision*; refuses a catalog made by a newer dsdesk."""
    cur = current_revision(db)
    head = head_revision()
    if revision == "head" and cur == head:
        return
    cfg = alembic_config(db)
    if cur is not None:
        known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
        if cur not in known:
            raise CatalogError(f"this catalog was written by a newer dsdesk (schema revision {cur}); "
                               "upgrade dsdesk to open it")
    try:
        command.upgrade(cfg, revision)
    except SQLAlchemyError as e:
        raise CatalogError(f"could not upgrade the catalog schema: {e}") from e
