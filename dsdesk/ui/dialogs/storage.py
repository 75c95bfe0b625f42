"""Storage connections: the project's drivers, and a form to add one that must pass a test first.

Secrets are never typed in here: the form records *where* credentials are (environment
variable, profile, key file, OS keyring, the cloud's default chain, or none), which is
all the catalog keeps.  Tests and saves run on workers (a dead endpoint fails in seconds,
never freezing the dialog).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.drivers import (
    StorageKind,
    credential_kinds,
    credentials_reference,
    describe_credentials,
    kind_icon,
    storage_kinds,
)
from dsdesk.ui.icons import icon


def form_to_spec(kind: StorageKind, form: dict) -> dict:
    """The keyword arguments of ``project.drivers.create`` (and ``.test``) for a filled form.

    *form* holds the common inputs (``name``, ``allow_external_delete``,
    ``write_generated``), one text per form field of *kind* by the field's name, and
    ``cred_kind`` / ``cred_value`` for a credentials field.  An optional field left empty
    is left out: ``create``'s default applies.
    """
    spec = {"name": form.get("name", "").strip(), "driver_type": kind.kind,
            "allow_external_delete": bool(form.get("allow_external_delete")),
            "write_generated": bool(form.get("write_generated"))}
    for f in kind.fields:
        if f.type == "credentials":
            spec[f.name] = credentials_reference(form.get("cred_kind") or kind.credential_kinds[0],
                                                 form.get("cred_value", ""))
            continue
        text = str(form.get(f.name, "")).strip()
        if text or f.required:
            spec[f.name] = text
    return spec


class StorageConnectionsDialog(QDialog):
    """The project's drivers and the "add a driver" form (Test, then Save).

    The form is built from the storage kinds of the API (``dsdesk.api.drivers.storage_kinds``):
    one row per form field any kind has, enabled and labelled for the chosen kind.  Test
    calls ``project.drivers.test`` with the very arguments Save then gives
    ``project.drivers.create``; both run on the task runner's workers.
    """

    def __init__(self, parent: QWidget | None, cat, project_id: int, project_name: str, tasks):
        super().__init__(parent)
        self.cat, self.project_id, self.tasks = cat, project_id, tasks
        self.kinds = {k.kind: k for k in storage_kinds()}
        self.setWindowTitle(f"Storage connections of {project_name}")
        self.setMinimumWidth(620)
        self.list = QListWidget(self)
        self.name = QLineEdit(self)
        self.type = QComboBox(self)
        for k in self.kinds.values():
            self.type.addItem(icon(k.icon), k.label, k.kind)
        self.form_layout = QFormLayout()
        self.form_layout.addRow("Name:", self.name)
        self.form_layout.addRow("Type:", self.type)
        #: field name -> (its row's label, its input); every field of every kind, in order.
        self.fields: dict[str, tuple[QLabel, QWidget]] = {}
        self.cred_kind = QComboBox(self)
        self.cred_value = QLineEdit(self)
        for k in self.kinds.values():
            for f in k.fields:
                if f.name in self.fields:
                    continue
                label = QLabel(f"{f.label}:", self)
                widget = self.cred_kind if f.type == "credentials" else QLineEdit(self)
                self.fields[f.name] = (label, widget)
                self.form_layout.addRow(label, widget)
                if f.type == "credentials":
                    self.form_layout.addRow("", self.cred_value)
        self.allow_delete = QCheckBox("Allow dsdesk to delete objects in this storage", self)
        self.write_generated = QCheckBox("Share thumbnails in <prefix>/.dsdesk/", self)
        self.form_layout.addRow("", self.allow_delete)
        self.form_layout.addRow("", self.write_generated)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.test_button = QPushButton(icon("test"), "Test connection", self)
        self.save_button = QPushButton("Save", self)
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Test the connection first")
        box = QGroupBox("Add a connection", self)
        bl = QVBoxLayout(box)
        bl.addLayout(self.form_layout)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.test_button)
        row.addWidget(self.save_button)
        bl.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Connections (secrets are never stored: only where to find them):", self))
        lay.addWidget(self.list)
        lay.addWidget(box)
        lay.addWidget(close)
        self.type.currentIndexChanged.connect(self._on_type_changed)
        self.cred_kind.currentIndexChanged.connect(self._on_form_changed)
        for w in (self.name, self.cred_value, *(w for _, w in self.fields.values() if isinstance(w, QLineEdit))):
            w.textChanged.connect(self._on_form_changed)
        self.test_button.clicked.connect(self.test_connection)
        self.save_button.clicked.connect(self.save_connection)
        self._tested: dict | None = None
        self._on_type_changed()
        self.reload()

    @property
    def kind(self) -> StorageKind:
        """The storage kind chosen in the form."""
        return self.kinds[self.type.currentData()]

    def reload(self) -> None:
        """Read the project's drivers (worker) and list them."""
        def read():
            return [(d.name, d.type, d.bucket_name, d.path, d.endpoint, d.credentials)
                    for d in self.cat.projects.get(project_id=self.project_id).drivers.list()]

        self.tasks.run(read, self._show_drivers, lambda e: self._set_status(str(e), False))

    def _show_drivers(self, rows) -> None:
        every = {k.kind: k for k in storage_kinds(creatable=False)}
        self.list.clear()
        for name, kind, bucket, prefix, endpoint, cred in rows:
            entry = every.get(kind)
            external = entry is None or entry.external
            where = f"{bucket}/{prefix}".rstrip("/") if external else "the app's own store"
            text = f"{name}  ·  {kind}  ·  {where}"
            if endpoint:
                text += f"  ·  {endpoint}"
            if entry is None or entry.credential_kinds:
                text += f"  ·  credentials: {describe_credentials(cred)}"
            it = QListWidgetItem(icon(kind_icon(kind)), text)
            it.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(it)

    def values(self) -> dict:
        """The form's current values: ``name``, ``type``, one text per form field (by the
        field's name), ``cred_kind``, ``cred_value``, ``allow_external_delete``, ``write_generated``."""
        out = {"name": self.name.text(), "type": self.type.currentData(),
               "cred_kind": self.cred_kind.currentData(), "cred_value": self.cred_value.text(),
               "allow_external_delete": self.allow_delete.isChecked(),
               "write_generated": self.write_generated.isChecked()}
        for fname, (_label, w) in self.fields.items():
            if isinstance(w, QLineEdit):
                out[fname] = w.text()
        return out

    def set_values(self, **v) -> None:
        """Fill the form (tests and pre-filled forms): the keys of :meth:`values`."""
        if "type" in v:
            self.type.setCurrentIndex(self.type.findData(v["type"]))
        if "name" in v:
            self.name.setText(v["name"])
        for fname, (_label, w) in self.fields.items():
            if fname in v and isinstance(w, QLineEdit):
                w.setText(v[fname])
        if "cred_kind" in v:
            self.cred_kind.setCurrentIndex(self.cred_kind.findData(v["cred_kind"]))
        if "cred_value" in v:
            self.cred_value.setText(v["cred_value"])
        if "allow_external_delete" in v:
            self.allow_delete.setChecked(bool(v["allow_external_delete"]))
        if "write_generated" in v:
            self.write_generated.setChecked(bool(v["write_generated"]))

    def _on_type_changed(self, *_a) -> None:
        kind = self.kind
        for fname, (label, w) in self.fields.items():
            f = kind.field(fname)
            w.setEnabled(f is not None)
            if f is not None:
                label.setText(f"{f.label}:")
                w.setToolTip(f.help)
                if isinstance(w, QLineEdit):
                    w.setPlaceholderText(f.placeholder)
        previous = self.cred_kind.currentData()
        self.cred_kind.blockSignals(True)
        self.cred_kind.clear()
        for ck in credential_kinds(kind.kind):
            self.cred_kind.addItem(ck.label, ck.kind)
        at = self.cred_kind.findData(previous)
        self.cred_kind.setCurrentIndex(at if at >= 0 else 0)
        self.cred_kind.blockSignals(False)
        self._on_form_changed()

    def _on_form_changed(self, *_a) -> None:
        kind = self.kind
        ck = next((c for c in credential_kinds(kind.kind) if c.kind == self.cred_kind.currentData()), None)
        takes_value = kind.field("credentials") is not None and ck is not None and ck.value_label is not None
        self.cred_value.setEnabled(takes_value)
        self.cred_value.setPlaceholderText(ck.placeholder if takes_value else "")
        self._tested = None
        self.save_button.setEnabled(False)

    def _set_status(self, text: str, ok: bool | None) -> None:
        color = {True: "#27ae60", False: "#c0392b"}.get(ok, "palette(text)")
        self.status.setStyleSheet(f"color: {color};")
        self.status.setText(text)

    def test_connection(self) -> None:
        """Test the form's connection on a worker (``project.drivers.test``); Save is
        enabled when it passes, to save exactly what was tested."""
        kind = self.kind
        spec = form_to_spec(kind, self.values())
        missing = [f.label.lower() for f in kind.fields if f.required and not spec.get(f.name)]
        if not spec["name"] or missing:
            self._set_status("give a name" + "".join(f" and a {m}" for m in missing), False)
            return
        self._set_status("Testing…", None)
        self.test_button.setEnabled(False)

        def test():
            return self.cat.projects.get(project_id=self.project_id).drivers.test(**spec)

        def done(result) -> None:
            self.test_button.setEnabled(True)
            self._tested = spec
            self.save_button.setEnabled(True)
            self.save_button.setToolTip("")
            read = f", read {result.get('read')}" if result.get("read") else ""
            self._set_status(f"Connection works: listed the storage{read}.", True)

        def failed(e) -> None:
            self.test_button.setEnabled(True)
            self._set_status(f"Test failed: {e}", False)

        self.tasks.run(test, done, failed)

    def save_connection(self) -> None:
        """Save the tested connection through ``project.drivers.create``."""
        spec = self._tested
        if spec is None:
            return

        def save():
            return self.cat.projects.get(project_id=self.project_id).drivers.create(**spec)

        def done(d) -> None:
            self._set_status(f"Saved '{d.name}'.", True)
            self._tested = None
            self.save_button.setEnabled(False)
            self.reload()

        self.tasks.run(save, done, lambda e: self._set_status(f"Not saved: {e}", False))
