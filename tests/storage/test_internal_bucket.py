"""A catalog's internal store in a bucket (S3 on moto, GCS on fake-gcs-server, Azure on
Azurite, all on 127.0.0.1): chosen at creation, recorded in the catalog, used by every client
that opens it; same sha256 layout, upload dedup and GC rules as the folder store; a bad
bucket or credential is a clear error that writes nothing."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from sqlalchemy import delete, select

import dsdesk as dd
from dsdesk.catalog.models import CatalogSetting, Item
from dsdesk.errors import CatalogError, InvalidInputError, StorageError
from dsdesk.storage.internal_store import forget_stores
from dsdesk.versioning.gc import ORPHAN_GRACE_SECONDS
from tests.emulators import jpeg
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture


def _spec(store, **over) -> dict:
    spec = {"kind": store.kind, "bucket": store.bucket, "prefix": "team/blobs",
            "endpoint": store.emu.endpoint(store.kind), "credentials": store.emu.credentials(store.kind)}
    spec.update(over)
    return spec


def _objects(store) -> list[str]:
    store.fs.invalidate_cache()
    return sorted(p.split("/", 1)[1] for p in store.fs.find(store.bucket))


def _object_of(data: bytes) -> str:
    h = hashlib.sha256(data).hexdigest()
    return f"team/blobs/{h[:2]}/{h[2:4]}/{h}"


@pytest.fixture(autouse=True)
def _fresh_store_cache():
    forget_stores()
    yield
    forget_stores()


def test_client_b_reads_what_client_a_uploaded_into_the_bucket(cloud_store, tmp_path):
    path = tmp_path / "team.sqlite"
    image = jpeg((10, 200, 90), (80, 60))
    (tmp_path / "a.jpg").write_bytes(image)

    a = dd.open_catalog(path, internal_store=_spec(cloud_store))
    ds = a.projects.create("p").datasets.create("d")
    item = ds.items.upload(str(tmp_path / "a.jpg"))
    assert _objects(cloud_store) == [_object_of(image)]  # the same sha256 layout, under the prefix
    assert not any(p.is_file() for p in a.db.blob_root.rglob("*"))  # nothing in a local folder

    forget_stores()  # client B builds its own cloud client from the catalog's record
    b = dd.open_catalog(path)
    assert b.db.internal_store_config == a.db.internal_store_config
    got = b.datasets.get(ds.id).items.get(item_id=item.id)
    with got.open() as f:
        assert f.read() == image
    assert got.width == 80 and got.height == 60
    b.close()
    a.close()


def test_the_record_names_credentials_by_reference_only(cloud_store, tmp_path):
    cat = dd.open_catalog(tmp_path / "c.sqlite", internal_store=_spec(cloud_store))
    with cat.db.session() as s:
        value = s.scalar(select(CatalogSetting.value).where(CatalogSetting.key == "internal_store"))
    assert value["credentials_ref"] == cloud_store.emu.credentials(cloud_store.kind)
    assert value["bucket"] == cloud_store.bucket and value["prefix"] == "team/blobs/"
    secret = os.environ.get("DSDESK_TEST_AZURE_CONNECTION", "") if cloud_store.kind == "azure" else "testing"
    dumped = json.dumps(value)
    assert cloud_store.kind == "gcs" or secret not in dumped.replace('"testing"', "")
    cat.close()


def test_same_bytes_are_uploaded_once_and_gc_frees_what_nothing_references(cloud_store, tmp_path):
    a_bytes, b_bytes = jpeg((1, 2, 3)), jpeg((200, 100, 0), (40, 40))
    for name, data in (("a.jpg", a_bytes), ("a2.jpg", a_bytes), ("b.jpg", b_bytes)):
        (tmp_path / name).write_bytes(data)
    cat = dd.open_catalog(tmp_path / "c.sqlite", internal_store=_spec(cloud_store))
    ds = cat.projects.create("p").datasets.create("d")
    ds.items.upload(str(tmp_path / "a.jpg"))
    ds.items.upload(str(tmp_path / "a2.jpg"))
    ib = ds.items.upload(str(tmp_path / "b.jpg"))
    assert _objects(cloud_store) == sorted([_object_of(a_bytes), _object_of(b_bytes)])

    ia2 = ds.items.get("/a2.jpg")
    ia2.delete()  # the bytes are still a.jpg's: the object stays
    assert _objects(cloud_store) == sorted([_object_of(a_bytes), _object_of(b_bytes)])
    with cat.db.session() as s:  # an item row gone without releasing its blob (what gc is for)
        s.execute(delete(Item).where(Item.id == ib.id))
    dry = cat.gc(dry_run=True)
    assert dry.candidate_count == 1 and _objects(cloud_store) == sorted([_object_of(a_bytes), _object_of(b_bytes)])
    report = cat.gc(dry_run=False)
    assert report.deleted_count == 1 and not report.errors
    assert _objects(cloud_store) == [_object_of(a_bytes)]  # the referenced blob stays
    assert ds.items.get("/a.jpg").download(tmp_path / "out.jpg") and (tmp_path / "out.jpg").read_bytes() == a_bytes
    ds.items.get("/a.jpg").delete()  # the last item of those bytes: released from the bucket at once
    assert _objects(cloud_store) == []
    cat.close()


def test_gc_removes_old_orphan_objects_and_keeps_fresh_ones(cloud_store, tmp_path, monkeypatch):
    cat = dd.open_catalog(tmp_path / "c.sqlite", internal_store=_spec(cloud_store))
    cat.projects.create("p").datasets.create("d")
    orphan = jpeg((9, 9, 9))
    cloud_store.fs.pipe_file(f"{cloud_store.bucket}/{_object_of(orphan)}", orphan)  # a crashed upload's object
    assert cat.gc(dry_run=False).orphan_files == []  # fresh: most likely an upload in progress
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + ORPHAN_GRACE_SECONDS + 60)
    report = cat.gc(dry_run=False)
    assert report.orphan_files == [_object_of(orphan)]
    assert _objects(cloud_store) == []
    cat.close()


def test_a_missing_bucket_is_a_clear_error_and_nothing_is_written(cloud_store, tmp_path):
    path = tmp_path / "new.sqlite"
    with pytest.raises(StorageError, match="-missing.* (does not exist|not found)"):
        dd.open_catalog(path, internal_store=_spec(cloud_store, bucket=cloud_store.bucket + "-missing"))
    assert not path.exists()
    assert _objects(cloud_store) == []


def test_a_wrong_credential_is_a_clear_error_and_nothing_is_written(cloud_store, tmp_path, monkeypatch):
    path = tmp_path / "new.sqlite"
    if cloud_store.kind == "azure":
        # Azurite checks the account key: a wrong one is refused.
        good = os.environ["DSDESK_TEST_AZURE_CONNECTION"]
        monkeypatch.setenv("WRONG_AZURE", good.replace("AccountKey=", "AccountKey=AAAA"))
        with pytest.raises(StorageError, match="access denied|AuthenticationFailed|authoriz"):
            dd.open_catalog(path, internal_store=_spec(cloud_store, credentials="env:WRONG_AZURE"))
    monkeypatch.delenv("NO_SUCH_CREDENTIALS", raising=False)
    with pytest.raises(StorageError, match="NO_SUCH_CREDENTIALS"):
        dd.open_catalog(path, internal_store=_spec(cloud_store, credentials="env:NO_SUCH_CREDENTIALS"))
    assert not path.exists()
    assert _objects(cloud_store) == []


def test_the_store_is_chosen_once(cloud_store, tmp_path):
    path = tmp_path / "c.sqlite"
    dd.open_catalog(path, internal_store=_spec(cloud_store)).close()
    dd.open_catalog(path, internal_store=_spec(cloud_store)).close()  # the same again: fine
    with pytest.raises(CatalogError, match="chosen when the catalog is created"):
        dd.open_catalog(path, internal_store=_spec(cloud_store, prefix="elsewhere"))
    # A catalog whose folder store already holds binaries keeps it.
    other = tmp_path / "local.sqlite"
    (tmp_path / "x.jpg").write_bytes(jpeg())
    cat = dd.open_catalog(other)
    cat.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "x.jpg"))
    cat.close()
    with pytest.raises(CatalogError, match="already keeps 1 internal binaries"):
        dd.open_catalog(other, internal_store=_spec(cloud_store))


def test_secrets_and_malformed_stores_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "c.sqlite"
    with pytest.raises(InvalidInputError, match="secrets are never stored"):
        dd.open_catalog(path, internal_store={"kind": "s3", "bucket": "b",
                                              "credentials": {"kind": "env", "secret": "x"}})
    with pytest.raises(InvalidInputError, match="lives in s3, gcs, azure"):
        dd.open_catalog(path, internal_store={"kind": "ftp", "bucket": "b"})
    with pytest.raises(InvalidInputError, match="needs a bucket"):
        dd.open_catalog(path, internal_store={"kind": "gcs", "bucket": ""})
    with pytest.raises(InvalidInputError, match="is s3://BUCKET/PREFIX"):
        dd.open_catalog(path, internal_store="ftp://host/x")
    assert not path.exists()


def test_a_store_url_names_the_cloud_bucket_and_prefix():
    from dsdesk.storage.internal_store import location_from

    loc = location_from("gs://team-bucket/a/b", endpoint="http://127.0.0.1:1", credentials="anonymous")
    assert loc == {"kind": "gcs", "bucket": "team-bucket", "prefix": "a/b/", "endpoint_url": "http://127.0.0.1:1",
                   "region": None, "credentials_ref": {"kind": "anonymous"}}
    assert location_from("az://c")["kind"] == "azure" and location_from("s3://b")["prefix"] == ""


def test_two_clients_of_a_postgresql_catalog_share_the_bucket(pg_url, emu, tmp_path, monkeypatch):  # noqa: F811
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.emulators import Store

    name = f"bucket_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    s3 = Store("s3", emu)
    image = jpeg((50, 60, 70), (30, 20))
    (tmp_path / "a.jpg").write_bytes(image)
    try:
        monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "a-blobs"))  # client A's machine
        a = dd.open_catalog(url, internal_store=_spec(s3))
        item = a.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
        forget_stores()
        monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "b-blobs"))  # client B's machine
        b = dd.open_catalog(url)
        with b.dataset_by_id(item.dataset_id).items.get(item_id=item.id).open() as f:
            assert f.read() == image
        assert not (tmp_path / "a-blobs").exists() or not any(p.is_file() for p in (tmp_path / "a-blobs").rglob("*"))
        b.close()
        a.close()
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_copy_of_the_catalog_uses_the_same_bucket(cloud_store, tmp_path):
    from dsdesk.api.catalog_copy import copy_catalog

    image = jpeg((1, 90, 200))
    (tmp_path / "a.jpg").write_bytes(image)
    cat = dd.open_catalog(tmp_path / "src.sqlite", internal_store=_spec(cloud_store))
    item = cat.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
    cat.close()
    copy_catalog(str(tmp_path / "src.sqlite"), str(tmp_path / "dst.sqlite"))
    forget_stores()
    dst = dd.open_catalog(tmp_path / "dst.sqlite")
    assert dst.db.internal_store_config["bucket"] == cloud_store.bucket
    with dst.dataset_by_id(item.dataset_id).items.get(item_id=item.id).open() as f:
        assert f.read() == image
    assert _objects(cloud_store) == [_object_of(image)]  # shared, not copied
    dst.close()


def test_a_catalog_and_its_copy_never_delete_each_others_binaries(cloud_store, tmp_path, monkeypatch):
    """Both name the same bucket after a copy, and each knows only its own blob rows: the
    release on delete, gc and gc's orphan pass of either would otherwise delete objects the
    other still names (the copy's new uploads are orphans to the source)."""
    import time

    from dsdesk.api.catalog_copy import copy_catalog

    shared, mine = jpeg((1, 90, 200)), jpeg((250, 10, 10), (30, 30))
    (tmp_path / "a.jpg").write_bytes(shared)
    (tmp_path / "b.jpg").write_bytes(mine)
    src = dd.open_catalog(tmp_path / "src.sqlite", internal_store=_spec(cloud_store))
    item = src.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
    src.close()
    copy_catalog(str(tmp_path / "src.sqlite"), str(tmp_path / "dst.sqlite"))
    forget_stores()
    dst = dd.open_catalog(tmp_path / "dst.sqlite")
    dst.dataset_by_id(item.dataset_id).items.upload(str(tmp_path / "b.jpg"))  # only the copy names it
    src = dd.open_catalog(tmp_path / "src.sqlite")
    src.dataset_by_id(item.dataset_id).items.get(item_id=item.id).delete()  # the copy still names it
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + ORPHAN_GRACE_SECONDS + 60)  # every object is old
    report = src.gc(dry_run=False)
    assert report.orphan_files == [] and "shared with" in report.shared_store
    assert _objects(cloud_store) == sorted([_object_of(shared), _object_of(mine)])
    with dst.dataset_by_id(item.dataset_id).items.get(item_id=item.id).open() as f:
        assert f.read() == shared
    assert "shared with" in dst.gc(dry_run=False).shared_store
    assert _objects(cloud_store) == sorted([_object_of(shared), _object_of(mine)])
    src.close()
    dst.close()


