"""The "keep internal binaries in a bucket" fields of a new catalog (the Open catalog dialog).

Ticked, the box describes an S3 / GCS / Azure prefix and the *reference* to its credentials
(``env:NAME``, ``profile:NAME`` ...), never a secret; :meth:`InternalStoreBox.spec` validates
them through :mod:`dsdesk.api.internal_store` (no network: the dialog checks the bucket on
a worker thread).  Unticked, the new catalog keeps its binaries in a folder beside it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLineEdit, QWidget

from dsdesk.api import internal_store as stores
from dsdesk.ui.icons import icon

#: The clouds offered, with the label the combo box shows.
STORE_KINDS = (("s3", "Amazon S3 or S3-compatible"), ("gcs", "Google Cloud Storage"), ("azure", "Azure Blob"))


class InternalStoreBox(QGroupBox):
    """A checkable group of the bucket fields.  GUI thread only."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("New catalog: keep internal binaries in a bucket", parent)
        self.setObjectName("internalStoreBox")
        self.setCheckable(True)
        self.setChecked(False)
        self.setToolTip("Chosen once, when the catalog is created: every client that opens it then reads and "
                        "writes the same bucket. Unticked: a folder beside the catalog.")
        form = QFormLayout(self)
        self.kind = QComboBox()
        for kind, label in STORE_KINDS:
            self.kind.addItem(icon(f"driver-{kind}"), label, kind)
        self.bucket = QLineEdit()
        self.bucket.setPlaceholderText("team-datasets")
        self.prefix = QLineEdit()
        self.prefix.setPlaceholderText("dsdesk/ (optional)")
        self.endpoint = QLineEdit()
        self.endpoint.setPlaceholderText("optional: https://s3.example.org")
        self.credentials = QLineEdit()
        self.credentials.setPlaceholderText("env:NAME, profile:NAME, file:PATH, keyring:SERVICE/USER, default")
        for label, field in (("Cloud:", self.kind), ("Bucket:", self.bucket), ("Prefix:", self.prefix),
                             ("Endpoint:", self.endpoint), ("Credentials:", self.credentials)):
            form.addRow(label, field)

    def spec(self) -> dict | None:
        """The location the fields describe, validated (InvalidInputError naming the problem),
        or None when the box is unticked."""
        if not self.isChecked():
            return None
        return stores.location({"kind": self.kind.currentData(), "bucket": self.bucket.text(),
                                "prefix": self.prefix.text(), "endpoint": self.endpoint.text().strip(),
                                "credentials": self.credentials.text().strip() or "default"})
