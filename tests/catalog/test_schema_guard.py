"""The schema guard: the same Alembic migrations create and upgrade a catalog on SQLite and on
PostgreSQL; a catalog upgraded by a newer dsdesk (a revision this one does not know) is never
written to, never downgraded, and can still be read when asked for read-only."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import dsdesk
from dsdesk.catalog import migrate
from dsdesk.catalog.engine import open_database
from dsdesk.catalog.models import Base, Project
from dsdesk.errors import CatalogError, ReadOnlyError, SchemaTooNewError
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture

FUTURE = "9999_future"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path, monkeypatch):
    """The URL of an empty database on each backend (a new PostgreSQL database per test)."""
    if request.param == "sqlite":
        yield str(tmp_path / "catalog.sqlite")
        return
    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
    server = request.getfixturevalue("pg_url")
    name = f"guard_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as con:
        con.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _stamp(url: str, revision: str) -> None:
    db = open_database(url, upgrade=False)
    with db.engine.begin() as con:
        con.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.close()


def _schema(url: str) -> tuple[str | None, dict[str, set[str]]]:
    db = open_database(url, upgrade=False)
    insp = inspect(db.engine)
    tables = {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}
    rev = migrate.current_revision(db)
    db.close()
    return rev, tables


def test_migrations_create_the_whole_schema_on_both_backends(fresh_url):
    cat = dsdesk.open_catalog(fresh_url)
    assert migrate.current_revision(cat.db) == migrate.head_revision()
    cat.close()
    _rev, tables = _schema(fresh_url)
    for table in Base.metadata.sorted_tables:
        assert table.name in tables, f"migrations are missing table {table.name} on {fresh_url.split(':')[0]}"
        missing = {c.name for c in table.columns} - tables[table.name]
        assert not missing, f"migrations are missing columns {missing} of {table.name}"


def test_migrations_upgrade_an_old_catalog_on_both_backends(fresh_url):
    db = open_database(fresh_url, upgrade=False)
    migrate.upgrade(db, "0001")
    with db.engine.begin() as con:  # plain SQL: the ORM's commit hooks know today's schema only
        con.execute(text("INSERT INTO project (name, description) VALUES ('kept', '')"))
    db.close()
    cat = dsdesk.open_catalog(fresh_url)
    assert migrate.current_revision(cat.db) == migrate.head_revision()
    assert [p.name for p in cat.projects.list()] == ["kept"]
    assert cat.projects.get("kept").datasets.create("d").items_count == 0
    cat.close()


def test_a_newer_schema_is_refused_with_both_revisions_named_and_nothing_written(fresh_url):
    dsdesk.open_catalog(fresh_url).close()
    _stamp(fresh_url, FUTURE)
    before = _schema(fresh_url)
    with pytest.raises(SchemaTooNewError) as e:
        dsdesk.open_catalog(fresh_url)
    msg = str(e.value)
    assert f"upgraded by a newer dsdesk (schema {FUTURE})" in msg
    assert f"this dsdesk knows up to {migrate.head_revision()}: upgrade dsdesk" in msg
    assert isinstance(e.value, CatalogError)  # what the window and the CLI already report
    assert _schema(fresh_url) == before  # never downgraded, nothing added


def test_a_newer_schema_can_be_read_but_every_write_is_refused(fresh_url):
    cat = dsdesk.open_catalog(fresh_url)
    cat.projects.create("p").datasets.create("d")
    cat.close()
    _stamp(fresh_url, FUTURE)
    before = _schema(fresh_url)

    ro = dsdesk.open_catalog(fresh_url, read_only=True)
    try:
        assert [p.name for p in ro.projects.list()] == ["p"]
        assert [d.name for d in ro.projects.get("p").datasets.list()] == ["d"]
        assert FUTURE in ro.db.read_only
        with pytest.raises(SchemaTooNewError, match="newer dsdesk .*upgrade dsdesk"):
            ro.projects.create("q")
        with pytest.raises(SchemaTooNewError):
            ro.projects.get("p").datasets.create("e")
    finally:
        ro.close()
    assert _schema(fresh_url) == before
    check = open_database(fresh_url, upgrade=False)
    with check.session() as s:
        assert [p.name for p in s.query(Project)] == ["p"]
    check.close()


def test_the_database_itself_refuses_writes_on_a_read_only_open(fresh_url):
    """Below the statement guard: SQLite's query_only / PostgreSQL's read-only transactions."""
    dsdesk.open_catalog(fresh_url).close()
    db = open_database(fresh_url, read_only=True)
    assert db.read_only == "this catalog was opened read-only"
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        with pytest.raises(Exception, match="(?i)read.only|readonly|attempt to write"):
            cur.execute("INSERT INTO project (name, description) VALUES ('x', '')")
    finally:
        raw.close()
        db.close()
    with pytest.raises(ReadOnlyError, match="opened read-only"):
        with open_database(fresh_url, read_only=True).session() as s:
            s.add(Project(name="y"))


def test_read_only_never_creates_or_upgrades(tmp_path):
    with pytest.raises(CatalogError, match="no catalog at"):
        open_database(tmp_path / "none.sqlite", read_only=True)
    assert not (tmp_path / "none.sqlite").exists()
    db = open_database(tmp_path / "old.sqlite", upgrade=False)
    migrate.upgrade(db, "0001")
    db.close()
    with pytest.raises(CatalogError, match="older than this dsdesk's .*open it for writing once"):
        open_database(tmp_path / "old.sqlite", read_only=True)
    db = open_database(tmp_path / "old.sqlite", upgrade=False)
    assert migrate.current_revision(db) == "0001"
    db.close()


def test_a_client_stops_writing_when_another_upgrades_the_catalog_meanwhile(fresh_url, monkeypatch):
    from dsdesk.catalog import engine

    cat = dsdesk.open_catalog(fresh_url)
    try:
        cat.projects.create("before")
        _stamp(fresh_url, FUTURE)  # a newer dsdesk, elsewhere, upgraded the schema
        monkeypatch.setattr(engine, "SCHEMA_CHECK_SECONDS", 0.0)
        cat.db._next_schema_check = 0.0  # the next look is due now
        with pytest.raises(SchemaTooNewError, match=f"schema {FUTURE}.*upgrade dsdesk"):
            cat.projects.create("after")
        assert [p.name for p in cat.projects.list()] == ["before"]  # reading goes on
        with pytest.raises(SchemaTooNewError):
            with cat.db.session() as s:
                s.add(Project(name="raw"))
    finally:
        cat.close()
    rev, _tables = _schema(fresh_url)
    assert rev == FUTURE
