"""Opening a team catalog without leaking its password: the URL from the dialog's fields, the
password from ~/.pgpass (libpq's own), the OS keyring (a file-backed keyring set here, never
the real one) or the caller; the recent list and every message without it.  Against a real
PostgreSQL server that checks passwords (tests/pg_auth.py)."""

from __future__ import annotations

import json
import logging
import uuid

import keyring
import pytest

import dsdesk as dd
from dsdesk.api import catalog_locations as loc
from dsdesk.errors import CatalogAuthError, CatalogError, InvalidInputError
from tests.file_keyring import FileKeyring
from tests.pg_auth import PASSWORD, USER, pg_auth_server  # noqa: F401 - the server fixture


@pytest.fixture
def ring(tmp_path, monkeypatch):
    r = FileKeyring(tmp_path / "keyring.json")
    monkeypatch.setattr(keyring, "get_keyring", lambda: r)
    return r


@pytest.fixture
def team_url(pg_auth_server):  # noqa: F811 - the imported fixture
    """A fresh empty database on the password-checking server, as a URL without a password."""
    name = pg_auth_server.createdb(f"t_{uuid.uuid4().hex[:10]}")
    return loc.server_url(pg_auth_server.host, pg_auth_server.port, name, USER)


# ---- URLs -----------------------------------------------------------------------------

def test_server_url_from_the_dialog_fields_and_back():
    url = loc.server_url(" db.example.org ", "6543", "dsdesk", "bob", "require")
    assert url == "postgresql+psycopg://bob@db.example.org:6543/dsdesk?sslmode=require"
    assert loc.parse_server_url(url) == loc.ServerLocation("db.example.org", "dsdesk", "bob", 6543, "require")
    assert loc.server_url("h", None, "d") == "postgresql+psycopg://h:5432/d"
    sock = loc.server_url("/run/postgresql", 5433, "d", "u")
    assert loc.parse_server_url(sock) == loc.ServerLocation("/run/postgresql", "d", "u", 5433, "")


@pytest.mark.parametrize("fields, message", [
    (("", 5432, "d"), "host name is missing"),
    (("h", 5432, ""), "database name is missing"),
    (("h", "port", "d"), "port must be a number"),
    (("h", 70000, "d"), "between 1 and 65535"),
    (("h", 5432, "d", "u", "sometimes"), "unknown SSL mode"),
])
def test_bad_server_fields_name_the_field(fields, message):
    with pytest.raises(InvalidInputError, match=message):
        loc.server_url(*fields)


def test_locations_and_the_recent_list_never_hold_a_password():
    secret = "postgresql+psycopg://bob:hunter2@h:5432/d"
    assert loc.location(secret) == "postgresql+psycopg://bob@h:5432/d"
    assert loc.location("/data/c.sqlite") == "/data/c.sqlite"
    assert loc.has_password(secret) and not loc.has_password(loc.location(secret))
    recent = loc.remember_recent(["/a.sqlite", "postgresql+psycopg://bob:old@h:5432/d"], secret)
    assert recent == ["postgresql+psycopg://bob@h:5432/d", "/a.sqlite"]  # most recent first, no duplicate
    assert "hunter2" not in json.dumps(recent) and "old" not in json.dumps(recent)
    assert loc.forget_recent(recent, "/a.sqlite") == ["postgresql+psycopg://bob@h:5432/d"]
    many = [f"/x{i}.sqlite" for i in range(20)]
    assert len(loc.remember_recent(many, "/new.sqlite")) == loc.RECENT_MAX
    assert loc.describe(secret) == "bob@h:5432/d"
    assert loc.describe("/data/team/c.sqlite") == "c.sqlite — /data/team"
    assert "hunter2" not in repr(loc.parse_server_url(secret))


# ---- the keyring ----------------------------------------------------------------------

def test_the_keyring_remembers_a_password_per_server_catalog(ring):
    url = "postgresql+psycopg://bob@h:5432/d"
    assert loc.keyring_password(url) is None
    loc.save_password(url, "pw1")
    assert loc.keyring_password("postgresql+psycopg://bob:other@h:5432/d") == "pw1"  # the URL's password aside
    assert loc.keyring_password("postgresql+psycopg://bob@h:5432/other") is None
    assert loc.with_keyring_password(url) == "postgresql+psycopg://bob:pw1@h:5432/d"
    assert loc.with_keyring_password("/a.sqlite") == "/a.sqlite"
    assert loc.forget_password(url) and not loc.forget_password(url)
    assert loc.keyring_password(url) is None


