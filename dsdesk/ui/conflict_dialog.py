"""ConflictDialog: the conflict panel as a modal dialog, for a save that conflicted outside
the inspector (a dataset's properties: description, user metadata, name).

:meth:`ConflictDialog.ask` returns the choice per path for
``entity.resolve_conflicts(error, choices)``, or None when the user went back to editing.
:func:`save_resolving` runs a save through the window's ``run_write`` and, when it
conflicts, asks and saves the decision the same way (again, if that conflicts too).

Open it by hand (a made-up conflict)::

    python -m dsdesk.ui.conflict_dialog
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from dsdesk.api.conflicts import MetadataConflictError
from dsdesk.ui.conflict_panel import ConflictPanel


class ConflictDialog(QDialog):
    """One MetadataConflictError to decide on (GUI thread only)."""

    def __init__(self, error: MetadataConflictError, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Conflicting changes — {error.what}")
        self.setObjectName("conflictDialog")
        self.choices: dict | None = None
        self.panel = ConflictPanel(self)
        self.panel.show_conflict(error)
        self.panel.resolved.connect(self._on_panel_resolved)
        self.panel.cancelled.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.panel)
        self.resize(440, 340)

    def _on_panel_resolved(self, choices: dict) -> None:
        self.choices = choices
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget | None, error: MetadataConflictError) -> dict | None:
        """Run the dialog modally: ``{path: "mine" | "theirs"}``, or None (back to editing)."""
        dlg = cls(error, parent)
        return dlg.choices if dlg.exec() == QDialog.DialogCode.Accepted else None


def save_resolving(host, title: str, save: Callable[[], Any], resolve: Callable[[MetadataConflictError, dict], Any],
                   changes=frozenset()) -> None:
    """``host.run_write(title, save)``; when *save* raises MetadataConflictError, ask the
    user (:class:`ConflictDialog`) and run ``resolve(error, choices)`` the same way.  Other
    errors are shown by ``run_write`` as usual."""

    def attempt(fn: Callable[[], Any]) -> None:
        def guarded():
            try:
                return fn()
            except MetadataConflictError as e:  # returned, not raised: the GUI thread asks
                return e

        def done(result) -> None:
            if isinstance(result, MetadataConflictError):
                choices = ConflictDialog.ask(host.widget(), result)
                if choices is not None:
                    attempt(lambda: resolve(result, choices))

        host.run_write(title, guarded, changes, on_done=done)

    attempt(save)


if __name__ == "__main__":  # pragma: no cover - a manual check
    import sys

    from PySide6.QtWidgets import QApplication

    from dsdesk.ui.conflict_panel import _demo_error

    app = QApplication(sys.argv)
    print(ConflictDialog.ask(None, _demo_error()))
