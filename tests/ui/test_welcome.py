"""The welcome screen: a first start (no catalog anywhere) shows it, and each of its paths
ends on a catalog to open; the modal questions are patched, never clicked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from dsdesk.api import first_start
from dsdesk.ui import welcome
from dsdesk.ui.welcome import WelcomeDialog


@pytest.fixture
def dialog(qtbot):
    def make(recent=None, message=""):
        dlg = WelcomeDialog(recent, message, demo_images=6)
        qtbot.addWidget(dlg)
        dlg.show()
        return dlg

    return make


def test_first_start_has_no_catalog_to_open(tmp_path, monkeypatch):
    assert first_start.startup_catalog() is None  # the welcome screen, not an empty catalog
    assert not any(Path(tmp_path).rglob("*.sqlite"))
    gone = tmp_path / "gone.sqlite"
    assert first_start.startup_catalog(default=str(gone), last="sqlite:///" + str(gone)) is None
    made = tmp_path / "ui-data" / "catalog.sqlite"
    made.parent.mkdir(parents=True)
    made.write_bytes(b"")
    assert first_start.startup_catalog() == str(made)
    assert first_start.startup_catalog(explicit="x.sqlite") == "x.sqlite"  # --catalog wins, created if new
    monkeypatch.setenv("DSDESK_CATALOG", "y.sqlite")
    assert first_start.startup_catalog() == "y.sqlite"


def test_open_the_demo_builds_it_off_the_gui_thread(dialog, qtbot):
    dlg = dialog()
    with qtbot.waitSignal(dlg.catalog_chosen, timeout=60000) as got:
        qtbot.mouseClick(dlg.demo_button, Qt.MouseButton.LeftButton)
        assert not dlg.create_button.isEnabled()  # busy while the demo is built
    assert got.args == [str(first_start.demo_catalog_path())]
    assert dlg.result() == WelcomeDialog.DialogCode.Accepted
    import dsdesk

    with dsdesk.open_catalog(dlg.chosen) as cat:
        assert cat.projects.get(project_name="demo").datasets.get(dataset_name="cars").items_count == 6


def test_create_a_catalog_here(dialog, qtbot, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(welcome, "ask_new_catalog_path", lambda parent: asked.append(parent) or str(tmp_path / "mine"))
    dlg = dialog()
    qtbot.mouseClick(dlg.create_button, Qt.MouseButton.LeftButton)
    assert asked == [dlg]
    assert dlg.chosen == str((tmp_path / "mine.sqlite").resolve())
    assert not (tmp_path / "mine.sqlite").exists()  # the caller opens (and so creates) it


def test_create_refuses_an_existing_file_and_stays_open(dialog, qtbot, tmp_path, monkeypatch):
    taken = tmp_path / "taken.sqlite"
    taken.write_bytes(b"not mine")
    monkeypatch.setattr(welcome, "ask_new_catalog_path", lambda parent: str(taken))
    dlg = dialog()
    qtbot.mouseClick(dlg.create_button, Qt.MouseButton.LeftButton)
    assert dlg.chosen is None and dlg.isVisible()
    assert "already exists" in dlg.message.text() and dlg.message.isVisible()
    assert taken.read_bytes() == b"not mine"
    dlg.reject()


def test_connect_to_a_team_catalog(dialog, qtbot, monkeypatch):
    answers = iter(["mysql://db/x", "postgresql://curator@db.example:5432/dsdesk"])
    monkeypatch.setattr(welcome, "ask_team_url", lambda parent, text="": next(answers))
    dlg = dialog()
    qtbot.mouseClick(dlg.team_button, Qt.MouseButton.LeftButton)
    assert dlg.chosen == "postgresql+psycopg://curator@db.example:5432/dsdesk"  # asked again after a bad URL


def test_team_catalog_cancelled_chooses_nothing(dialog, qtbot, monkeypatch):
    monkeypatch.setattr(welcome, "ask_team_url", lambda parent, text="": "")
    dlg = dialog()
    qtbot.mouseClick(dlg.team_button, Qt.MouseButton.LeftButton)
    assert dlg.chosen is None and dlg.isVisible()
    dlg.reject()


@pytest.mark.parametrize("text, problem", [("", "no team catalog URL"), ("sqlite:///x.db", "PostgreSQL"),
                                           ("postgresql:///dsdesk", "no server"), ("postgresql://h", "no database"),
                                           ("::nonsense", "not a database URL")])
def test_team_url_errors_name_the_problem(text, problem):
    from dsdesk.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=problem):
        first_start.team_catalog_url(text)


def test_open_recent(dialog, qtbot, tmp_path):
    a, b = str(tmp_path / "a.sqlite"), "postgresql+psycopg://me:secret@db/team"
    dlg = dialog(recent=[a, b])
    assert [dlg.recent.item(i).text() for i in range(dlg.recent.count())] == [a, "postgresql+psycopg://me:***@db/team"]
    dlg.recent.setCurrentRow(1)
    qtbot.mouseClick(dlg.open_recent_button, Qt.MouseButton.LeftButton)
    assert dlg.chosen == b


def test_recent_list_is_newest_first_and_bounded():
    recent = [f"c{i}" for i in range(first_start.RECENT_MAX)]
    out = first_start.remember_recent(recent, "c3")
    assert out[0] == "c3" and out.count("c3") == 1 and len(out) == first_start.RECENT_MAX
    assert first_start.remember_recent(recent, "new")[-1] == f"c{first_start.RECENT_MAX - 2}"


def _patched_welcome(monkeypatch, choose=None):
    """WelcomeDialog.exec replaced: records the dialog and picks *choose(dlg)* (None: closed)."""
    shown = []

    def fake_exec(dlg):
        shown.append(dlg)
        target = choose(dlg) if choose else None
        if target is None:
            return WelcomeDialog.DialogCode.Rejected
        dlg.chosen = target
        return WelcomeDialog.DialogCode.Accepted

    monkeypatch.setattr(WelcomeDialog, "exec", fake_exec)
    return shown


def test_a_first_start_shows_the_welcome_screen_and_creates_nothing(qapp, tmp_path, monkeypatch):
    from dsdesk.ui.app import choose_catalog
    from dsdesk.ui.settings import UiPrefs

    shown = _patched_welcome(monkeypatch)
    assert choose_catalog(UiPrefs()) == (None, 0)
    assert len(shown) == 1 and not shown[0].message.isVisibleTo(shown[0])
    assert not any(tmp_path.rglob("*.sqlite"))


def test_the_welcome_choice_is_opened_and_remembered(qapp, tmp_path, monkeypatch):
    from dsdesk.ui.app import choose_catalog
    from dsdesk.ui.settings import UiPrefs

    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"this is not a database" * 100)
    new = str(tmp_path / "new.sqlite")
    shown = _patched_welcome(monkeypatch, lambda dlg: new)
    prefs = UiPrefs(last_catalog=str(broken))
    cat, code = choose_catalog(prefs)
    try:
        assert code == 0 and cat.db.url.endswith("new.sqlite")
        assert "Cannot open" in shown[0].message.text() and str(broken) in shown[0].message.text()
        assert UiPrefs.load().recent_catalogs == [cat.raw_url]
    finally:
        cat.close()


def test_an_explicit_catalog_that_cannot_open_is_an_error(qapp, tmp_path, monkeypatch):
    from dsdesk.ui import app as app_module
    from dsdesk.ui.settings import UiPrefs

    errors = []
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda *a: errors.append(a[2]))
    shown = _patched_welcome(monkeypatch)
    assert app_module.choose_catalog(UiPrefs(), explicit=str(tmp_path)) == (None, 2)
    assert shown == [] and "directory" in errors[0]
