"""The CLI's window launchers: ``dsdesk demo`` opens the demo it built (not the catalog the
window remembers), ``--quit-after`` reaches the window, ``--version`` prints the one version.
In tests/ui because they import the GUI launcher, which tests/cli must run without."""

from __future__ import annotations

import pytest

import dsdesk
from dsdesk.cli.main import main


@pytest.fixture
def launched(monkeypatch):
    calls = []
    import dsdesk.ui.app

    monkeypatch.setattr(dsdesk.ui.app, "run_app", lambda target=None, quit_after=None: calls.append(
        (target, quit_after)) or 0)
    return calls


def test_demo_opens_the_catalog_it_built_not_the_remembered_one(launched, tmp_path, monkeypatch):
    from dsdesk.ui.settings import UiPrefs

    monkeypatch.setenv("DSDESK_CONFIG_DIR", str(tmp_path / "config"))
    other = dsdesk.open_catalog(tmp_path / "other.sqlite")
    UiPrefs(last_catalog=other.raw_url).save()
    other.close()
    assert main(["demo", "--images", "4", "-q", "--quit-after", "1.5"]) == 0
    (target, quit_after), = launched
    from dsdesk.catalog.engine import default_catalog_path

    assert target == "sqlite:///" + str(default_catalog_path()) and quit_after == 1.5


def test_gui_gets_quit_after_before_or_after_the_command(launched, tmp_path):
    cat = str(tmp_path / "c.sqlite")
    assert main(["--catalog", cat, "--quit-after", "2"]) == 0
    assert main(["gui", "--catalog", cat, "--quit-after", "3"]) == 0
    assert launched == [(cat, 2.0), (cat, 3.0)]


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"dsdesk {dsdesk.__version__}"