def test_a_new_catalog_refuses_a_prefix_that_holds_another_catalogs_binaries(cloud_store, tmp_path):
    (tmp_path / "a.jpg").write_bytes(jpeg())
    first = dd.open_catalog(tmp_path / "first.sqlite", internal_store=_spec(cloud_store))
    first.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
    first.close()
    with pytest.raises(CatalogError, match="already holds binaries .*a prefix of its own"):
        dd.open_catalog(tmp_path / "second.sqlite", internal_store=_spec(cloud_store))
    assert not (tmp_path / "second.sqlite").exists()
    dd.open_catalog(tmp_path / "second.sqlite", internal_store=_spec(cloud_store, prefix="second")).close()
    dd.open_catalog(tmp_path / "first.sqlite", internal_store=_spec(cloud_store)).close()  # its own: fine


def test_thumbnails_of_a_bucket_store_render_in_another_process_s_renderer(cloud_store, tmp_path):
    """The grid's thumbnail workers open the catalog by its location alone: the bucket comes
    from the catalog's record, not from the opening client."""
    from dsdesk.api.thumbnails import ThumbnailRenderer, catalog_location

    (tmp_path / "a.jpg").write_bytes(jpeg((200, 10, 10), (120, 90)))
    cat = dd.open_catalog(tmp_path / "c.sqlite", internal_store=_spec(cloud_store))
    item = cat.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
    forget_stores()
    renderer = ThumbnailRenderer(catalog_location(cat))
    with cat.db.session() as s:
        from dsdesk.catalog.models import Blob

        blob = s.get(Blob, item.blob_id)
        got = renderer.render(blob.driver_id, blob.storage_key, blob.etag, blob.size)
    assert not isinstance(got, str), got  # a rendered thumbnail, not an error text
    cat.close()


def test_a_client_without_the_credentials_gets_a_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    from tests.emulators import Store, emulators

    s3 = Store("s3", emulators())
    var = s3.emu.credentials("s3")["var"]
    (tmp_path / "a.jpg").write_bytes(jpeg())
    path = tmp_path / "c.sqlite"
    a = dd.open_catalog(path, internal_store=_spec(s3))
    ds = a.projects.create("p").datasets.create("d")
    a.close()
    forget_stores()
    monkeypatch.delenv(var)  # client B's machine has no such variable
    b = dd.open_catalog(path)
    with pytest.raises(StorageError, match=var):
        b.datasets.get(ds.id).items.upload(str(tmp_path / "a.jpg"))
    assert b.datasets.get(ds.id).items_count == 0
    assert _objects(s3) == []
    b.close()
