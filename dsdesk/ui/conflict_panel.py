"""The conflict panel: what the inspector shows when a metadata save conflicted.

Someone else saved the item after it was read and changed some of the same keys.  The
panel says who and when, then lists each conflicting key path with the value it had when
read, "yours" and "theirs" (with who wrote theirs and when) as two radio buttons.  The user
picks per path, or "Keep all mine" / "Take all theirs", and saves; ``resolved`` carries the
choice per path (``{path tuple: "mine" | "theirs"}``) for
``Item.resolve_conflicts(error, choices)``.  Keys nobody else touched were merged already
and are not asked about.  "Back to editing" (``cancelled``) keeps the unsaved edits.

Run ``python -m dsdesk.ui.conflict_panel`` to see it with a made-up conflict.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.conflicts import MetadataConflictError
from dsdesk.api.formatting import format_datetime
from dsdesk.api.metadata_merge import ABSENT, MINE, THEIRS, Conflict, value_text

_BANNER_STYLE = ("QFrame#conflictBanner { background: rgba(224, 160, 48, 0.16); border: 1px solid rgba(224, 160, 48, 0.6);"
                 " border-radius: 6px; }")
# alternate-base, not base: Fusion fills a radio button's circle with base, which would vanish on it.
_CARD_STYLE = ("QFrame#conflictCard { background: palette(alternate-base); border: 1px solid palette(mid);"
               " border-radius: 6px; }")
_CAPTION_STYLE = "color: palette(placeholder-text); font-size: 8.5pt;"


def side_text(value, base, limit: int = 48) -> str:
    """A side's value for the panel: ``(removed)`` for a key that side removed."""
    if value is ABSENT and base is not ABSENT:
        return "(removed)"
    return value_text(value, limit)


def who_when(c: Conflict) -> str:
    """``alice · 2026-12-04 20:41`` for the writer of *c*'s theirs (``another operation``
    when it was a move, a bulk edit or a sync)."""
    who = c.theirs_by or "another operation"
    return f"{who} · {format_datetime(c.theirs_at)}" if c.theirs_at else who


class _ConflictCard(QFrame):
    """One conflicting path: its key, the value when read, and yours / theirs to pick from."""

    def __init__(self, conflict: Conflict, on_changed, parent: QWidget | None = None):
        super().__init__(parent)
        self.conflict = conflict
        self.setObjectName("conflictCard")
        self.setStyleSheet(_CARD_STYLE)
        key = QLabel(conflict.key, self)
        key.setStyleSheet("font-weight: 600; font-family: monospace;")
        key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        was = QLabel(f"when you read it: {value_text(conflict.base, 48)}", self)
        was.setStyleSheet(_CAPTION_STYLE)
        self.mine = QRadioButton(f"Yours:  {side_text(conflict.mine, conflict.base)}", self)
        self.mine.setToolTip(value_text(conflict.mine, 2000))
        self.theirs = QRadioButton(f"Theirs:  {side_text(conflict.theirs, conflict.base)}", self)
        self.theirs.setToolTip(value_text(conflict.theirs, 2000))
        by = QLabel(who_when(conflict), self)
        by.setStyleSheet(_CAPTION_STYLE + " padding-left: 22px;")
        self.group = QButtonGroup(self)
        self.group.addButton(self.mine)
        self.group.addButton(self.theirs)
        self.group.buttonToggled.connect(lambda *_: on_changed())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(2)
        for w in (key, was, self.mine, self.theirs, by):
            lay.addWidget(w)

    def choice(self) -> str | None:
        """``"mine"``, ``"theirs"`` or None while nothing is picked."""
        if self.mine.isChecked():
            return MINE
        if self.theirs.isChecked():
            return THEIRS
        return None

    def choose(self, side: str) -> None:
        """Pick ``"mine"`` or ``"theirs"``."""
        (self.mine if side == MINE else self.theirs).setChecked(True)


