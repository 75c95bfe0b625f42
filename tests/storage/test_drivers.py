"""Storage drivers against real servers: listing pages and cursors, byte ranges, writes,
deletes, ``test()``, and the clear errors for wrong credentials, a missing bucket and an
unreachable endpoint."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest
from emulators import ENV_S3, Server, Store, azure_connection_string, free_port, jpeg
from sqlalchemy import select, text

from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError, StorageError
from dsdesk.storage import credentials as creds
from dsdesk.storage.drivers import DriverConfig, make_driver

pytestmark = pytest.mark.emulators


def drv_for(store: Store, **over):
    kw = store.driver_kwargs()
    cfg = DriverConfig(kind=store.kind, bucket=store.bucket, prefix=store.prefix,
                       endpoint_url=over.pop("endpoint", kw.get("endpoint")),
                       credentials_ref=over.pop("credentials", None) or
                       (creds.parse_ref(kw["credentials"]) if "credentials" in kw else None), **over)
    return make_driver(cfg)


def test_listing_is_paged_ordered_and_resumable(store):
    keys = [f"d{i % 3}/f{i:02d}.bin" for i in range(11)] + ["a-b.bin", "a/c.bin"]
    for k in keys:
        store.put(k, k.encode())
    store.put("data-beside.bin", b"q", outside_prefix=True)  # shares the prefix's letters, not its folder
    store.put("zzz/elsewhere.bin", b"q", outside_prefix=True)
    d = drv_for(store)
    pages = list(d.list_pages(page_size=4))
    assert all(len(p.entries) <= 4 for p in pages) and len(pages) >= 3
    listed = [e.key for p in pages for e in p.entries if not e.is_dir]
    assert listed == sorted(listed)  # byte order: what makes "last key" a valid cursor
    assert set(listed) >= {store.full(k) for k in keys}
    assert all(k.startswith(store.prefix + "/") for k in listed)
    # Resume after the second page: exactly the rest, nothing twice.
    rest = [e.key for p in d.list_pages(cursor=pages[1].cursor, page_size=4) for e in p.entries]
    seen = [e.key for p in pages[:2] for e in p.entries]
    assert sorted(seen + rest) == sorted(e.key for p in pages for e in p.entries)
    assert not set(seen) & set(rest)


def test_read_range_put_delete_and_info(store, tmp_path):
    data = jpeg(size=(120, 80))
    store.put("img/a.jpg", data)
    d = drv_for(store)
    key = store.full("img/a.jpg")
    assert d.read(key) == data
    assert d.read_range(key, 2, 10) == data[2:10]
    with d.open(key) as f:
        f.seek(5)
        assert f.read(3) == data[5:8]
    local = tmp_path / "up.bin"
    local.write_bytes(b"hello upload")
    stored = d.put_file(local, store.full("up/x.bin"))
    assert stored.storage_key == store.full("up/x.bin") and stored.size == 12 and stored.etag
    assert store.exists("up/x.bin")
    e = d.info(store.full("up/x.bin"))
    assert e.etag == stored.etag and e.size == 12
    assert d.delete(store.full("up/x.bin")) is True
    assert not store.exists("up/x.bin")
    with pytest.raises(NotFoundError):
        d.read(store.full("nope.bin"))
    d.download(key, tmp_path / "dl" / "a.jpg")
    assert (tmp_path / "dl" / "a.jpg").read_bytes() == data


def test_driver_test_lists_reads_and_writes_only_when_asked(store):
    store.put("one.jpg", jpeg())
    d = drv_for(store)
    out = d.test()
    assert out["list"] and out["read"] == store.full("one.jpg") and out["write"] is None
    assert store.keys() == ["one.jpg"]
    assert d.test(write=True)["write"] is True
    assert store.keys() == ["one.jpg"]  # the probe file was removed again


def test_overwrite_changes_the_change_marker(store):
    store.put("v.bin", b"version one")
    d = drv_for(store)
    first = d.info(store.full("v.bin"))
    time.sleep(0.01)
    store.put("v.bin", b"version two!")
    second = d.info(store.full("v.bin"))
    assert (first.etag, first.size) != (second.etag, second.size)


# ------------------------------------------------------------------------- bad input
def test_missing_bucket_is_a_clear_error(store, tmp_path):
    if store.kind == "local":
        d = make_driver(DriverConfig("local", str(tmp_path / "no-such-folder")))
        with pytest.raises(StorageError, match="does not exist"):
            d.test()
        return
    d = drv_for(store)
    d2 = make_driver(DriverConfig(store.kind, "no-such-bucket-x", endpoint_url=d.config.endpoint_url,
                                  credentials_ref=d.config.credentials_ref))
    with pytest.raises(StorageError, match="no-such-bucket-x"):
        d2.test()


def test_unreachable_endpoint_fails_fast(cloud_store):
    port = free_port()  # nothing listens there
    ep = f"http://127.0.0.1:{port}" + ("/devstoreaccount1" if cloud_store.kind == "azure" else "")
    d = drv_for(cloud_store, endpoint=ep)
    t0 = time.monotonic()
    with pytest.raises(StorageError, match="unreachable"):
        d.test()
    assert time.monotonic() - t0 < 20


def test_wrong_s3_credentials_are_refused(tmp_path, monkeypatch):
    # A second moto that checks signatures (the shared one accepts any key).
    port = free_port()
    srv = Server("moto-auth", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                 port, "/", tmp_path)
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "0")
    srv.start()
    try:
        monkeypatch.setenv("WRONG_S3", json.dumps({"key": "AKIAWRONGWRONGWRONG1", "secret": "not-the-secret"}))
        d = make_driver(DriverConfig("s3", "somebucket", endpoint_url=f"http://127.0.0.1:{port}",
                                     credentials_ref={"kind": "env", "var": "WRONG_S3"}))
        with pytest.raises(StorageError, match="access denied") as ei:
            d.test()
        assert "not-the-secret" not in str(ei.value) and "WRONG_S3" in str(ei.value)
    finally:
        srv.stop()


def test_wrong_azure_key_is_refused(emu, monkeypatch):
    st = Store("azure", emu)
    good = azure_connection_string(emu.server("azure").port)
    bad_key = "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXkgd3Jvbmcga2V5IHdyb25nIGtleSE="
    monkeypatch.setenv("BAD_AZ", good.replace(good.split("AccountKey=")[1].split(";")[0], bad_key))
    d = make_driver(DriverConfig("azure", st.bucket, endpoint_url=emu.endpoint("azure"),
                                 credentials_ref={"kind": "env", "var": "BAD_AZ"}))
    with pytest.raises(StorageError, match="access denied") as ei:
        d.test()
    assert bad_key not in str(ei.value)


def test_gcs_key_file_problems_are_clear(emu, tmp_path):
    st = Store("gcs", emu)
    with pytest.raises(StorageError, match="key file not found"):
        make_driver(DriverConfig("gcs", st.bucket, endpoint_url=emu.endpoint("gcs"),
                                 credentials_ref={"kind": "file", "path": str(tmp_path / "missing.json")}))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StorageError, match="not valid JSON"):
        make_driver(DriverConfig("gcs", st.bucket, endpoint_url=emu.endpoint("gcs"),
                                 credentials_ref={"kind": "file", "path": str(bad)}))


def test_unset_env_variable_is_named(emu):
    with pytest.raises(StorageError, match="DSDESK_NOT_SET_ANYWHERE"):
        make_driver(DriverConfig("s3", "b", endpoint_url=emu.endpoint("s3"),
                                 credentials_ref={"kind": "env", "var": "DSDESK_NOT_SET_ANYWHERE"}))


# ----------------------------------------------------------------------- credentials
def test_secrets_are_never_stored(catalog, project, emu):
    st = Store("s3", emu)
    with pytest.raises(InvalidInputError, match="never stored"):
        project.drivers.create("leaky", "s3", st.bucket, endpoint=emu.endpoint("s3"),
                               credentials={"key": "AKIA", "secret": "s3cr3t"})
    d = project.drivers.create("ok", "s3", st.bucket, endpoint=emu.endpoint("s3"), credentials=f"env:{ENV_S3}")
    assert d.test()["list"]
    with catalog.db.session() as s:
        row = s.execute(select(DriverRow).where(DriverRow.id == d.id)).scalar_one()
        assert row.credentials_ref == {"kind": "env", "var": ENV_S3}
    assert "testing" not in json.dumps(d.to_json())


def test_keyring_without_backend_says_so(emu, monkeypatch):
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    with pytest.raises(StorageError, match="no keyring backend"):
        make_driver(DriverConfig("s3", "b", endpoint_url=emu.endpoint("s3"),
                                 credentials_ref={"kind": "keyring", "service": "dsdesk", "username": "s3"}))


def test_keyring_entry_is_used(emu, monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1
        store: dict = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    ring = MemoryKeyring()
    ring.set_password("dsdesk", "moto", json.dumps({"key": "testing", "secret": "testing"}))
    monkeypatch.setattr(keyring, "get_keyring", lambda: ring)
    monkeypatch.setattr(keyring, "get_password", ring.get_password)
    st = Store("s3", emu)
    st.put("k.bin", b"1")
    d = make_driver(DriverConfig("s3", st.bucket, "data", endpoint_url=emu.endpoint("s3"),
                                 credentials_ref=creds.parse_ref("keyring:dsdesk/moto")))
    assert d.test()["read"] == "data/k.bin"
    with pytest.raises(StorageError, match="no keyring entry dsdesk/other"):
        make_driver(DriverConfig("s3", st.bucket, endpoint_url=emu.endpoint("s3"),
                                 credentials_ref=creds.parse_ref("keyring:dsdesk/other")))


def test_credential_refs_parse():
    assert creds.parse_ref("env:X") == {"kind": "env", "var": "X"}
    assert creds.parse_ref("file:/k.json") == {"kind": "file", "path": "/k.json"}
    assert creds.parse_ref("profile:prod") == {"kind": "profile", "name": "prod"}
    assert creds.parse_ref("keyring:svc/user") == {"kind": "keyring", "service": "svc", "username": "user"}
    assert creds.parse_ref(None) == {"kind": "anonymous"}
    for bad in ("AKIA123", "env:", {"kind": "magic"}, {"kind": "env"}, {"kind": "env", "var": "X", "token": "t"}):
        with pytest.raises(InvalidInputError):
            creds.parse_ref(bad)


def test_public_bucket_anonymous_read(emu):
    st = Store("gcs", emu)
    st.put("pub.jpg", jpeg())
    d = make_driver(DriverConfig("gcs", st.bucket, "data", endpoint_url=emu.endpoint("gcs"),
                                 credentials_ref={"kind": "anonymous"}))
    assert d.read_range("data/pub.jpg", 0, 2) == b"\xff\xd8"


def test_project_drivers_repository(catalog, project, emu, tmp_path):
    st = Store("s3", emu)
    d = project.drivers.create("bucket-a", driver_type="s3", bucket_name=st.bucket, path="/imgs/",
                               endpoint=emu.endpoint("s3"), credentials=f"env:{ENV_S3}",
                               allow_external_delete=True, write_generated=True)
    assert d.path == "imgs" and d.allow_external_delete and d.write_generated
    assert project.drivers.get(driver_name="bucket-a").id == d.id
    assert project.drivers.get(driver_id=d.id).name == "bucket-a"
    assert {x.name for x in project.drivers.list()} >= {"bucket-a", "internal"}
    with pytest.raises(InvalidInputError, match="illegal driver path"):
        project.drivers.create("bad", "s3", st.bucket, path="a/../b", credentials="anonymous")
    with pytest.raises(InvalidInputError, match="unknown driver type"):
        project.drivers.create("bad", "ftp", st.bucket)
    ds = project.datasets.create("on-bucket", driver=d)
    assert ds.driver_id == d.id
    with pytest.raises(InvalidInputError, match="used by dataset"):
        project.drivers.delete(driver_name="bucket-a")
    loc = project.drivers.create("folder", "local", str(tmp_path))
    assert project.drivers.delete(driver_id=loc.id)
    with pytest.raises(NotFoundError):
        project.drivers.get(driver_name="folder")
    assert os.path.isdir(tmp_path)  # deleting a driver never touches the storage


def test_drivers_test_checks_what_create_saves_and_saves_nothing(catalog, project, emu, tmp_path):
    """``project.drivers.test`` takes create's arguments: the same checks, the same driver."""
    st = Store("s3", emu)
    st.put("imgs/a.jpg", b"jpeg")
    spec = {"name": "bucket-b", "driver_type": "S3", "bucket_name": f" {st.bucket} ", "path": f"/{st.prefix}/",
            "endpoint": emu.endpoint("s3") + "/", "credentials": f"env:{ENV_S3}"}
    checked = project.drivers.test(**spec)
    assert checked["list"] and checked["read"] == st.full("imgs/a.jpg")
    assert "bucket-b" not in {d.name for d in project.drivers.list()}  # nothing saved
    saved = project.drivers.create(**spec)
    assert saved.storage().label == checked["driver"] and saved.endpoint == emu.endpoint("s3")
    with pytest.raises(AlreadyExistsError, match="already exists"):
        project.drivers.test(**spec)
    for bad, match in (({"endpoint": "s3.example.com"}, "endpoint must look like"),
                       ({"driver_type": "ftp"}, "unknown driver type 'ftp'; expected local, s3, gcs, azure"),
                       ({"driver_type": "internal"}, "unknown driver type"),
                       ({"bucket_name": " "}, "needs bucket_name"),
                       ({"options": {"secret": "x"}}, "looks like a secret")):
        for call in (project.drivers.test, project.drivers.create):
            with pytest.raises(InvalidInputError, match=match):
                call(**{**spec, "name": "other", **bad})
    with pytest.raises(InvalidInputError, match="does not take 'profile' credentials"):
        project.drivers.test("g", "gcs", "bucket", credentials="profile:prod")
    with pytest.raises(StorageError, match="does not exist"):
        project.drivers.test("loc", "fs", str(tmp_path / "missing"))
    assert {d.name for d in project.drivers.list()} == {"internal", "bucket-b"}



