"""``dsdesk catalog create --internal-store``: a new catalog whose internal binaries live in a
bucket, run as a user runs it (a real process), against moto's S3 on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.emulators import jpeg


def dsdesk(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "dsdesk.cli.main", *args], capture_output=True, text=True,
                       env=dict(os.environ), timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"dsdesk {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def test_create_a_catalog_with_its_internal_store_in_a_bucket(emu, tmp_path):
    fs = emu.fs("s3")
    bucket = emu.new_bucket("s3", fs)
    path = tmp_path / "team.sqlite"
    store = ["--internal-store", f"s3://{bucket}/shared", "--store-endpoint", emu.endpoint("s3"),
             "--store-credentials", f"env:{emu.credentials('s3')['var']}"]
    r = dsdesk("catalog", "create", str(path), *store)
    assert f"internal store: s3://{bucket}/shared/ at {emu.endpoint('s3')}" in r.stdout
    assert "testing" not in r.stdout  # the secret the environment variable holds
    (tmp_path / "a.jpg").write_bytes(jpeg())
    dsdesk("--catalog", str(path), "project", "create", "p")
    dsdesk("--catalog", str(path), "dataset", "create", "d")
    dsdesk("--catalog", str(path), "upload", "d", str(tmp_path / "a.jpg"))
    fs.invalidate_cache()
    assert len([k for k in fs.find(bucket) if "/.dsdesk/" not in k]) == 1
    info = dsdesk("--catalog", str(path), "info")
    assert f"internal store: s3://{bucket}/shared/" in info.stdout

    again = dsdesk("catalog", "create", str(path), *store, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr
    missing = dsdesk("catalog", "create", str(tmp_path / "other.sqlite"), "--internal-store", f"s3://{bucket}-nope/x",
                     "--store-endpoint", emu.endpoint("s3"), "--store-credentials",
                     f"env:{emu.credentials('s3')['var']}", check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    assert not (tmp_path / "other.sqlite").exists()


def test_read_only_reads_a_catalog_a_newer_dsdesk_upgraded(tmp_path):
    import sqlite3

    path = tmp_path / "c.sqlite"
    dsdesk("--catalog", str(path), "project", "create", "p")
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    refused = dsdesk("--catalog", str(path), "info", check=False)
    assert refused.returncode == 2 and "upgraded by a newer dsdesk (schema 9999_future)" in refused.stderr
    assert "project p" in dsdesk("--catalog", str(path), "--read-only", "info").stdout
    write = dsdesk("--catalog", str(path), "--read-only", "project", "create", "q", check=False)
    assert write.returncode == 2 and "upgrade dsdesk" in write.stderr
