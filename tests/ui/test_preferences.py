"""The preferences dialog: theme (light, dark, following the system), thumbnail size, the
cache (location, size limit, clear) and the default catalog; stored in UiPrefs, applied to
the app and the window.  Folder and file questions are patched, never clicked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from dsdesk.api import local_cache
from dsdesk.ui import theme
from dsdesk.ui.dialogs import preferences
from dsdesk.ui.dialogs.preferences import PreferencesDialog, apply_preferences
from dsdesk.ui.settings import UiPrefs


def _window_lightness(app) -> int:
    return app.palette().color(QPalette.ColorRole.Window).lightness()


@pytest.fixture
def app_theme(qapp):
    """Put the app's theme back to the system's after the test."""
    yield qapp
    theme.apply_theme(qapp, "system")


@pytest.fixture
def dialog(qtbot):
    made = []

    def make(prefs=None, cat=None):
        dlg = PreferencesDialog(prefs or UiPrefs(), cat)
        qtbot.addWidget(dlg)
        dlg.show()
        made.append(dlg)
        return dlg

    yield make
    for dlg in made:
        if dlg.isVisible():
            dlg.reject()


def test_light_and_dark_themes_apply_and_system_follows_the_desktop(app_theme, monkeypatch):
    app = app_theme
    assert theme.apply_theme(app, "dark") == "dark" and _window_lightness(app) < 80
    assert theme.apply_theme(app, "light") == "light" and _window_lightness(app) > 200
    assert app.style().name().lower() == "fusion"
    hints = app.styleHints()
    monkeypatch.setattr(type(hints), "colorScheme", lambda self: Qt.ColorScheme.Dark)
    assert theme.apply_theme(app, "system") == "dark" and _window_lightness(app) < 80
    monkeypatch.setattr(type(hints), "colorScheme", lambda self: Qt.ColorScheme.Light)
    theme.follow_system(app)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)  # the desktop switched: followed
    assert _window_lightness(app) > 200
    theme.apply_theme(app, "dark")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)  # a chosen theme stays
    assert _window_lightness(app) < 80
    assert theme.apply_theme(app, "nonsense") == "light" and theme.current_theme(app) == "system"


def test_ok_saves_and_applies_every_preference(app_theme, dialog, tmp_path, monkeypatch):
    monkeypatch.setattr(preferences, "ask_folder", lambda parent, start: str(tmp_path / "cache-here"))
    monkeypatch.setattr(preferences, "ask_catalog_file", lambda parent: str(tmp_path / "team.sqlite"))
    dlg = dialog(UiPrefs(thumbnail_size=160, last_dataset_id=7))
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    assert _window_lightness(app_theme) < 80  # previewed at once
    dlg.thumb_size.setValue(224)
    assert dlg.thumb_slider.value() == 224
    dlg._on_cache_browse_clicked()
    dlg.cache_max.setValue(512)
    dlg._on_catalog_browse_clicked()
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert dlg.result() == dlg.DialogCode.Accepted
    apply_preferences(dlg.prefs)
    saved = UiPrefs.load()
    assert (saved.theme, saved.thumbnail_size, saved.cache_max_mb) == ("dark", 224, 512)
    assert saved.cache_dir == str(tmp_path / "cache-here")
    assert saved.default_catalog == str(tmp_path / "team.sqlite")
    assert saved.last_dataset_id == 7  # the window's state is kept
    assert _window_lightness(app_theme) < 80


def test_cancel_changes_nothing_and_puts_the_theme_back(app_theme, dialog):
    theme.apply_theme(app_theme, "light")
    UiPrefs(theme="light").save()
    dlg = dialog(UiPrefs(theme="light"))
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    dlg.thumb_size.setValue(300)
    dlg.buttons.button(dlg.buttons.StandardButton.Cancel).click()
    assert theme.current_theme(app_theme) == "light" and _window_lightness(app_theme) > 200
    assert UiPrefs.load().thumbnail_size == 160


def test_a_bad_team_url_as_default_catalog_keeps_the_dialog_open(dialog):
    dlg = dialog()
    dlg.default_catalog.setText("postgresql:///nohost")
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert dlg.isVisible() and "no server" in dlg.default_catalog.toolTip()
    dlg.default_catalog.setText("postgresql://me@db/team")
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert dlg.prefs.default_catalog == "postgresql+psycopg://me@db/team"


def test_clear_cache_empties_the_catalogs_cache(dialog, qtbot, catalog):
    root = local_cache.cache_folder(catalog)
    (root / "thumbnails" / "1" / "ab").mkdir(parents=True)
    (root / "thumbnails" / "1" / "ab" / "x.jpg").write_bytes(b"j" * 5000)
    (root / "originals").mkdir()
    (root / "originals" / "y").write_bytes(b"o" * 3000)
    dlg = dialog(cat=catalog)
    qtbot.waitUntil(lambda: dlg.cache_usage.text().startswith("8.0 kB in "), timeout=10000)
    qtbot.mouseClick(dlg.clear_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.cache_usage.text().startswith("0 B in "), timeout=10000)
    assert local_cache.cache_usage(catalog) == 0 and root.is_dir()


def test_cache_trim_and_location(catalog, tmp_path):
    import os

    root = local_cache.cache_folder(catalog)
    (root / "thumbnails").mkdir(parents=True)
    for i in range(5):
        f = root / "thumbnails" / f"{i}.jpg"
        f.write_bytes(b"x" * 1000)
        os.utime(f, (1000 + i, 1000 + i))
    assert local_cache.trim_cache(catalog, 2500) == 3000
    assert sorted(p.name for p in (root / "thumbnails").iterdir()) == ["3.jpg", "4.jpg"]
    moved = local_cache.use_cache_dir(catalog, tmp_path / "elsewhere")
    assert moved.parent == tmp_path / "elsewhere" and local_cache.cache_folder(catalog) == moved
    from dsdesk.errors import InvalidInputError

    (tmp_path / "a-file").write_text("")
    with pytest.raises(InvalidInputError, match="is a file"):
        local_cache.use_cache_dir(catalog, tmp_path / "a-file")
    with pytest.raises(InvalidInputError, match="negative"):
        local_cache.trim_cache(catalog, -1)


def test_the_window_opens_preferences_and_applies_the_thumbnail_size(app_theme, demo_catalog, make_window,
                                                                     monkeypatch):
    win = make_window(demo_catalog)

    def fake_exec(dlg):
        dlg.thumb_size.setValue(256)
        dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
        dlg.accept()
        return dlg.DialogCode.Accepted

    monkeypatch.setattr(PreferencesDialog, "exec", fake_exec)
    win.act_preferences.trigger()
    assert win.grid.slider.value() == 256 and win.prefs.thumbnail_size == 256
    assert theme.current_theme(QApplication.instance()) == "dark"
    assert UiPrefs.load().theme == "dark"
