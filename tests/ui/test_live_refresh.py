"""Two catalog objects on one database (SQLite file, PostgreSQL server): what the second one
writes shows in the first one's window within 2 s, and only the affected views reload."""

from __future__ import annotations

import pytest

from dsdesk.api.catalog import Catalog
from dsdesk.api.change_feed import DatasetChange
from dsdesk.ui.library import PathRole
from dsdesk.ui.live_refresh import affected_views
from tests.conftest import make_image
from tests.ui.conftest import wait_idle
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture of catalog_on_both

SEEN_WITHIN_MS = 2000 + 700  # the promise, plus a margin for a shared CI machine


@pytest.fixture
def team(catalog_on_both):
    """The demo catalog, and a second client on the same database."""
    from dsdesk.demo import build_demo

    build_demo(catalog_on_both, n_images=12)
    other = Catalog.open(catalog_on_both.raw_url)
    yield catalog_on_both, other
    other.close()


def _count_calls(monkeypatch, obj, name):
    calls = []
    real = getattr(obj, name)

    def spy(*a, **kw):
        calls.append(a)
        return real(*a, **kw)

    monkeypatch.setattr(obj, name, spy)
    return calls


def test_another_clients_upload_shows_in_the_grid_within_2_s(team, make_window, qtbot, tmp_path):
    cat, other = team
    win = make_window(cat)
    shown = win.current_dataset_id
    before = win.grid.model.rowCount()
    ds = other.dataset_by_id(shown)
    ds.items.upload(local_path=str(make_image(tmp_path / "new-from-elsewhere.jpg")))
    qtbot.waitUntil(lambda: win.grid.model.rowCount() == before + 1, timeout=SEEN_WITHIN_MS)
    # The datasets table follows too (its counts), without a restart.
    qtbot.waitUntil(lambda: not win.datasets_page.loading, timeout=SEEN_WITHIN_MS)

    item = ds.items.get(filepath="/new-from-elsewhere.jpg")
    item.move("/moved-elsewhere/new-from-elsewhere.jpg")
    qtbot.waitUntil(lambda: "/moved-elsewhere" in _folder_paths(win), timeout=SEEN_WITHIN_MS)
    wait_idle(qtbot, win)


def _folder_paths(win) -> set[str]:
    """The paths the library's folder tree shows."""
    model = win.library.folders.model()
    out, todo = set(), [model.index(r, 0) for r in range(model.rowCount())]
    while todo:
        idx = todo.pop()
        if idx.data(PathRole):
            out.add(idx.data(PathRole))
        todo += [model.index(r, 0, idx) for r in range(model.rowCount(idx))]
    return out


def test_an_unrelated_datasets_change_does_not_reload_the_grid(team, make_window, qtbot, tmp_path, monkeypatch):
    cat, other = team
    win = make_window(cat)
    shown = win.current_dataset_id
    unrelated = next(d for d in other.datasets.list() if d.id != shown)
    grid_reloads = _count_calls(monkeypatch, win.grid.model, "reload")
    grid_queries = _count_calls(monkeypatch, win.grid.model, "set_query")
    library_reads = _count_calls(monkeypatch, win, "reload_library")
    unrelated.items.upload(local_path=str(make_image(tmp_path / "elsewhere.jpg")))
    qtbot.waitUntil(lambda: bool(library_reads), timeout=SEEN_WITHIN_MS)  # its row is read again
    wait_idle(qtbot, win)
    assert grid_reloads == [] and grid_queries == []
    assert win.current_dataset_id == shown


def test_affected_views_only_touch_the_dataset_on_show():
    known = {1: object(), 2: object()}
    mine = [DatasetChange(1, frozenset({"items"}), own=False)]
    assert affected_views(mine, 1, known) == {"datasets", "items", "folders", "inspector"}
    assert affected_views([DatasetChange(2, frozenset({"items", "folders"}), own=False)], 1, known) == {"datasets"}
    assert affected_views([DatasetChange(1, frozenset({"folders"}), own=False)], 1, known) \
        == {"datasets", "folders", "items", "inspector"}
    assert affected_views([DatasetChange(1, frozenset({"annotations"}), own=False)], 1, known) \
        == {"datasets", "annotations", "inspector"}
    assert affected_views([DatasetChange(1, frozenset({"items"}), own=True)], 1, known) == set()
    assert affected_views([DatasetChange(None, frozenset({"recipes"}), own=False)], 1, known) \
        == {"datasets", "annotations", "inspector"}
    assert affected_views([DatasetChange(9, frozenset({"meta"}), own=False)], 1, known) == {"datasets"}


def test_a_burst_of_changes_is_one_refresh_a_second(qtbot, monkeypatch):
    from dsdesk.ui import live_refresh

    clock = [100.0]
    monkeypatch.setattr(live_refresh, "_now", lambda: clock[0])
    live = live_refresh.LiveRefresh(cat=None, tasks=None)
    got = []
    live.changes_arrived.connect(got.append)
    a, b = DatasetChange(1, frozenset({"items"}), False), DatasetChange(1, frozenset({"folders"}), False)
    live._on_polled([a])
    clock[0] += 0.5
    live._on_polled([b])  # a sync elsewhere commits again: held back
    assert got == [[a]]
    clock[0] += 0.6
    live._on_polled([])
    assert got == [[a], [DatasetChange(1, frozenset({"folders"}), False)]]
