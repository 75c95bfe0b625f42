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

from dsdesk.ui.icons import icon

DRIVER_TYPES = [("local", "Local folder"), ("s3", "Amazon S3 / S3-compatible"), ("gcs", "Google Cloud Storage"),
                ("azure", "Azure Blob Storage")]
CRED_KINDS = [("default", "The cloud's default chain"), ("env", "Environment variable"),
              ("profile", "Named profile (S3)"), ("file", "Key file"), ("keyring", "OS keyring (service/user)"),
              ("anonymous", "Anonymous (public bucket)")]


def form_to_spec(form: dict) -> dict:
    """The keyword arguments of ``project.drivers.create`` for a filled form."""
    kind = form["type"]
    spec = {"name": form["name"].strip(), "driver_type": kind, "bucket_name": form["bucket"].strip(),
            "path": form.get("prefix", "").strip(), "allow_external_delete": bool(form.get("allow_delete")),
            "write_generated": bool(form.get("write_generated"))}
    if kind == "s3":
        spec["endpoint"] = form.get("endpoint", "").strip() or None
        spec["region"] = form.get("region", "").strip() or None
    if kind != "local":
        ck, cv = form.get("cred_kind", "default"), form.get("cred_value", "").strip()
        spec["credentials"] = ck if ck in ("default", "anonymous") else f"{ck}:{cv}"
    return spec


def test_spec(cat, project_id: int, spec: dict) -> dict:
    """Open the described driver and list (and read) through it; raises StorageError (worker thread)."""
    from dsdesk.api.drivers import _TYPES
    from dsdesk.storage import credentials as creds
    from dsdesk.storage.drivers import DriverConfig, make_driver

    kind = _TYPES.get(spec["driver_type"], spec["driver_type"])
    cfg = DriverConfig(kind=kind, bucket=spec["bucket_name"], prefix=spec.get("path", ""),
                       endpoint_url=spec.get("endpoint"), region=spec.get("region"),
                       credentials_ref=None if kind == "local" else creds.parse_ref(spec.get("credentials")),
                       name=spec["name"])
    drv = make_driver(cfg, blob_root=cat.db.blob_root)
    try:
        return drv.test()
    finally:
        drv.close()


