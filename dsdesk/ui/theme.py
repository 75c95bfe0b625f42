"""Light and dark themes: the Fusion style with a light or a dark palette.

The user picks ``light``, ``dark`` or ``system`` (the default) in the preferences; ``system``
follows ``QStyleHints.colorScheme()`` and switches again when the desktop's scheme changes.
Fusion is used everywhere so both palettes look the same on every desktop (the native
styles of some desktops ignore an application palette).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

#: The theme choices the preferences offer, in their order.
THEMES = ("system", "light", "dark")
THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
_PROPERTY = "dsdesk_theme"  # the app's current choice, read when the system's scheme changes


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style."""
    p = QPalette()
    base, window, text = QColor(37, 38, 41), QColor(47, 49, 53), QColor(225, 227, 230)
    for role, color in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, QColor(55, 57, 62)),
                        (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
                        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
                        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
                        (QPalette.ColorRole.Highlight, QColor(47, 111, 222)),
                        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
                        (QPalette.ColorRole.Link, QColor(110, 160, 255)), (QPalette.ColorRole.Mid, QColor(80, 82, 88)),
                        (QPalette.ColorRole.Midlight, QColor(66, 68, 74)),
                        (QPalette.ColorRole.PlaceholderText, QColor(140, 142, 148))):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 128))
    return p


def light_palette(app: QApplication) -> QPalette:
    """Fusion's light palette with the alternate rows and mid-lights the grid and tables use."""
    pal = app.style().standardPalette()
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor(236, 238, 241))
    pal.setColor(QPalette.ColorRole.Midlight, QColor(222, 225, 230))
    return pal


def effective_scheme(app: QApplication, choice: str) -> str:
    """``"light"`` or ``"dark"``: what *choice* means now (``system`` asks the desktop)."""
    if choice in ("light", "dark"):
        return choice
    return "dark" if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, choice: str = "system") -> str:
    """Apply the theme *choice* (one of :data:`THEMES`; anything else means ``system``) and
    return the scheme applied.  With ``system``, later changes of the desktop's scheme are
    followed (see :func:`follow_system`)."""
    if choice not in THEMES:
        choice = "system"
    app.setProperty(_PROPERTY, choice)
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    scheme = effective_scheme(app, choice)
    app.setPalette(dark_palette() if scheme == "dark" else light_palette(app))
    return scheme


def current_theme(app: QApplication) -> str:
    """The theme choice last applied to *app* (``system`` before any)."""
    return app.property(_PROPERTY) or "system"


def follow_system(app: QApplication) -> None:
    """Re-apply the theme when the desktop switches between light and dark, while the user's
    choice is ``system`` (connected once per application)."""
    if app.property("dsdesk_theme_follows"):
        return
    app.setProperty("dsdesk_theme_follows", True)

    def on_scheme_changed(_scheme) -> None:
        if current_theme(app) == "system":
            apply_theme(app, "system")

    app.styleHints().colorSchemeChanged.connect(on_scheme_changed)
