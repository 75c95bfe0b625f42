"""Icons: SVG files in ``dsdesk/resources/icons`` loaded through one function that fails loudly.

Nothing is fetched at run time.  The resources live inside the package, so a checkout, an
installed wheel and the PyInstaller bundle (which keeps the package's folder layout) find
them at the same place; ``DSDESK_RESOURCES`` overrides it.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon, QPixmap


class UnknownIconError(KeyError):
    """An icon name that has no SVG file: a programming error, never silently blank."""


def resources_dir() -> Path:
    """The package's resources folder (icons, the .desktop file)."""
    return Path(__file__).resolve().parents[1] / "resources"


@cache
def icons_dir() -> Path:
    """The folder holding the SVG icons."""
    env = os.environ.get("DSDESK_RESOURCES")
    candidates = ([Path(env) / "icons"] if env else []) + [resources_dir() / "icons"]
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(f"dsdesk's icons are missing: looked in {', '.join(map(str, candidates))}")


def icon_names() -> list[str]:
    """Every icon name that :func:`icon` accepts."""
    return sorted(p.stem for p in icons_dir().glob("*.svg"))


_icons: dict[str, QIcon] = {}


def icon(name: str) -> QIcon:
    """The QIcon for *name* (``dsdesk/resources/icons/<name>.svg``); UnknownIconError if there is none."""
    got = _icons.get(name)
    if got is not None:
        return got
    path = icons_dir() / f"{name}.svg"
    if not path.is_file():
        raise UnknownIconError(f"no icon named {name!r} in {icons_dir()} (known: {', '.join(icon_names())})")
    ic = QIcon(str(path))
    if ic.isNull():
        raise UnknownIconError(f"icon {name!r} ({path}) could not be loaded: is Qt's SVG plugin installed?")
    _icons[name] = ic
    return ic


def pixmap(name: str, size: int) -> QPixmap:
    """The icon *name* rendered at *size* x *size* pixels."""
    return icon(name).pixmap(size, size)