def test_endpoint_with_credentials_in_the_url_is_refused(catalog, project):
    """``http://KEY:SECRET@host`` would store the secret in the catalog in the clear."""
    for url in ("http://AKIAKEY:s3cr3t@127.0.0.1:9000", "https://user@minio.local", "http://:pw@host"):
        for call in (project.drivers.test, project.drivers.create):
            with pytest.raises(InvalidInputError, match="must not carry credentials.*credentials="):
                call("leaky", "s3", "bucket", endpoint=url, credentials="env:X")
    for url, match in (("http://host:port", "not a valid URL"), ("http://", "has no host"),
                       ("http://host:9000/?sig=abc", "query or fragment")):
        with pytest.raises(InvalidInputError, match=match):
            project.drivers.create("bad", "s3", "bucket", endpoint=url, credentials="env:X")
    assert "leaky" not in {d.name for d in project.drivers.list()}
    with catalog.db.session() as s:  # the secret is nowhere in the catalog
        assert not s.execute(text("SELECT 1 FROM driver WHERE endpoint_url LIKE '%s3cr3t%'")).first()
    ok = project.drivers.create("minio", "s3", "bucket", endpoint="http://127.0.0.1:9000/", credentials="env:X")
    assert ok.endpoint == "http://127.0.0.1:9000"

