"""Credential references: where a driver's secrets are, never the secrets themselves.

A driver stores ``credentials_ref`` in the catalog, a small JSON object that *names* the
place its secrets live.  They are read at connection time, kept in memory only, and never
written to the catalog, a job record or a log line.

=================================================  =============================================
``{"kind": "anonymous"}``                          public buckets (no signing)
``{"kind": "default"}``                            the cloud library's own chain (env, ~/.aws,
                                                   gcloud application-default credentials ...)
``{"kind": "env", "var": "NAME"}``                 the environment variable NAME holds them
``{"kind": "file", "path": "/path/key.json"}``     a key file (GCS service-account JSON, or a
                                                   JSON object / Azure connection string)
``{"kind": "profile", "name": "prod"}``            an AWS named profile (S3 only)
``{"kind": "keyring", "service": S, "username": U}``  an entry in the OS keyring
=================================================  =============================================

The secret text (from an env variable, a file or the keyring) is either a JSON object of
the cloud's options (S3 ``{"key", "secret", "token"}``; GCS a service-account key;
Azure ``{"account_name", "account_key" | "sas_token" | "connection_string"}``) or, for
Azure, a bare connection string.

The API also accepts a short string: ``"env:NAME"``, ``"file:/path"``, ``"profile:NAME"``,
``"keyring:SERVICE/USERNAME"``, ``"anonymous"``, ``"default"``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsdesk.errors import InvalidInputError, StorageError


@dataclass(frozen=True)
class CredentialKind:
    """One kind of credentials reference, as a form shows it."""

    kind: str
    label: str
    #: What the reference names (a variable, a path ...); None: the kind takes no value.
    value_label: str | None = None
    placeholder: str = ""


#: Every kind of reference (which ones a storage kind takes: dsdesk.storage.kinds).
CREDENTIAL_KINDS: dict[str, CredentialKind] = {c.kind: c for c in (
    CredentialKind("anonymous", "Anonymous (public bucket)"),
    CredentialKind("default", "The cloud's default chain"),
    CredentialKind("env", "Environment variable", "variable", "VARIABLE_NAME"),
    CredentialKind("file", "Key file", "path", "/path/to/key.json"),
    CredentialKind("profile", "Named profile (S3)", "profile", "profile name"),
    CredentialKind("keyring", "OS keyring (service/user)", "service/user", "service/username"),
)}
KINDS = tuple(CREDENTIAL_KINDS)


def short_ref(kind: str, value: str = "") -> str:
    """The short reference string of a credentials *kind* and its *value* (``env:NAME``,
    ``default`` ...), as :func:`parse_ref` reads it."""
    ck = CREDENTIAL_KINDS.get(kind)
    if ck is None:
        raise InvalidInputError(f"unknown credentials kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind if ck.value_label is None else f"{kind}:{value.strip()}"
# Field names that mean someone tried to store a secret itself in the catalog.
_SECRET_FIELDS = {"secret", "key", "password", "token", "account_key", "sas_token", "connection_string",
                  "aws_secret_access_key", "secret_access_key", "private_key", "client_secret"}


def parse_ref(value: Any) -> dict[str, Any]:
    """Normalise what a user gave (a dict, a short string or None) into a credentials_ref dict.

    Refuses anything that carries a secret: the catalog must only ever name where one is.
    """
    if value is None:
        return {"kind": "anonymous"}
    if isinstance(value, str):
        s = value.strip()
        if s in ("anonymous", "anon", "default"):
            return {"kind": "anonymous" if s != "default" else "default"}
        kind, sep, rest = s.partition(":")
        if not sep or not rest:
            raise InvalidInputError(
                f"credentials must be 'env:NAME', 'file:PATH', 'profile:NAME', 'keyring:SERVICE/USER', "
                f"'anonymous' or 'default', not {s[:12]!r}...")
        value = {"env": lambda r: {"kind": "env", "var": r},
                 "file": lambda r: {"kind": "file", "path": r},
                 "profile": lambda r: {"kind": "profile", "name": r},
                 "keyring": lambda r: dict(zip(("service", "username"), r.split("/", 1), strict=False), kind="keyring"),
                 }.get(kind, lambda r: None)(rest)
        if value is None:
            raise InvalidInputError(f"unknown credentials kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not isinstance(value, dict):
        raise InvalidInputError(f"credentials must be a dict or a string, not {type(value).__name__}")
    leaked = _SECRET_FIELDS & {k.lower() for k in value}
    if leaked:
        raise InvalidInputError(
            "secrets are never stored in the catalog: give credentials as a reference "
            "(env:NAME, file:PATH, profile:NAME, keyring:SERVICE/USER), not the field(s) "
            + ", ".join(sorted(leaked)))
    kind = value.get("kind")
    if kind not in KINDS:
        raise InvalidInputError(f"unknown credentials kind {kind!r}; expected one of {', '.join(KINDS)}")
    need = {"env": ("var",), "file": ("path",), "profile": ("name",), "keyring": ("service", "username")}
    for f in need.get(kind, ()):
        if not isinstance(value.get(f), str) or not value[f]:
            raise InvalidInputError(f"credentials of kind {kind!r} need a non-empty {f!r}")
    return {k: v for k, v in value.items() if isinstance(v, (str, int, bool)) or v is None}


def describe(ref: dict[str, Any] | None) -> str:
    """A human description of *ref* that is safe to log (names only)."""
    ref = ref or {"kind": "anonymous"}
    k = ref.get("kind")
    return {"env": f"environment variable {ref.get('var')}", "file": f"key file {ref.get('path')}",
            "profile": f"profile {ref.get('name')}",
            "keyring": f"keyring entry {ref.get('service')}/{ref.get('username')}",
            "default": "the default credential chain", "anonymous": "anonymous access"}.get(k, str(k))


def _keyring_secret(service: str, username: str) -> str:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as e:
        raise StorageError("credentials are in the OS keyring but the 'keyring' package is not installed") from e
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise StorageError(
            f"credentials are in the OS keyring ({service}/{username}) but no keyring backend is available "
            "on this system: install or unlock one (Secret Service, KWallet, macOS Keychain, Windows "
            "Credential Locker) or use an env:/file: credentials reference instead")
    try:
        secret = keyring.get_password(service, username)
    except Exception as e:  # noqa: BLE001 - backends raise their own types (locked, D-Bus errors)
        raise StorageError(f"cannot read keyring entry {service}/{username}: {type(e).__name__}") from e
    if secret is None:
        raise StorageError(f"no keyring entry {service}/{username}: store it first "
                           f"(keyring set {service} {username})")
    return secret


def secret_text(ref: dict[str, Any]) -> str | None:
    """The secret text *ref* points at (env / file / keyring), or None for the other kinds."""
    kind = ref.get("kind")
    if kind == "env":
        val = os.environ.get(ref["var"])
        if val is None:
            raise StorageError(f"credentials environment variable {ref['var']} is not set")
        return val
    if kind == "file":
        p = Path(os.path.expanduser(ref["path"]))
        try:
            return p.read_text()
        except FileNotFoundError as e:
            raise StorageError(f"credentials key file not found: {p}") from e
        except OSError as e:
            raise StorageError(f"cannot read credentials key file {p}: {e.strerror}") from e
    if kind == "keyring":
        return _keyring_secret(ref["service"], ref["username"])
    return None


def _as_json(text: str, where: str) -> dict[str, Any] | None:
    t = text.strip()
    if not t.startswith("{"):
        return None
    try:
        val = json.loads(t)
    except ValueError as e:
        # The message names the place, never the content (it is a secret).
        raise StorageError(f"credentials in {where} are not valid JSON (line {e.lineno})") from None
    if not isinstance(val, dict):
        raise StorageError(f"credentials in {where} must be a JSON object")
    return val


def resolve(kind: str, ref: dict[str, Any] | None) -> dict[str, Any]:
    """fsspec keyword arguments for a driver of *kind* (``s3``/``gcs``/``azure``) from *ref*.

    The result holds secrets: keep it in memory, never persist or log it.
    """
    ref = ref or {"kind": "anonymous"}
    rk = ref.get("kind")
    where = describe(ref)
    if rk == "anonymous":
        return {"s3": {"anon": True}, "gcs": {"token": "anon"}, "azure": {"anon": True}}[kind]
    if rk == "default":
        return {"gcs": {"token": "google_default"}}.get(kind, {})
    if rk == "profile":
        if kind != "s3":
            raise StorageError(f"named profiles are an AWS notion; a {kind} driver needs env:, file: or keyring: credentials")
        return {"profile": ref["name"]}
    text = secret_text(ref)
    assert text is not None
    data = _as_json(text, where)
    if kind == "s3":
        if not data or not data.get("key") or not data.get("secret"):
            raise StorageError(f"S3 credentials in {where} must be a JSON object with 'key' and 'secret'")
        out = {"key": data["key"], "secret": data["secret"]}
        if data.get("token"):
            out["token"] = data["token"]
        return out
    if kind == "gcs":
        if rk == "file" and data is not None and data.get("type") == "service_account":
            return {"token": os.path.expanduser(ref["path"])}
        if data is None:
            raise StorageError(f"GCS credentials in {where} must be a service-account key (JSON)")
        return {"token": data}
    # azure
    if data is None:
        if "AccountName=" not in text and "BlobEndpoint=" not in text:
            raise StorageError(f"Azure credentials in {where} must be a connection string or a JSON object")
        return {"connection_string": text.strip()}
    allowed = {"account_name", "account_key", "sas_token", "connection_string"}
    out = {k: v for k, v in data.items() if k in allowed and v}
    if not out:
        raise StorageError(f"Azure credentials in {where} need connection_string, or account_name with "
                           "account_key or sas_token")
    return out
