"""The schema goes through Alembic: a catalog made by the first revision opens after upgrades."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import inspect, select

import dsdesk
from dsdesk.catalog import migrate
from dsdesk.catalog.engine import open_database
from dsdesk.catalog.models import Base, Project


def test_first_revision_catalog_upgrades_to_head_and_keeps_data(tmp_path):
    path = tmp_path / "old.sqlite"
    db = open_database(path, upgrade=False)
    migrate.upgrade(db, "0001")
    assert migrate.current_revision(db) == "0001"
    with db.session() as s:
        s.add(Project(name="kept"))
    db.close()

    cat = dsdesk.open_catalog(path)  # opening upgrades
    assert migrate.current_revision(cat.db) == migrate.head_revision()
    assert [p.name for p in cat.projects.list()] == ["kept"]
    # The upgraded catalog works for real: the kept project takes a dataset and an item.
    ds = cat.projects.get("kept").datasets.create("d")
    assert ds.items_count == 0
    cat.close()


def test_head_schema_matches_the_models(tmp_path):
    """Every table and column the models declare exists after migrating (no create_all anywhere)."""
    db = open_database(tmp_path / "c.sqlite")
    insp = inspect(db.engine)
    tables = set(insp.get_table_names())
    for table in Base.metadata.sorted_tables:
        assert table.name in tables, f"migration is missing table {table.name}"
        cols = {c["name"] for c in insp.get_columns(table.name)}
        missing = {c.name for c in table.columns} - cols
        assert not missing, f"migration is missing columns {missing} of {table.name}"
    db.close()


def test_opening_twice_is_idempotent(tmp_path):
    path = tmp_path / "c.sqlite"
    dsdesk.open_catalog(path).close()
    cat = dsdesk.open_catalog(path)
    assert cat.projects.list() == []
    cat.close()


def test_a_catalog_from_a_newer_dsdesk_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    dsdesk.open_catalog(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    with pytest.raises(dsdesk.CatalogError, match="newer dsdesk"):
        dsdesk.open_catalog(path)


def test_sqlite_settings(catalog):
    with catalog.db.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert con.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert con.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    with catalog.db.session() as s:
        assert s.execute(select(Project)).all() == []
