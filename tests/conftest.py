"""Shared fixtures: every test runs against throw-away state, never the user's.

An autouse fixture points dsdesk's data directory (default catalog, blobs, caches), the
catalog variable and Qt's config at ``tmp_path``, and forces Qt offscreen, so a test can
neither read nor damage a real catalog and needs no screen.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Cloud SDKs must never probe metadata servers from tests (see shared/EMULATORS.md).
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


def unavailable(reason: str):
    """A server the tests need cannot be had: fail in CI (which installs it), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: scripts/setup.sh test)")
    pytest.skip(reason)


@contextlib.contextmanager
def postgres_server(**options):
    """A throwaway PostgreSQL server for a fixture (``benchmarks.pgserver``; fsync off for
    speed unless *options* say otherwise), or :func:`unavailable` when none can be had."""
    from benchmarks.pgserver import PgUnavailable, temporary_server

    options.setdefault("fsync", False)
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(temporary_server(**options))
        except PgUnavailable as e:
            unavailable(str(e))
        yield server


@pytest.fixture(autouse=True)
def _isolated_user_state(tmp_path, monkeypatch):
    data = tmp_path / "_userdata"
    monkeypatch.setenv("DSDESK_DATA_DIR", str(data))
    monkeypatch.delenv("DSDESK_CATALOG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "_config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "_cache"))
    # Never the user's real OS keyring (opening a server catalog looks a password up there):
    # a keyring that holds nothing, here and in subprocesses; tests that need one set theirs.
    import keyring
    from keyring.backends import null

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(keyring, "get_keyring", lambda: null.Keyring())
    yield


@pytest.fixture
def catalog(tmp_path):
    """A fresh catalog in a real SQLite file."""
    import dsdesk

    cat = dsdesk.open_catalog(tmp_path / "catalog.sqlite")
    yield cat
    cat.close()


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_on_both(request, tmp_path, monkeypatch):
    """A fresh catalog in a SQLite file, then on a PostgreSQL server: the test module imports
    the server's fixture, ``from tests.versioning.test_postgres import pg_url``."""
    import dsdesk

    if request.param == "sqlite":
        cat = dsdesk.open_catalog(tmp_path / "catalog.sqlite")
    else:
        monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
        cat = dsdesk.open_catalog(request.getfixturevalue("pg_url"))
    yield cat
    cat.close()


@pytest.fixture
def cats(catalog_on_both):
    """Client A (``catalog_on_both``) and client B (a second catalog on the same database)."""
    import dsdesk

    other = dsdesk.open_catalog(catalog_on_both.raw_url)
    yield catalog_on_both, other
    other.close()


@pytest.fixture
def project(catalog):
    return catalog.projects.create("demo")


@pytest.fixture
def dataset(project):
    return project.datasets.create("cars", labels=["car", "person"])


def make_image(path, size=(64, 48), color=(200, 30, 30), fmt="JPEG"):
    """Write a real image with Pillow and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):  # some structure, so encoders have real work
        im.putpixel((x, x % size[1]), (255, 255, 255))
    im.save(path, fmt)
    return path


@pytest.fixture
def photos(tmp_path):
    """A folder of real images in nested folders: a.jpg, b.png, sub/c.jpg, sub/deeper/d.jpg."""
    root = tmp_path / "photos"
    make_image(root / "a.jpg", (64, 48))
    make_image(root / "b.png", (32, 16), (0, 128, 0), "PNG")
    make_image(root / "sub" / "c.jpg", (80, 60), (0, 0, 200))
    make_image(root / "sub" / "deeper" / "d.jpg", (10, 20))
    return root
