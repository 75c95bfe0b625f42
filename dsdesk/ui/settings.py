"""Where the GUI keeps its state: Qt's own blobs in QSettings, the app's preferences typed.

Both live in the app's config directory (``$DSDESK_CONFIG_DIR`` or the platform's user
config dir), so tests point them at ``tmp_path`` with one environment variable.  QSettings
holds only what Qt produces (geometry, dock and splitter state); :class:`UiPrefs` holds
the user's choices (last catalog, dataset and folder, thumbnail size) as typed JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

ENV_CONFIG_DIR = "DSDESK_CONFIG_DIR"


def config_dir() -> Path:
    """The GUI's configuration folder (created on demand)."""
    env = os.environ.get(ENV_CONFIG_DIR)
    d = Path(env) if env else platformdirs.user_config_path("dsdesk", appauthor=False)
    d.mkdir(parents=True, exist_ok=True)
    return d


def qt_settings() -> QSettings:
    """The QSettings file for window geometry and dock/splitter state."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


@dataclass
class UiPrefs:
    """The user's GUI preferences, saved as JSON next to the QSettings file."""

    last_catalog: str | None = None
    last_dataset_id: int | None = None
    last_folder: str | None = None
    thumbnail_size: int = 160
    include_subfolders: bool = True
    show_annotations: bool = False  # the grid draws annotations over thumbnails (View > Show annotations)
    page: str = "browser"
    # The datasets table's sort per catalog and project: {"<catalog url>#<project id>":
    # [column name, ascending]}.  A view preference of this user, unlike the column layout,
    # which lives in the catalog and is shared by the team.
    datasets_sort: dict = field(default_factory=dict)
    # The preferences dialog's choices (dsdesk.ui.dialogs.preferences).
    theme: str = "system"  # "system", "light" or "dark" (dsdesk.ui.theme.THEMES)
    default_catalog: str | None = None  # opened at start instead of the last one used
    recent_catalogs: list = field(default_factory=list)  # newest first ("Open recent")
    cache_dir: str | None = None  # where thumbnails are cached; None: beside each catalog
    cache_max_mb: int = 2048  # the thumbnail cache is trimmed to this at start

    @classmethod
    def load(cls) -> UiPrefs:
        """Read the preferences; defaults for anything missing or malformed."""
        path = config_dir() / "prefs.json"
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        out = cls()
        for f in fields(cls):
            v = raw.get(f.name)
            if v is not None and isinstance(v, type(getattr(out, f.name)) if getattr(out, f.name) is not None
                                             else (int, str)):
                setattr(out, f.name, v)
        return out

    def save(self) -> None:
        """Write the preferences atomically."""
        path = config_dir() / "prefs.json"
        tmp = path.with_suffix(".json.part")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)