def test_no_usable_keyring_is_no_password_and_a_clear_error_to_save(monkeypatch):
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    url = "postgresql+psycopg://bob@h:5432/d"
    assert loc.keyring_password(url) is None
    with pytest.raises(CatalogError, match="cannot save the password in the OS keyring") as e:
        loc.save_password(url, "s3cret-value")
    assert "s3cret-value" not in str(e.value)


# ---- a real server ----------------------------------------------------------------------

def test_open_with_the_keyring_password(team_url, ring):
    loc.save_password(team_url, PASSWORD)
    cat = dd.open_catalog(team_url)
    try:
        cat.projects.create("p")
        assert PASSWORD not in cat.raw_url and PASSWORD not in cat.url and PASSWORD not in repr(cat)
        assert cat.raw_url == team_url
    finally:
        cat.close()


def test_open_with_pgpass_stores_no_password(team_url, ring, tmp_path, monkeypatch):
    pgpass = tmp_path / "pgpass"
    s = loc.parse_server_url(team_url)
    pgpass.write_text(f"{s.host}:{s.port}:{s.database}:{USER}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    cat = dd.open_catalog(team_url)  # libpq reads the file itself
    cat.projects.create("p")
    recent = loc.remember_recent([], cat.raw_url)
    cat.close()
    assert ring.get_password(loc.KEYRING_SERVICE, loc.keyring_account(team_url)) is None
    assert PASSWORD not in json.dumps(recent)
    assert not (tmp_path / "keyring.json").exists()


def test_a_wrong_or_missing_password_is_an_auth_error_that_never_shows_it(team_url, caplog, monkeypatch, tmp_path):
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-but-secret-pw"
    with pytest.raises(CatalogAuthError, match=f"refused the password for user {USER}") as e:
        dd.open_catalog(loc.with_password(team_url, wrong))
    assert wrong not in str(e.value) and wrong not in repr(e.value)
    with pytest.raises(CatalogAuthError):
        dd.open_catalog(team_url)  # none at all (no keyring entry, no pgpass)
    with pytest.raises(CatalogAuthError) as e2:
        loc.check_connection(loc.with_password(team_url, wrong))
    assert wrong not in str(e2.value)
    cat = dd.open_catalog(loc.with_password(team_url, PASSWORD))
    cat.projects.create("p")
    cat.close()
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert wrong not in logged and PASSWORD not in logged


def test_check_connection_says_what_is_there(team_url):
    url = loc.with_password(team_url, PASSWORD)
    empty = loc.check_connection(url)
    assert empty.catalog == "empty database" and "creates a new catalog" in empty.summary()
    assert empty.server_version[:2].isdigit()
    dd.open_catalog(url).close()
    found = loc.check_connection(url)
    assert found.catalog == "dsdesk catalog" and not found.schema_too_new
    from dsdesk.catalog import migrate

    assert found.schema == migrate.head_revision() and f"schema {found.schema}" in found.summary()
    with pytest.raises(CatalogError, match="cannot open catalog"):
        loc.check_connection(loc.with_password(loc.server_url("127.0.0.1", 1, "team", USER), PASSWORD), timeout=2)


def test_a_job_in_a_worker_process_connects_but_records_no_password(team_url, monkeypatch, tmp_path):
    """The typed password reaches the worker process in memory (not through the keyring or a
    file) and is in no job record, spec, message or repr."""
    from sqlalchemy import select

    from dsdesk.api import jobs
    from dsdesk.api.thumbnails import catalog_location
    from dsdesk.catalog.models import Job

    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    cat = dd.open_catalog(loc.with_password(team_url, PASSWORD))
    try:
        ev = cat.process_job(jobs.gc(dry_run=True)).run()
        assert ev.status == "succeeded", ev.error
        with cat.db.session() as s:
            rows = [(j.kind, j.spec, j.message, j.error, j.owner) for j in s.scalars(select(Job))]
        assert rows and PASSWORD not in repr(rows)
        assert PASSWORD not in repr(catalog_location(cat))
    finally:
        cat.close()
