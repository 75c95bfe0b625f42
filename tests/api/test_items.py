"""Items through the public API: upload, list, get, move, rename, delete, metadata, download."""

from __future__ import annotations

import os

import pytest

import dsdesk
from tests.conftest import make_image


def _names(ds):
    return [i.filename for i in ds.items.list().all()]


def test_upload_folder_keeps_tree_and_sets_image_facts(dataset, photos):
    items = dataset.items.upload(local_path=str(photos), remote_path="/train",
                                 item_metadata={"user": {"src": "cam1"}})
    assert sorted(i.filename for i in items) == [
        "/train/photos/a.jpg", "/train/photos/b.png", "/train/photos/sub/c.jpg", "/train/photos/sub/deeper/d.jpg"]
    c = dataset.items.get(filepath="/train/photos/sub/c.jpg")
    assert (c.width, c.height, c.mimetype) == (80, 60, "image/jpeg")
    assert c.metadata["system"]["size"] == os.path.getsize(photos / "sub" / "c.jpg")
    assert c.metadata["user"] == {"src": "cam1"}
    b = dataset.items.get(filepath="/train/photos/b.png")
    assert (b.width, b.height, b.mimetype) == (32, 16, "image/png")
    assert dataset.refresh().items_count == 4


def test_upload_star_drops_head_folder_and_single_file_returns_item(dataset, photos):
    items = dataset.items.upload(local_path=str(photos) + "/*")
    assert sorted(i.filename for i in items) == ["/a.jpg", "/b.png", "/sub/c.jpg", "/sub/deeper/d.jpg"]
    one = dataset.items.upload(local_path=str(photos / "a.jpg"), remote_path="/x", remote_name="renamed.jpg")
    assert one.filename == "/x/renamed.jpg"


def test_same_bytes_are_stored_once(dataset, photos, catalog):
    dataset.items.upload(local_path=str(photos / "a.jpg"), remote_path="/one")
    dataset.items.upload(local_path=str(photos / "a.jpg"), remote_path="/two")
    files = [p for p in catalog.db.blob_root.rglob("*") if p.is_file()]
    assert len(files) == 1
    a1, a2 = dataset.items.get(filepath="/one/a.jpg"), dataset.items.get(filepath="/two/a.jpg")
    assert a1.blob_id == a2.blob_id


def test_upload_skips_existing_unless_overwrite(dataset, tmp_path):
    f = make_image(tmp_path / "x.jpg", (10, 10))
    first = dataset.items.upload(local_path=str(f))
    first.metadata["user"]["keep"] = 1
    first.update()
    make_image(f, (20, 20))
    again = dataset.items.upload(local_path=str(f))
    assert again.id == first.id and again.width == 10  # skipped
    over = dataset.items.upload(local_path=str(f), overwrite=True)
    assert over.id == first.id and over.width == 20
    assert over.metadata["user"] == {"keep": 1}  # overwrite keeps what the user wrote


def test_upload_of_missing_path_changes_nothing(dataset, tmp_path):
    with pytest.raises(dsdesk.NotFoundError, match="no such file or folder"):
        dataset.items.upload(local_path=str(tmp_path / "nope"))
    assert _names(dataset) == []


@pytest.mark.parametrize("remote", ["/a/../b", "/./x", "/bad\\name", "/ctl\x07"])
def test_illegal_remote_paths_are_refused_before_writing(dataset, photos, remote, catalog):
    with pytest.raises(dsdesk.InvalidPathError):
        dataset.items.upload(local_path=str(photos / "a.jpg"), remote_path=remote)
    assert _names(dataset) == []
    assert not catalog.db.blob_root.exists() or not any(p.is_file() for p in catalog.db.blob_root.rglob("*"))


def test_list_pages_get_by_id_and_path(dataset, photos):
    dataset.items.upload(local_path=str(photos) + "/*")
    pages = dataset.items.list(page_size=3)
    assert pages.items_count == 4 and pages.total_pages_count == 2
    assert [len(p) for p in pages] == [3, 1]
    assert [i.filename for i in pages.all()] == ["/a.jpg", "/b.png", "/sub/c.jpg", "/sub/deeper/d.jpg"]
    assert [len(p) for p in dataset.items.list(page_size=3, page_offset=1)] == [1]
    a = dataset.items.get(filepath="/a.jpg")
    assert dataset.items.get(item_id=a.id).filename == "/a.jpg"
    with pytest.raises(dsdesk.NotFoundError):
        dataset.items.get(filepath="/missing.jpg")
    # page_size=0 is the SDK's count-only idiom (issue 16): counted, no page read
    count_only = dataset.items.list(page_size=0)
    assert count_only.items_count == 4 and count_only.items == [] and count_only.total_pages_count == 0
    for bad in (-1, 1001, "3"):
        with pytest.raises(dsdesk.InvalidInputError):
            dataset.items.list(page_size=bad)


def test_make_dir_and_directory_tree_keep_empty_folders(dataset, photos):
    dataset.items.upload(local_path=str(photos) + "/*")
    dataset.items.make_dir("/train/empty")
    tree = dataset.directory_tree
    assert tree.dir_names == ["/", "/sub", "/sub/deeper", "/train", "/train/empty"]
    by = {d.path: d for d in tree.dirs}
    assert (by["/"].items, by["/"].total) == (2, 4)
    assert (by["/sub"].items, by["/sub"].total) == (1, 2)
    assert by["/train/empty"].total == 0
    assert [d.path for d in tree.children("/train")] == ["/train/empty"]