class ConflictPanel(QFrame):
    """The conflicts of one save, to decide (GUI thread only; no catalog access: the
    inspector's owner saves the decision through the API).

    ``resolved(dict)``: the user saved, with a choice for every path.
    ``cancelled()``: the user went back to the editor.
    """

    resolved = Signal(object)  # {path tuple: "mine" | "theirs"}
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.error: MetadataConflictError | None = None
        self.cards: list[_ConflictCard] = []
        banner = QFrame(self)
        banner.setObjectName("conflictBanner")
        banner.setStyleSheet(_BANNER_STYLE)
        self.title = QLabel(banner)
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setWordWrap(True)
        self.summary = QLabel(banner)
        self.summary.setWordWrap(True)
        blay = QVBoxLayout(banner)
        blay.setContentsMargins(10, 8, 10, 8)
        blay.addWidget(self.title)
        blay.addWidget(self.summary)
        self._list = QWidget(self)
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(6)
        self._list_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._list)
        self.all_mine_button = QPushButton("Keep all mine", self)
        self.all_mine_button.clicked.connect(lambda: self.choose_all(MINE))
        self.all_theirs_button = QPushButton("Take all theirs", self)
        self.all_theirs_button.clicked.connect(lambda: self.choose_all(THEIRS))
        self.cancel_button = QPushButton("Back to editing", self)
        self.cancel_button.setToolTip("Keep your unsaved edits and go back to the editor")
        self.cancel_button.clicked.connect(self.cancelled)
        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_clicked)
        picks = QHBoxLayout()
        picks.addWidget(self.all_mine_button)
        picks.addWidget(self.all_theirs_button)
        picks.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.cancel_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(banner)
        lay.addLayout(picks)
        lay.addWidget(scroll, 1)
        lay.addLayout(actions)

    def show_conflict(self, error: MetadataConflictError) -> None:
        """Show the conflicts of *error* (nothing picked yet)."""
        self.error = error
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        n = len(error.conflicts)
        first = error.conflicts[0] if error.conflicts else None
        who = who_when(first) if first is not None else "someone else"
        name, _, when = who.partition(" · ")
        self.title.setText(f"⚠  {name} changed {error.what}" + (f" at {when}" if when else ""))
        self.summary.setText(f"{'One key was' if n == 1 else f'{n} keys were'} changed by you both: choose "
                             f"which value to keep. Your other changes and theirs were merged.")
        for c in error.conflicts:
            card = _ConflictCard(c, self._update_buttons, self._list)
            self._list_layout.insertWidget(self._list_layout.count() - 1, card)
            self.cards.append(card)
        self._update_buttons()

    def choose_all(self, side: str) -> None:
        """Pick ``"mine"`` or ``"theirs"`` for every path."""
        for card in self.cards:
            card.choose(side)

    def choices(self) -> dict:
        """The choices made so far: ``{path tuple: "mine" | "theirs"}``."""
        return {card.conflict.path: card.choice() for card in self.cards if card.choice() is not None}

    def _update_buttons(self) -> None:
        left = sum(1 for card in self.cards if card.choice() is None)
        self.save_button.setEnabled(bool(self.cards) and not left)
        self.save_button.setToolTip(f"Choose a value for {left} more key{'s' if left != 1 else ''}" if left
                                    else "Save with these choices")

    def _on_save_clicked(self) -> None:
        if self.cards and len(self.choices()) == len(self.cards):
            self.resolved.emit(self.choices())


def _demo_error() -> MetadataConflictError:
    """A made-up conflict (two keys, one removal) for looking at the panel by hand."""
    import datetime as dt

    from dsdesk.api.conflicts import Theirs
    from dsdesk.api.metadata_merge import merge3

    base = {"user": {"split": "train", "review": {"state": "todo"}, "note": "blurry"}}
    mine = {"user": {"split": "val", "review": {"state": "ok"}}}
    theirs = {"user": {"split": "test", "review": {"state": "redo"}, "note": "blurry, retake"}}
    t = Theirs(7, dt.datetime(2026, 12, 4, 20, 41), "alice", theirs)
    return MetadataConflictError("item /train/a.jpg", "item", 1, base, mine, merge3(base, mine, theirs), t)


if __name__ == "__main__":  # pragma: no cover - a manual check
    import sys

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    panel = ConflictPanel()
    panel.show_conflict(_demo_error())
    panel.resize(340, 520)
    panel.show()
    sys.exit(app.exec())
