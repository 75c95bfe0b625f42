"""Thumbnails: draft-mode decode, EXIF orientation, corrupt input, the local and shared
(``.dsdesk/``) caches, the bounded cache of originals."""

from __future__ import annotations

import io

import pytest
from emulators import Store, jpeg
from PIL import Image

from dsdesk.storage import credentials as creds
from dsdesk.storage import thumbnails as thumbs
from dsdesk.storage.drivers import DriverConfig, make_driver
from dsdesk.storage.thumbnails import (
    GENERATED_THUMBS,
    OriginalsCache,
    ThumbnailCache,
    Thumbnailer,
    ThumbnailError,
    make_thumbnail,
    placeholder_jpeg,
    thumbnail_bytes,
    thumbnail_image,
)


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG"
        return im.size


def test_full_hd_jpeg_becomes_256px():
    assert size_of(make_thumbnail(jpeg(size=(1920, 1080)))) == (256, 144)


def test_exif_orientation_is_applied():
    # Orientation 6: the camera was turned; the stored 1920x1080 shows as 1080x1920.
    assert size_of(make_thumbnail(jpeg(size=(1920, 1080), orientation=6))) == (144, 256)


def test_png_with_alpha_and_small_images():
    im = Image.new("RGBA", (50, 20), (0, 0, 255, 100))
    out = io.BytesIO()
    im.save(out, "PNG")
    assert size_of(make_thumbnail(out.getvalue())) == (50, 20)  # never upscaled


@pytest.mark.parametrize("bad", [b"", b"not an image at all", jpeg(size=(300, 200))[:200]])
def test_corrupt_input_is_a_clear_error(bad):
    with pytest.raises(ThumbnailError, match="cannot make a thumbnail"):
        make_thumbnail(bad)


def test_placeholder_is_a_jpeg():
    assert size_of(placeholder_jpeg()) == (256, 256)


def test_local_cache_is_keyed_by_etag(tmp_path):
    cache = ThumbnailCache(tmp_path)
    calls = []

    def opener():
        calls.append(1)
        return io.BytesIO(jpeg(size=(640, 480)))

    a = thumbnail_bytes(cache, 7, "k.jpg", "etag1", opener)
    b = thumbnail_bytes(cache, 7, "k.jpg", "etag1", opener)
    assert a == b and len(calls) == 1
    thumbnail_bytes(cache, 7, "k.jpg", "etag2", opener)  # a new version is a new thumbnail
    assert len(calls) == 2
    cache.invalidate(7, "k.jpg", "etag1")
    assert cache.get(7, "k.jpg", "etag1") is None and cache.get(7, "k.jpg", "etag2") is not None


def test_thumbnailer_local_folder_and_corrupt_item(tmp_path):
    root = tmp_path / "bucket"
    st = Store("local", None, root=root)
    st.put("a.jpg", jpeg(size=(800, 600)))
    st.put("broken.jpg", b"\xff\xd8 garbage")
    drv = make_driver(DriverConfig("local", str(root), "data"))
    th = Thumbnailer(drv, 1, tmp_path / "cache", originals=OriginalsCache(tmp_path / "cache"))
    res = th.many([("data/a.jpg", "e1"), ("data/broken.jpg", "e2"), ("data/gone.jpg", "e3")])
    assert res[0].ok and res[0].source == "made" and size_of(res[0].data()) == (256, 192)
    assert not res[1].ok and "cannot make a thumbnail" in res[1].error
    assert res[1].data() == placeholder_jpeg()
    assert not res[2].ok and "not found" in res[2].error
    assert th.get("data/a.jpg", "e1").source == "cache"
    assert th.get("data/broken.jpg", "e2").error  # the failure is remembered, not retried


def test_generated_thumbnails_are_shared_through_the_bucket(emu, tmp_path):
    st = Store("s3", emu)
    st.put("p/photo.jpg", jpeg(size=(1024, 768)))
    kw = st.driver_kwargs()
    cfg = DriverConfig("s3", st.bucket, st.prefix, kw["endpoint"], credentials_ref=creds.parse_ref(kw["credentials"]),
                       write_generated=True)
    drv = make_driver(cfg)
    first = Thumbnailer(drv, 3, tmp_path / "client-a").get("data/p/photo.jpg", "v1")
    assert first.source == "made"
    shared = [k for k in st.keys() if k.startswith(GENERATED_THUMBS)]
    assert len(shared) == 1
    # Another client (empty local cache) takes the shared one instead of decoding again.
    second = Thumbnailer(drv, 3, tmp_path / "client-b").get("data/p/photo.jpg", "v1")
    assert second.source == "shared" and second.data() == first.data()
    # Without write_generated nothing is written to the bucket.
    plain = make_driver(DriverConfig("s3", st.bucket, st.prefix, kw["endpoint"],
                                     credentials_ref=creds.parse_ref(kw["credentials"])))
    Thumbnailer(plain, 4, tmp_path / "client-c").get("data/p/photo.jpg", "v2")
    assert len([k for k in st.keys() if k.startswith(GENERATED_THUMBS)]) == 1


