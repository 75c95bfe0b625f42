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

from dsdesk.errors import CatalogError, SchemaTooNewError

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


def known_revisions() -> set[str]:
    """Every revision this version of dsdesk knows (the head and all before it)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}


def too_new_message(revision: str) -> str:
    """What a user is told when the catalog's schema *revision* is one this dsdesk does not know."""
    return (f"this catalog was upgraded by a newer dsdesk (schema {revision}); "
            f"this dsdesk knows up to {head_revision()}: upgrade dsdesk")


def is_too_new(revision: str | None) -> bool:
    """True when the stamped *revision* was written by a newer dsdesk (one this one does not know)."""
    return revision is not None and revision not in known_revisions()


def current_revision(db) -> str | None:
    """The revision stamped in the catalog, or None for an empty database."""
    with db.engine.connect() as con:
        if "alembic_version" not in inspect(con).get_table_names():
            return None
        return con.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db, revision: str = "head") -> None:
    """Bring *db* to *revision*, never down: SchemaTooNewError for a catalog whose schema a
    newer dsdesk wrote (its revision is not one this dsdesk knows); nothing is written then."""
    cur = current_revision(db)
    head = head_revision()
    if revision == "head" and cur == head:
        return
    if is_too_new(cur):
        raise SchemaTooNewError(too_new_message(cur))
    cfg = alembic_config(db)
    try:
        command.upgrade(cfg, revision)
    except SQLAlchemyError as e:
        raise CatalogError(f"could not upgrade the catalog schema: {e}") from e