def test_move_into_folder_and_rename(dataset, photos):
    dataset.items.upload(local_path=str(photos) + "/*")
    item = dataset.items.get(filepath="/a.jpg")
    item.move("/val/")
    assert item.filename == "/val/a.jpg"
    item.move("/val/b.jpg")
    assert item.filename == "/val/b.jpg"
    dataset.items.make_dir("/archive")
    item.move("/archive")  # an existing folder: move into it
    assert item.filename == "/archive/b.jpg"
    with pytest.raises(dsdesk.AlreadyExistsError):
        dataset.items.get(filepath="/sub/c.jpg").move("/archive/b.jpg")


def test_move_items_by_list_refuses_name_clash(dataset, photos):
    dataset.items.upload(local_path=str(photos) + "/*")
    c, d = dataset.items.get(filepath="/sub/c.jpg"), dataset.items.get(filepath="/sub/deeper/d.jpg")
    assert dataset.items.move_items(destination="/archive", items=[c, d]) == 2
    assert sorted(_names(dataset)) == ["/a.jpg", "/archive/c.jpg", "/archive/d.jpg", "/b.png"]
    dataset.items.upload(local_path=str(photos / "a.jpg"), remote_path="/other")
    with pytest.raises(dsdesk.AlreadyExistsError, match="already has 'a.jpg'"):
        dataset.items.move_items(destination="/other", items=[dataset.items.get(filepath="/a.jpg")])
    assert "/a.jpg" in _names(dataset)


def test_move_and_rename_folder(dataset, photos):
    dataset.items.upload(local_path=str(photos) + "/*")
    dataset.items.make_dir("/dest")
    assert dataset.items.move_folder("/sub", "/dest") == "/dest/sub"
    assert sorted(_names(dataset)) == ["/a.jpg", "/b.png", "/dest/sub/c.jpg", "/dest/sub/deeper/d.jpg"]
    assert dataset.items.rename_folder("/dest/sub", "renamed") == "/dest/renamed"
    assert "/dest/renamed/deeper" in dataset.directory_tree.dir_names
    with pytest.raises(dsdesk.InvalidPathError, match="into itself"):
        dataset.items.move_folder("/dest", "/dest/renamed")


def test_delete_item_and_folder(dataset, photos):
    dataset.items.upload(local_path=str(photos) + "/*")
    a = dataset.items.get(filepath="/a.jpg")
    assert dataset.items.delete(item_id=a.id) == 1
    assert dataset.items.delete(filename="/b.png") == 1
    assert dataset.items.delete(folder="/sub") == 2
    assert _names(dataset) == []
    assert dataset.directory_tree.dir_names == ["/"]
    with pytest.raises(dsdesk.NotFoundError):
        dataset.items.delete(folder="/sub")


def test_item_metadata_keeps_types_and_detects_conflicts(dataset, photos):
    item = dataset.items.upload(local_path=str(photos / "a.jpg"))
    item.metadata["user"].update({"split": "train", "score": 0.5, "n": 3, "ok": False, "tags": ["x"], "d": {"a": 1}})
    item.update()
    again = dataset.items.get(item_id=item.id)
    assert again.metadata["user"] == {"split": "train", "score": 0.5, "n": 3, "ok": False, "tags": ["x"], "d": {"a": 1}}
    again.metadata["user"]["split"] = "val"
    again.update()
    item.metadata["user"]["split"] = "test"
    with pytest.raises(dsdesk.ConflictError):
        item.update()
    # Binary facts follow the blob even when the system area is saved.
    again.metadata["system"]["width"] = 9999
    again.metadata["system"]["note"] = "kept"
    again.update(system_metadata=True)
    fresh = dataset.items.get(item_id=item.id)
    assert fresh.width == 64 and fresh.metadata["system"]["note"] == "kept"


def test_download_keeps_folder_structure_and_bytes(dataset, photos, tmp_path):
    dataset.items.upload(local_path=str(photos) + "/*")
    out = tmp_path / "out"
    dataset.download(local_path=str(out), annotation_options="json")
    got = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert got == ["items/a.jpg", "items/b.png", "items/sub/c.jpg", "items/sub/deeper/d.jpg",
                   "json/a.jpg.json", "json/b.png.json", "json/sub/c.jpg.json", "json/sub/deeper/d.jpg.json"]
    assert (out / "items/sub/c.jpg").read_bytes() == (photos / "sub/c.jpg").read_bytes()
    item = dataset.items.get(filepath="/a.jpg")
    assert item.download(save_locally=False).getvalue() == (photos / "a.jpg").read_bytes()  # a BytesIO, as the SDK


def test_task_statuses(dataset, photos):
    item = dataset.items.upload(local_path=str(photos / "a.jpg"))
    item.update_status("completed", task="review")
    item.update_status("approved", task="qa")
    item.update_status("discard", task="review")
    assert [(s["task"], s["status"]) for s in item.statuses()] == [("qa", "approved"), ("review", "discard")]
    item.update_status("", task="qa", clear=True)
    assert [s["task"] for s in item.statuses()] == ["review"]
