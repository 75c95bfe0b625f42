"""The Open catalog dialog (File > Open catalog…, and the welcome screen's team catalog): a
server's fields, Test connection and Open against a PostgreSQL server that checks passwords,
a wrong password said in the dialog that stays open, the recent list, a new file with its
internal store in a bucket; and the password in no settings file, log record, window title
or error text afterwards."""

from __future__ import annotations

import logging
import uuid

import keyring
import pytest
from PySide6.QtCore import Qt

import dsdesk as dd
from dsdesk.api import catalog_locations as loc
from dsdesk.ui import welcome
from dsdesk.ui.dialogs import open_catalog
from dsdesk.ui.dialogs.open_catalog import FILE_TAB, SERVER_TAB, OpenCatalogDialog
from tests.emulators import emulators, jpeg
from tests.file_keyring import FileKeyring
from tests.pg_auth import PASSWORD, USER, pg_auth_server  # noqa: F401 - the server fixture


@pytest.fixture
def ring(tmp_path, monkeypatch):
    r = FileKeyring(tmp_path / "keyring.json")
    monkeypatch.setattr(keyring, "get_keyring", lambda: r)
    return r


@pytest.fixture(autouse=True)
def _no_pgpass(tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


@pytest.fixture
def team_db(pg_auth_server):  # noqa: F811 - the imported fixture
    return pg_auth_server, pg_auth_server.createdb(f"ui_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def dialog(qtbot):
    made = []

    def make(**kw):
        dlg = OpenCatalogDialog(**kw)
        qtbot.addWidget(dlg)
        dlg.show()
        made.append(dlg)
        return dlg

    yield make
    for dlg in made:
        dlg.close()


def _fill_server(dlg, server, database, password=""):
    dlg.tabs.setCurrentIndex(SERVER_TAB)
    dlg.host.setText(server.host)
    dlg.port.setValue(server.port)
    dlg.database.setText(database)
    dlg.user.setText(USER)
    dlg.sslmode.setCurrentIndex(dlg.sslmode.findData("disable"))
    dlg.password.setText(password)


def test_test_connection_then_open_a_server_catalog(dialog, qtbot, team_db, ring):
    server, database = team_db
    dlg = dialog()
    _fill_server(dlg, server, database, PASSWORD)
    dlg.remember.setChecked(True)
    qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.test_result.text().startswith("Connected to PostgreSQL"), timeout=10000)
    assert "empty database: opening it creates a new catalog" in dlg.test_result.text()
    assert dlg.isVisible() and dlg.chosen is None  # testing opens nothing
    url = loc.server_url(server.host, server.port, database, USER, "disable")
    assert ring.get_password(loc.KEYRING_SERVICE, loc.keyring_account(url)) == PASSWORD  # ticked: remembered

    with qtbot.waitSignal(dlg.accepted, timeout=10000):
        dlg.open_button.click()
    assert loc.location(dlg.chosen) == url and dlg.internal_store is None
    cat = dd.open_catalog(dlg.chosen)
    assert cat.projects.list() == []
    cat.close()
    # The keyring alone opens it next time (no password typed, no pgpass).
    dd.open_catalog(url).close()


def test_a_wrong_password_is_said_and_the_dialog_stays_open(dialog, qtbot, team_db, ring):
    server, database = team_db
    dlg = dialog()
    wrong = "not-the-Password-42"
    _fill_server(dlg, server, database, wrong)
    dlg.remember.setChecked(True)
    dlg.open_button.click()
    qtbot.waitUntil(lambda: dlg.message.isVisible() and "refused the password" in dlg.message.text(), timeout=10000)
    assert dlg.isVisible() and dlg.chosen is None
    assert wrong not in dlg.message.text() and wrong not in dlg.test_result.text()
    assert dlg.open_button.isEnabled() and dlg.password.hasFocus()
    assert not (ring.path.exists() and wrong in ring.path.read_text())  # a refused password is not remembered
    dlg.password.setText(PASSWORD)
    with qtbot.waitSignal(dlg.accepted, timeout=10000):
        dlg.open_button.click()


def test_bad_fields_are_named_before_connecting(dialog, qtbot):
    dlg = dialog()
    dlg.tabs.setCurrentIndex(SERVER_TAB)
    dlg.host.setText("db.example.org")
    dlg.open_button.click()
    assert "database name is missing" in dlg.message.text() and dlg.isVisible()
    qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    assert "database name is missing" in dlg.test_result.text()


def test_the_recent_list_opens_fills_and_forgets(dialog, qtbot, tmp_path):
    a = tmp_path / "a.sqlite"
    dd.open_catalog(a).close()
    server = "postgresql+psycopg://bob:hunter2@db.example.org:5432/team"
    dlg = dialog(recent=[str(a), server, str(a)])
    texts = [dlg.recent.item(i).text() for i in range(dlg.recent.count())]
    assert texts == [f"a.sqlite — {tmp_path}", "bob@db.example.org:5432/team"]  # most recent first, once
    tips = " ".join(dlg.recent.item(i).toolTip() for i in range(dlg.recent.count()))
    assert "hunter2" not in " ".join(texts) + tips

    qtbot.mouseClick(dlg.recent.viewport(), Qt.MouseButton.LeftButton,
                     pos=dlg.recent.visualItemRect(dlg.recent.item(1)).center())
    assert dlg.tabs.currentIndex() == SERVER_TAB and dlg.host.text() == "db.example.org"
    assert dlg.database.text() == "team" and dlg.user.text() == "bob" and dlg.password.text() == ""

    dlg.recent.setCurrentRow(1)
    with qtbot.waitSignal(dlg.recent_changed) as sig:
        dlg.remove_recent_button.click()
    assert sig.args[0] == [str(a)] and dlg.recent.count() == 1

    with qtbot.waitSignal(dlg.accepted):
        dlg.recent.itemActivated.emit(dlg.recent.item(0))
    assert dlg.chosen == str(a)


def test_removing_from_the_recent_list_is_saved(qtbot, tmp_path, monkeypatch):
    from dsdesk.ui.settings import UiPrefs

    prefs = UiPrefs(recent_catalogs=["/x/one.sqlite", "/x/two.sqlite"])
    prefs.save()

    def fake_exec(dlg):
        dlg.recent.setCurrentRow(0)
        dlg.remove_recent_button.click()
        return OpenCatalogDialog.DialogCode.Rejected

    monkeypatch.setattr(OpenCatalogDialog, "exec", fake_exec)
    assert open_catalog.ask_catalog_switch(None, prefs) is None
    assert UiPrefs.load().recent_catalogs == ["/x/two.sqlite"]


def test_a_local_file_by_browsing_or_new(dialog, qtbot, tmp_path, monkeypatch):
    existing = tmp_path / "have.sqlite"
    dd.open_catalog(existing).close()
    monkeypatch.setattr(welcome, "ask_catalog_file", lambda parent: str(existing))
    dlg = dialog()
    assert dlg.tabs.currentIndex() == FILE_TAB
    dlg.open_button.click()
    assert "Choose a catalog file" in dlg.message.text()
    dlg.file_path.setText(str(tmp_path / "typo.sqlite"))
    dlg.open_button.click()
    assert "There is no catalog at" in dlg.message.text() and not (tmp_path / "typo.sqlite").exists()
    dlg.browse_button.click()
    with qtbot.waitSignal(dlg.accepted):
        dlg.open_button.click()
    assert dlg.chosen == str(existing)

    monkeypatch.setattr(welcome, "ask_new_catalog_path", lambda parent: str(tmp_path / "fresh"))
    dlg2 = dialog()
    with qtbot.waitSignal(dlg2.accepted):
        dlg2.new_file_button.click()
    assert dlg2.chosen == str(tmp_path / "fresh.sqlite") and dlg2.internal_store is None


def test_a_new_file_with_its_internal_store_in_a_bucket(dialog, qtbot, tmp_path, monkeypatch):
    emu = emulators()
    fs = emu.fs("s3")
    bucket = emu.new_bucket("s3", fs)
    monkeypatch.setattr(welcome, "ask_new_catalog_path", lambda parent: str(tmp_path / "team.sqlite"))
    dlg = dialog()
    dlg.store_box.setChecked(True)
    dlg.store_box.kind.setCurrentIndex(dlg.store_box.kind.findData("s3"))
    dlg.store_box.bucket.setText(bucket + "-missing")
    dlg.store_box.prefix.setText("shared")
    dlg.store_box.endpoint.setText(emu.endpoint("s3"))
    dlg.store_box.credentials.setText(f"env:{emu.credentials('s3')['var']}")
    dlg.new_file_button.click()
    qtbot.waitUntil(lambda: "-missing" in dlg.message.text() and dlg.open_button.isEnabled(), timeout=15000)
    assert dlg.isVisible() and dlg.chosen is None and not (tmp_path / "team.sqlite").exists()

    dlg.store_box.bucket.setText(bucket)
    with qtbot.waitSignal(dlg.accepted, timeout=15000):
        dlg.new_file_button.click()
    assert dlg.internal_store["bucket"] == bucket and dlg.internal_store["prefix"] == "shared/"
    cat = dd.open_catalog(dlg.chosen, internal_store=dlg.internal_store)
    (tmp_path / "a.jpg").write_bytes(jpeg())
    cat.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
    cat.close()
    fs.invalidate_cache()
    assert any(k.startswith(f"{bucket}/shared/") and "/.dsdesk/" not in k for k in fs.find(bucket))


def test_the_password_is_in_no_setting_log_title_or_message(qapp, qtbot, team_db, ring, tmp_path, monkeypatch,
                                                             make_window, caplog):
    """Open a server catalog with a typed password the way the app does, use the window, close it:
    then grep everything dsdesk wrote."""
    from dsdesk.ui import app as app_mod
    from dsdesk.ui.settings import UiPrefs, config_dir

    caplog.set_level(logging.DEBUG)
    server, database = team_db
    url = loc.server_url(server.host, server.port, database, USER)
    seed = dd.open_catalog(loc.with_password(url, PASSWORD))
    (tmp_path / "a.jpg").write_bytes(jpeg())
    seed.projects.create("p").datasets.create("d").items.upload(str(tmp_path / "a.jpg"))
    seed.close()

    asked = []

    def fake_ask(prefs, target, message):
        asked.append(message)
        return loc.with_password(target, PASSWORD), None

    monkeypatch.setattr(app_mod, "ask_server_catalog", fake_ask)
    prefs = UiPrefs.load()
    cat, code = app_mod.choose_catalog(prefs, explicit=url)  # no keyring entry, no pgpass: asked
    assert code == 0 and cat is not None and len(asked) == 1 and "refused the password" in asked[0]
    win = make_window(cat)
    win.prefs = prefs
    titles = [win.windowTitle(), cat.url, cat.raw_url, repr(cat)]
    win.close()
    cat.close()

    written = "".join(p.read_text(errors="replace") for p in config_dir().rglob("*") if p.is_file())
    assert url in written or loc.location(url) in written  # the catalog is remembered ...
    assert PASSWORD not in written  # ... without its password
    assert all(PASSWORD not in t for t in titles)
    assert PASSWORD not in asked[0]
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert PASSWORD not in logged
    assert not ring.path.exists()  # nothing ticked "remember": nothing in the keyring either


def test_file_menu_open_catalog_asks_and_hands_the_choice_to_the_app(window, qtbot, tmp_path, monkeypatch):
    other = tmp_path / "other.sqlite"
    dd.open_catalog(other).close()
    file_menu = window.menuBar().actions()[0].menu()
    assert file_menu.actions()[0] is window.act_open_catalog and window.act_open_catalog.text() == "Open catalog…"
    monkeypatch.setattr(open_catalog, "ask_catalog_switch", lambda parent, prefs: None)
    window.act_open_catalog.trigger()
    assert window.switch_request is None and window.isVisible()  # cancelled: nothing changes
    monkeypatch.setattr(open_catalog, "ask_catalog_switch", lambda parent, prefs: (str(other), None))
    window.act_open_catalog.trigger()
    assert window.switch_request == (str(other), None)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_a_switch_that_cannot_open_falls_back_to_the_welcome_screen(qapp, tmp_path, monkeypatch):
    from dsdesk.ui import app as app_mod
    from dsdesk.ui.settings import UiPrefs
    from dsdesk.ui.welcome import WelcomeDialog

    shown = []

    def fake_exec(dlg):
        shown.append(dlg.message.text())
        return WelcomeDialog.DialogCode.Rejected

    monkeypatch.setattr(WelcomeDialog, "exec", fake_exec)
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    cat, code = app_mod.choose_catalog(UiPrefs(), explicit=str(tmp_path / "junk.sqlite"), fallback_to_welcome=True)
    assert cat is None and code == 0 and "not a dsdesk catalog" in shown[0]


def test_run_app_opens_the_chosen_catalog_in_a_new_window(qapp, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer

    from dsdesk.ui import app as app_mod
    from dsdesk.ui.main_window import MainWindow
    from dsdesk.ui.settings import UiPrefs

    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    for p in (a, b):
        c = dd.open_catalog(p)
        c.projects.create("p").datasets.create(p.stem)
        c.close()
    monkeypatch.setattr(open_catalog, "ask_catalog_switch", lambda parent, prefs: (str(b), None))
    shown, show = [], MainWindow.show

    def show_then_act(self):
        show(self)
        shown.append(self.cat.raw_url)
        QTimer.singleShot(500, self.act_open_catalog.trigger if len(shown) == 1 else self.close)

    monkeypatch.setattr(MainWindow, "show", show_then_act)
    assert app_mod.run_app(str(a)) == 0
    assert [loc.location(s).rsplit("/", 1)[-1] for s in shown] == ["a.sqlite", "b.sqlite"]
    prefs = UiPrefs.load()
    assert prefs.last_catalog.endswith("b.sqlite") and prefs.recent_catalogs[0].endswith("b.sqlite")
