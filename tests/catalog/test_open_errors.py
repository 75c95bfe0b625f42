"""Bad catalogs get a clear error that names the problem, and nothing is changed."""

from __future__ import annotations

import os
import sqlite3

import pytest

import dsdesk


def test_a_text_file_is_not_a_catalog(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("just some notes, not a database\n" * 20)
    before = p.read_bytes()
    with pytest.raises(dsdesk.CatalogError, match="not a dsdesk catalog"):
        dsdesk.open_catalog(p)
    assert p.read_bytes() == before


def test_someone_elses_sqlite_database_is_refused_untouched(tmp_path):
    p = tmp_path / "other.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE recipes (id INTEGER, title TEXT)")
    con.execute("INSERT INTO recipes VALUES (1, 'soup')")
    con.commit()
    con.close()
    with pytest.raises(dsdesk.CatalogError, match="not a dsdesk catalog"):
        dsdesk.open_catalog(p)
    con = sqlite3.connect(p)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["recipes"]
    con.close()


def test_an_unreadable_catalog_is_refused(tmp_path, monkeypatch):
    p = tmp_path / "c.sqlite"
    dsdesk.open_catalog(p).close()
    p.chmod(0)
    if os.geteuid() == 0:  # root reads whatever the mode says: make access() tell the truth for others
        real = os.access
        monkeypatch.setattr(os, "access", lambda f, mode, **kw: False if str(f) == str(p) else real(f, mode, **kw))
    with pytest.raises(dsdesk.CatalogError, match="permission denied"):
        dsdesk.open_catalog(p)


def test_a_directory_is_not_a_catalog(tmp_path):
    with pytest.raises(dsdesk.CatalogError, match="directory"):
        dsdesk.open_catalog(tmp_path)


def test_a_bad_url_and_an_unreachable_server_are_clear_errors():
    with pytest.raises(dsdesk.CatalogError, match="not a catalog URL"):
        dsdesk.open_catalog("nonsense://::")
    with pytest.raises(dsdesk.CatalogError, match="cannot open catalog"):
        dsdesk.open_catalog("postgresql+psycopg://u:p@127.0.0.1:1/none?connect_timeout=2")


def test_default_location_and_env_variable(tmp_path, monkeypatch):
    cat = dsdesk.open_catalog()
    assert str(tmp_path / "_userdata" / "catalog.sqlite") in cat.url
    cat.close()
    monkeypatch.setenv("DSDESK_CATALOG", str(tmp_path / "from-env.sqlite"))
    cat = dsdesk.open_catalog()
    assert "from-env.sqlite" in cat.url
    cat.close()
