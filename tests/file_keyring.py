"""A keyring backend in a JSON file, for tests: set with ``monkeypatch.setattr(keyring,
"get_keyring", lambda: FileKeyring(path))`` so no test ever reaches the real OS keyring."""

from __future__ import annotations

import json

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    """A keyring in a JSON file: what the tests use instead of the OS keyring."""

    priority = 1

    def __init__(self, path):
        super().__init__()
        self.path = path

    def _load(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service, username):
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service, username, password):
        d = self._load()
        d[f"{service}\n{username}"] = password
        self.path.write_text(json.dumps(d))

    def delete_password(self, service, username):
        d = self._load()
        if d.pop(f"{service}\n{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self.path.write_text(json.dumps(d))
