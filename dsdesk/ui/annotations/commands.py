"""The viewer's edits as undo commands: each redo and each undo changes the
:class:`~dsdesk.ui.annotations.document.AnnotationDocument` and so saves through the API
(undoing a drawn box deletes it in the catalog; undoing a delete uploads it again)."""

from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from dsdesk.ui.annotations.document import AnnotationDocument, AnnotationRecord


class AddAnnotationCommand(QUndoCommand):
    """Add a drawn shape or a class tag."""

    def __init__(self, doc: AnnotationDocument, record: AnnotationRecord):
        super().__init__(f"Add {record.type} '{record.label}'")
        self.doc, self.record = doc, record

    def redo(self) -> None:
        self.doc.insert(self.record)

    def undo(self) -> None:
        self.doc.remove(self.record)


class DeleteAnnotationCommand(QUndoCommand):
    """Delete an annotation; undo puts it back where it was (under a new id)."""

    def __init__(self, doc: AnnotationDocument, record: AnnotationRecord):
        super().__init__(f"Delete {record.type} '{record.label}'")
        self.doc, self.record = doc, record
        self.index = doc.records.index(record)

    def redo(self) -> None:
        self.index = self.doc.remove(self.record)

    def undo(self) -> None:
        self.doc.insert(self.record, self.index)


class RelabelAnnotationCommand(QUndoCommand):
    """Give an annotation another label."""

    def __init__(self, doc: AnnotationDocument, record: AnnotationRecord, label: str):
        super().__init__(f"Relabel {record.type} '{record.label}' as '{label}'")
        self.doc, self.record = doc, record
        self.old, self.new = record.label, label

    def redo(self) -> None:
        self.doc.set_label(self.record, self.new)

    def undo(self) -> None:
        self.doc.set_label(self.record, self.old)


class ReshapeAnnotationCommand(QUndoCommand):
    """Move or reshape an annotation (a drag of the select tool); undo puts it back."""

    def __init__(self, doc: AnnotationDocument, record: AnnotationRecord, coordinates):
        super().__init__(f"Reshape {record.type} '{record.label}'")
        self.doc, self.record = doc, record
        self.old, self.new = copy.deepcopy(record.data.get("coordinates")), copy.deepcopy(coordinates)

    def redo(self) -> None:
        self.doc.set_coordinates(self.record, self.new)

    def undo(self) -> None:
        self.doc.set_coordinates(self.record, self.old)
