"""Uploads of non-paths and downloads the SDK's way (issue 16): bytes, buffers, NumPy
arrays and DataFrames in; BytesIO, arrays, item lists, ``file_types``,
``without_relative_path`` and ``overwrite`` out; links and ``external://`` refused by name
with nothing written."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import dsdesk
from tests.conftest import make_image


def _jpeg(size=(6, 4)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def _paths(ds):
    return sorted(i.filename for i in ds.items.list().all())


def test_bytes_and_buffers_are_named_by_remote_name_or_their_name(dataset):
    a = dataset.items.upload(local_path=_jpeg(), remote_name="a.jpg", remote_path="/raw")
    buf = io.BytesIO(_jpeg((9, 7)))
    buf.name = "/somewhere/else/b.jpg"
    b = dataset.items.upload(local_path=buf)
    assert (a.filename, b.filename) == ("/raw/a.jpg", "/b.jpg")
    assert (b.width, b.height, b.mimetype) == (9, 7, "image/jpeg")
    with pytest.raises(dsdesk.InvalidInputError, match="remote_name"):
        dataset.items.upload(local_path=_jpeg())
    assert _paths(dataset) == ["/b.jpg", "/raw/a.jpg"]


def test_numpy_arrays_need_an_image_remote_name(dataset):
    arr = np.zeros((12, 20, 3), dtype=np.uint8)
    arr[:, :10] = 255
    item = dataset.items.upload(local_path=arr, remote_name="arr.png", remote_path="/np")
    assert (item.filename, item.width, item.height, item.mimetype) == ("/np/arr.png", 20, 12, "image/png")
    assert np.array_equal(item.download(save_locally=False, to_array=True), arr)
    with pytest.raises(dsdesk.InvalidInputError, match=r"\.jpg, \.jpeg or \.png"):
        dataset.items.upload(local_path=arr)
    listed = dataset.items.upload(local_path=[arr, _jpeg()], remote_name=["x.jpg", "y.jpg"])
    assert sorted(i.filename for i in listed) == ["/x.jpg", "/y.jpg"]


def test_a_dataframe_uploads_one_item_per_row_with_its_metadata(dataset, tmp_path):
    src = make_image(tmp_path / "f.jpg")
    df = pd.DataFrame([
        {"local_path": str(src), "remote_path": "/a", "remote_name": "one.jpg", "item_metadata": {"user": {"k": 1}}},
        {"local_path": str(src), "remote_path": "/b", "item_metadata": {"user": {"k": 2}}},
        {"local_path": str(src), "remote_path": None, "remote_name": None, "item_metadata": None},
    ])
    got = dataset.items.upload(local_path=df)
    assert sorted(i.filename for i in got) == ["/a/one.jpg", "/b/f.jpg", "/f.jpg"]
    meta = {i.filename: i.metadata["user"] for i in dataset.items.list().all()}
    assert meta == {"/a/one.jpg": {"k": 1}, "/b/f.jpg": {"k": 2}, "/f.jpg": {}}
    with pytest.raises(dsdesk.InvalidInputError, match="local_path column"):
        dataset.items.upload(local_path=pd.DataFrame([{"path": str(src)}]))


@pytest.mark.parametrize("bad, says", [
    ("external://bucket/a.jpg", "dataset.sync"),
    ("https://example.com/a.jpg", "download the file and upload it"),
    (3.5, "cannot upload a float"),
    ([b"x", 7], "cannot upload a int"),
])
def test_unsupported_sources_are_refused_by_name_with_nothing_written(dataset, bad, says):
    with pytest.raises(dsdesk.DsdeskError, match=says):
        dataset.items.upload(local_path=bad, remote_name=None if not isinstance(bad, list) else ["a.jpg", "b.jpg"])
    assert _paths(dataset) == []


def test_url_link_is_refused_with_the_alternative():
    with pytest.raises(dsdesk.InvalidInputError, match="not supported"):
        dsdesk.UrlLink(ref="https://example.com/a.jpg", name="a.jpg")


@pytest.fixture
def three(dataset, tmp_path):
    for p in ("a/x.jpg", "a/y.png", "b/z.jpg"):
        make_image(tmp_path / "src" / p, fmt="PNG" if p.endswith("png") else "JPEG")
    dataset.items.upload(local_path=str(tmp_path / "src") + "/*")
    return dataset


def test_item_download_to_memory_is_a_named_bytesio(three):
    item = three.items.get(filepath="/a/x.jpg")
    buf = item.download(save_locally=False)
    assert isinstance(buf, io.BytesIO) and buf.name == "x.jpg" and buf.tell() == 0
    assert Image.open(buf).size == (64, 48)
    assert item.download(save_locally=False, to_array=True).shape == (48, 64, 3)


def test_to_array_without_numpy_says_what_to_install(three, monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(dsdesk.DsdeskError, match="pip install numpy"):
        three.items.get(filepath="/a/x.jpg").download(save_locally=False, to_array=True)


def test_items_download_layouts(three, tmp_path):
    out = tmp_path / "out"
    got = three.items.download(local_path=str(out))
    assert sorted(got) == sorted(str(out / "items" / p) for p in ("a/x.jpg", "a/y.png", "b/z.jpg"))
    flat = three.items.download(local_path=str(tmp_path / "flat"), file_types=[".jpg"], without_relative_path=True,
                                to_items_folder=False)
    assert sorted(flat) == [str(tmp_path / "flat" / "x.jpg"), str(tmp_path / "flat" / "z.jpg")]
    one = three.items.get(filepath="/a/y.png")
    assert three.items.download(items=[one], local_path=str(tmp_path / "one.png")) == str(tmp_path / "one.png")
    assert three.items.download(items=[one.id], save_locally=False).name == "y.png"


def test_items_download_keeps_existing_files_unless_overwrite(three, tmp_path):
    item = three.items.get(filepath="/b/z.jpg")
    target = tmp_path / "out" / "items" / "b" / "z.jpg"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"mine")
    three.items.download(items=[item], local_path=str(tmp_path / "out"))
    assert target.read_bytes() == b"mine"
    three.items.download(items=[item], local_path=str(tmp_path / "out"), overwrite=True)
    assert target.read_bytes()[:2] == b"\xff\xd8"


def test_download_annotation_options_json_only(three, tmp_path):
    item = three.items.get(filepath="/a/x.jpg")
    item.annotations.upload([dsdesk.Box(1, 1, 5, 5, label="car")])
    three.items.download(items=[item], local_path=str(tmp_path / "o"),
                         annotation_options=[dsdesk.ViewAnnotationOptions.JSON])
    assert '"label": "car"' in (tmp_path / "o" / "json" / "a" / "x.jpg.json").read_text()
    with pytest.raises(dsdesk.InvalidInputError, match="mask"):
        three.items.download(items=[item], local_path=str(tmp_path / "m"),
                             annotation_options=dsdesk.VIEW_ANNOTATION_OPTIONS_MASK)
    assert not (tmp_path / "m").exists()


def test_dataset_download_takes_file_types(three, tmp_path):
    three.download(local_path=str(tmp_path / "d"), file_types=[".png"])
    assert sorted(p.name for p in (tmp_path / "d").rglob("*") if p.is_file()) == ["y.png"]


def test_item_metadata_beside_the_user_area_is_refused_with_nothing_written(dataset):
    # It was stored whole as the user area ({"user": {...}, "origin": ...} under metadata['user']).
    with pytest.raises(dsdesk.InvalidInputError, match=r"metadata\['origin'\]"):
        dataset.items.upload(local_path=_jpeg(), remote_name="a.jpg",
                             item_metadata={"user": {"k": 1}, "origin": "cam"})
    assert _paths(dataset) == []
    plain = dataset.items.upload(local_path=_jpeg(), remote_name="b.jpg", item_metadata={"k": 2})
    assert plain.metadata["user"] == {"k": 2}  # a plain dict is the user area, as before


def test_dataset_metadata_beside_the_user_area_is_refused(dataset):
    dataset.metadata["origin"] = "import"
    with pytest.raises(dsdesk.InvalidInputError, match=r"metadata\['origin'\]"):
        dataset.update()
    assert "origin" not in dataset.refresh().metadata


def test_a_bad_dataframe_row_writes_nothing(dataset, tmp_path):
    src = str(make_image(tmp_path / "f.jpg"))
    df = pd.DataFrame([{"local_path": src, "remote_name": "ok.jpg", "item_metadata": {"user": {"k": 1}}},
                       {"local_path": src, "remote_name": "bad.jpg", "item_metadata": {"user": {}, "x": 1}}])
    with pytest.raises(dsdesk.InvalidInputError, match=r"metadata\['x'\]"):
        dataset.items.upload(local_path=df)
    assert _paths(dataset) == []


def test_dataframe_rows_go_as_one_resumable_job(dataset, tmp_path, catalog):
    from dsdesk.api import jobs

    src = str(make_image(tmp_path / "f.jpg"))
    df = pd.DataFrame([{"local_path": src, "remote_path": f"/r{i % 2}", "remote_name": f"i{i}.jpg",
                        "item_metadata": {"user": {"i": i}}} for i in range(6)])
    before = len(catalog.jobs())
    got = dataset.items.upload(local_path=df)
    assert len(catalog.jobs()) == before + 1
    assert sorted((i.filename, i.metadata["user"]["i"]) for i in got)[:2] == [("/r0/i0.jpg", 0), ("/r0/i2.jpg", 2)]
    spec = jobs.upload_entries(dataset.id, [{"local_path": src, "remote_path": "/again", "remote_name": "x.jpg",
                                             "user_metadata": {"k": 1}}]).spec
    resumed = jobs.resume("upload", spec)
    assert catalog.run(resumed) and dataset.items.get(filepath="/again/x.jpg").metadata["user"] == {"k": 1}


def test_annotations_file_with_many_files_is_refused_before_writing(dataset, tmp_path):
    files = [str(make_image(tmp_path / n)) for n in ("a.jpg", "b.jpg")]
    (tmp_path / "a.json").write_text('{"annotations": []}')
    with pytest.raises(dsdesk.InvalidInputError, match="one file"):
        dataset.items.upload(local_path=files, local_annotations_path=str(tmp_path / "a.json"))
    assert _paths(dataset) == []
    one = dataset.items.upload(local_path=_jpeg(), remote_name="c.jpg", local_annotations_path=str(tmp_path / "a.json"))
    assert one.filename == "/c.jpg"