class StorageConnectionsDialog(QDialog):
    """The project's drivers and the "add a driver" form (Test, then Save)."""

    def __init__(self, parent: QWidget | None, cat, project_id: int, project_name: str, tasks):
        super().__init__(parent)
        self.cat, self.project_id, self.tasks = cat, project_id, tasks
        self.setWindowTitle(f"Storage connections of {project_name}")
        self.setMinimumWidth(620)
        self.list = QListWidget(self)
        self.name = QLineEdit(self)
        self.type = QComboBox(self)
        for k, label in DRIVER_TYPES:
            self.type.addItem(icon(f"driver-{k}"), label, k)
        self.bucket = QLineEdit(self)
        self.prefix = QLineEdit(self)
        self.endpoint = QLineEdit(self)
        self.endpoint.setPlaceholderText("https://s3.example.com (empty: AWS)")
        self.region = QLineEdit(self)
        self.region.setPlaceholderText("us-east-1")
        self.cred_kind = QComboBox(self)
        for k, label in CRED_KINDS:
            self.cred_kind.addItem(label, k)
        self.cred_value = QLineEdit(self)
        self.allow_delete = QCheckBox("Allow dsdesk to delete objects in this storage", self)
        self.write_generated = QCheckBox("Share thumbnails in <prefix>/.dsdesk/", self)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.test_button = QPushButton(icon("test"), "Test connection", self)
        self.save_button = QPushButton("Save", self)
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Test the connection first")
        self.form_layout = QFormLayout()
        self.form_layout.addRow("Name:", self.name)
        self.form_layout.addRow("Type:", self.type)
        self.form_layout.addRow("Bucket / folder:", self.bucket)
        self.form_layout.addRow("Prefix:", self.prefix)
        self.form_layout.addRow("Endpoint:", self.endpoint)
        self.form_layout.addRow("Region:", self.region)
        self.form_layout.addRow("Credentials:", self.cred_kind)
        self.form_layout.addRow("", self.cred_value)
        self.form_layout.addRow("", self.allow_delete)
        self.form_layout.addRow("", self.write_generated)
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
        self.type.currentIndexChanged.connect(self._on_form_changed)
        self.cred_kind.currentIndexChanged.connect(self._on_form_changed)
        for w in (self.name, self.bucket, self.prefix, self.endpoint, self.region, self.cred_value):
            w.textChanged.connect(self._on_form_changed)
        self.test_button.clicked.connect(self.test_connection)
        self.save_button.clicked.connect(self.save_connection)
        self._tested: dict | None = None
        self._on_form_changed()
        self.reload()

    def reload(self) -> None:
        """Read the project's drivers (worker) and list them."""
        def read():
            return [(d.name, d.type, d.bucket_name, d.path, d.endpoint, d.credentials)
                    for d in self.cat.projects.get(project_id=self.project_id).drivers.list()]

        self.tasks.run(read, self._show_drivers, lambda e: self._set_status(str(e), False))

    def _show_drivers(self, rows) -> None:
        from dsdesk.storage.credentials import describe

        self.list.clear()
        for name, kind, bucket, prefix, endpoint, cred in rows:
            where = "the app's own store" if kind == "internal" else f"{bucket}/{prefix}".rstrip("/")
            text = f"{name}  ·  {kind}  ·  {where}"
            if endpoint:
                text += f"  ·  {endpoint}"
            if kind not in ("internal", "local"):
                text += f"  ·  credentials: {describe(cred)}"
            it = QListWidgetItem(icon(f"driver-{kind}" if kind in ("internal", "local", "s3", "gcs", "azure")
                                      else "storage"), text)
            it.setData(Qt.ItemDataRole.UserRole, name)
            self.list.addItem(it)

    def values(self) -> dict:
        """The form's current values."""
        return {"name": self.name.text(), "type": self.type.currentData(), "bucket": self.bucket.text(),
                "prefix": self.prefix.text(), "endpoint": self.endpoint.text(), "region": self.region.text(),
                "cred_kind": self.cred_kind.currentData(), "cred_value": self.cred_value.text(),
                "allow_delete": self.allow_delete.isChecked(), "write_generated": self.write_generated.isChecked()}

    def set_values(self, **v) -> None:
        """Fill the form (tests and pre-filled forms)."""
        for key, w in (("name", self.name), ("bucket", self.bucket), ("prefix", self.prefix),
                       ("endpoint", self.endpoint), ("region", self.region), ("cred_value", self.cred_value)):
            if key in v:
                w.setText(v[key])
        if "type" in v:
            self.type.setCurrentIndex(self.type.findData(v["type"]))
        if "cred_kind" in v:
            self.cred_kind.setCurrentIndex(self.cred_kind.findData(v["cred_kind"]))

    def _on_form_changed(self, *_a) -> None:
        kind = self.type.currentData()
        cloud = kind != "local"
        for w in (self.endpoint, self.region):
            w.setEnabled(kind == "s3")
        self.cred_kind.setEnabled(cloud)
        ck = self.cred_kind.currentData()
        self.cred_value.setEnabled(cloud and ck not in ("default", "anonymous"))
        self.cred_value.setPlaceholderText({"env": "VARIABLE_NAME", "profile": "profile name",
                                            "file": "/path/to/key.json", "keyring": "service/username"}.get(ck, ""))
        self.bucket.setPlaceholderText("/path/to/folder" if kind == "local" else "bucket or container name")
        self._tested = None
        self.save_button.setEnabled(False)

    def _set_status(self, text: str, ok: bool | None) -> None:
        color = {True: "#27ae60", False: "#c0392b"}.get(ok, "palette(text)")
        self.status.setStyleSheet(f"color: {color};")
        self.status.setText(text)

    def test_connection(self) -> None:
        """Test the form's connection on a worker; Save is enabled when it passes."""
        try:
            spec = form_to_spec(self.values())
            if not spec["name"] or not spec["bucket_name"]:
                raise ValueError("give a name and a bucket or folder")
        except ValueError as e:
            self._set_status(str(e), False)
            return
        self._set_status("Testing…", None)
        self.test_button.setEnabled(False)

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

        self.tasks.run(lambda: test_spec(self.cat, self.project_id, spec), done, failed)

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