def test_storage_kinds_are_data():
    from dsdesk.api.drivers import credential_kinds, kind_icon, storage_kind, storage_kinds
    from dsdesk.storage import kinds
    from dsdesk.storage.drivers import BaseDriver

    assert [k.kind for k in storage_kinds()] == ["local", "s3", "gcs", "azure"]
    assert [k.kind for k in storage_kinds(creatable=False)] == list(kinds.KINDS)
    for k in storage_kinds(creatable=False):
        assert issubclass(k.driver, BaseDriver) and k.driver.kind == k.kind
        assert k.icon == f"driver-{k.kind}" and all(f.type in kinds.FIELD_TYPES for f in k.fields)
        assert set(k.credential_kinds) <= set(creds.KINDS)
        assert bool(k.credential_kinds) == (k.field("credentials") is not None)
    assert not storage_kind("internal").external and not storage_kind("internal").syncable
    assert kinds.EXTERNAL_KINDS == {"local", "s3", "gcs", "azure"}
    assert kinds.resolve_type("AzureBlob").kind == "azure" and kinds.resolve_type("fs").kind == "local"
    assert [c.kind for c in credential_kinds("s3")][0] == "default" and "profile" not in {
        c.kind for c in credential_kinds("gcs")}
    assert kind_icon("ftp") == "storage"
    assert creds.short_ref("env", " KEYS ") == "env:KEYS" and creds.short_ref("anonymous", "x") == "anonymous"
    with pytest.raises(InvalidInputError, match="unknown driver type 'ftp'"):
        storage_kind("ftp")