def test_originals_cache_is_bounded(tmp_path):
    root = tmp_path / "bucket"
    st = Store("local", None, root=root)
    for i in range(6):
        st.put(f"o{i}.bin", bytes([i]) * 1000)
    drv = make_driver(DriverConfig("local", str(root), "data"))
    oc = OriginalsCache(tmp_path / "cache", max_bytes=3000)
    for i in range(6):
        assert oc.read(drv, 1, f"data/o{i}.bin", "e") == bytes([i]) * 1000
    total = sum(f.stat().st_size for f in oc.root.rglob("*") if f.is_file())
    assert total <= 3000
    assert oc.path(1, "data/o5.bin", "e").exists()  # the most recent stays


def test_thumbnail_image_caches_remote_and_costly_originals_only(tmp_path, monkeypatch):
    cache = ThumbnailCache(tmp_path)
    data = jpeg(size=(640, 480))
    opened = []

    def opener():
        opened.append(1)
        return io.BytesIO(data)

    # A small local JPEG: made, returned, not written (making it again is cheap).  Its 2-3 ms
    # of CPU are too near the 4 ms cut to assert on (a busy VM crosses it): pinned cheap.
    monkeypatch.setenv(thumbs.CHEAP_REMAKE_ENV, "1000")
    im = thumbnail_image(cache, 1, "a.jpg", "e1", opener, local=True)
    assert im.size == (256, 192) and not cache.path(1, "a.jpg", "e1").exists()
    # The same bytes from a remote driver: cached, keyed by (driver, key, etag).
    thumbnail_image(cache, 2, "a.jpg", "e1", opener, local=lambda: False)
    assert cache.path(2, "a.jpg", "e1").is_file() and not cache.path(2, "a.jpg", "e2").exists()
    # A costly local original is cached too (the cut stands in for a big file).
    monkeypatch.setenv(thumbs.CHEAP_REMAKE_ENV, "0")
    thumbnail_image(cache, 1, "b.jpg", "e1", opener, local=True)
    assert cache.path(1, "b.jpg", "e1").is_file()
    # A cached thumbnail is served without opening the original, local or not.
    n = len(opened)
    assert thumbnail_image(cache, 1, "b.jpg", "e1", opener, local=True).size == (256, 192)
    assert len(opened) == n
    # A corrupt original is a ThumbnailError, never a crash, and nothing is cached.
    with pytest.raises(ThumbnailError):
        thumbnail_image(cache, 2, "bad.jpg", "e1", lambda: io.BytesIO(b"not an image"), local=False)
    assert not cache.path(2, "bad.jpg", "e1").exists()


def test_a_thumbnail_knows_its_originals_size_and_the_cache_keeps_it(tmp_path):
    """The header's size (what an upload records: no EXIF rotation), also from a cached
    thumbnail; an original's own JPEG comment is not copied into the thumbnail."""
    data = jpeg(size=(1920, 1080), orientation=6)
    im = thumbs.make_thumbnail_image(data)
    assert im.size == (144, 256) and thumbs.original_size(im) == (1920, 1080)
    with_comment = io.BytesIO()
    Image.new("RGB", (640, 480)).save(with_comment, "JPEG", comment=b"dsdesk original 1x1")
    cache = ThumbnailCache(tmp_path)
    made = thumbnail_image(cache, 2, "c.jpg", "e1", lambda: io.BytesIO(with_comment.getvalue()), local=False)
    assert thumbs.original_size(made) == (640, 480)
    cached = thumbnail_image(cache, 2, "c.jpg", "e1", lambda: pytest.fail("the cache serves it"), local=False)
    assert thumbs.original_size(cached) == (640, 480)
    with Image.open(io.BytesIO(make_thumbnail(with_comment.getvalue()))) as im:
        assert im.info["comment"] == b"dsdesk original 640x480"
    # A thumbnail cached without it (an older dsdesk) simply does not tell.
    cache.path(2, "old.jpg", "e1").parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (256, 192)).save(cache.path(2, "old.jpg", "e1"), "JPEG")
    assert thumbs.original_size(thumbnail_image(cache, 2, "old.jpg", "e1", lambda: pytest.fail("cached"))) is None


def test_the_cheap_remake_cut_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.delenv(thumbs.CHEAP_REMAKE_ENV, raising=False)
    assert thumbs.cheap_remake_seconds() == thumbs.CHEAP_REMAKE_SECONDS
    monkeypatch.setenv(thumbs.CHEAP_REMAKE_ENV, "12.5")
    assert thumbs.cheap_remake_seconds() == 0.0125
    monkeypatch.setenv(thumbs.CHEAP_REMAKE_ENV, "-3")
    assert thumbs.cheap_remake_seconds() == 0.0
    monkeypatch.setenv(thumbs.CHEAP_REMAKE_ENV, "fast")  # not a number: the default
    assert thumbs.cheap_remake_seconds() == thumbs.CHEAP_REMAKE_SECONDS
