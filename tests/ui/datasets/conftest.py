"""Fixtures for the datasets page's tests: offscreen Qt and real SQLite catalogs in tmp_path."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest  # noqa: E402
from sqlalchemy import update  # noqa: E402

from dsdesk.api.catalog import Catalog  # noqa: E402
from dsdesk.catalog.models import Dataset as DatasetRow  # noqa: E402

#: name -> (user metadata, items, annotated items)
DATASETS = {
    "cars": ({"owner": "vision-team", "stats": {"f1": 0.91}, "wiki": "https://wiki.example.org/cars"}, 1200, 600),
    "bikes": ({"owner": "ml-ops", "stats": {"f1": 0.5}, "wiki": "https://wiki.example.org/bikes"}, 40, 40),
    "people": ({"owner": "vision-team"}, 5000, 10),
    "empty": ({}, 0, 0),
    "trucks": ({"stats": {"f1": 10}}, 3, 0),
}


@pytest.fixture(autouse=True)
def _isolated_qt_state(tmp_path, monkeypatch):
    # QSettings and any default catalog go to the test's folder, never the user's.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "_config"))
    monkeypatch.setenv("DSDESK_DATA_DIR", str(tmp_path / "_data"))
    monkeypatch.delenv("DSDESK_CATALOG", raising=False)


def fill_project(cat: Catalog, name: str = "vision", datasets: dict = DATASETS):
    """A project with datasets whose cached counts are set as the operations would."""
    p = cat.projects.create(name)
    for ds_name, (user, n, ann) in datasets.items():
        ds = p.datasets.create(ds_name, metadata={"user": user})
        with cat.db.session() as s:
            s.execute(update(DatasetRow).where(DatasetRow.id == ds.id).values(
                item_count=n, annotated_count=ann, bytes_total=n * 120_000, folder_count=3))
    return p


@pytest.fixture
def catalog_path(tmp_path):
    return tmp_path / "catalog.sqlite"


@pytest.fixture
def cat(catalog_path):
    c = Catalog.open(catalog_path)
    yield c
    c.close()


@pytest.fixture
def project(cat):
    return fill_project(cat)


@pytest.fixture
def page(qtbot, cat, project):
    from dsdesk.ui.datasets.page import DatasetsPage

    w = DatasetsPage(cat)
    qtbot.addWidget(w)
    w.resize(1400, 500)
    with qtbot.waitSignal(w.table_loaded, timeout=10000):
        w.set_project(project.id)  # read on the page's worker thread
    w.show()
    qtbot.waitExposed(w)
    return w


def reload(qtbot, page) -> None:
    """Refresh the page and wait until the new rows are shown."""
    with qtbot.waitSignal(page.table_loaded, timeout=10000):
        page.refresh()
