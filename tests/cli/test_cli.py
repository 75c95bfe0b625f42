"""The dsdesk command, run as a user runs it (a real process, a real catalog file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def dsdesk(*args, catalog, check=True):
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "dsdesk.cli.main", "--catalog", str(catalog), *args],
                       capture_output=True, text=True, env=env, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"dsdesk {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


@pytest.fixture
def cat_path(tmp_path):
    return tmp_path / "cli.sqlite"


def test_headless_workflow(cat_path, photos, tmp_path):
    dsdesk("project", "create", "demo", catalog=cat_path)
    dsdesk("dataset", "create", "cars", "--labels", "car,person", catalog=cat_path)
    r = dsdesk("upload", "cars", str(photos), "--remote-path", "/train", "--metadata", '{"user": {"src": "cam1"}}',
               catalog=cat_path)
    assert "uploaded 4 item(s)" in r.stdout
    r = dsdesk("ls", "cars", "/train/photos", catalog=cat_path)
    assert "sub/" in r.stdout and "/train/photos/a.jpg" in r.stdout and "c.jpg" not in r.stdout
    r = dsdesk("ls", "cars", "-r", "--json", catalog=cat_path)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 4 and rows[0]["metadata"]["user"] == {"src": "cam1"}
    dsdesk("mkdir", "cars", "/val/empty", catalog=cat_path)
    dsdesk("mv", "cars", "/train/photos/a.jpg", "/val/", catalog=cat_path)
    dsdesk("mv", "cars", "/train/photos/sub", "/val", catalog=cat_path)
    r = dsdesk("info", "cars:/val/a.jpg", catalog=cat_path)
    assert json.loads(r.stdout)["filename"] == "/val/a.jpg"
    r = dsdesk("info", "cars", catalog=cat_path)
    info = json.loads(r.stdout)
    assert info["itemsCount"] == 4 and info["labels"] == ["car", "person"]
    dsdesk("download", "cars", str(tmp_path / "dl"), catalog=cat_path)
    assert (tmp_path / "dl/items/val/sub/deeper/d.jpg").read_bytes() == (photos / "sub/deeper/d.jpg").read_bytes()
    r = dsdesk("rm", "cars", "/val/sub", catalog=cat_path, check=False)
    assert r.returncode == 2 and "use -r" in r.stderr
    dsdesk("rm", "cars", "/val/sub", "-r", catalog=cat_path)
    dsdesk("rm", "cars", "/val/a.jpg", catalog=cat_path)
    r = dsdesk("ls", "cars", "-r", catalog=cat_path)
    assert r.stdout.count(".jpg") + r.stdout.count(".png") == 1


def test_errors_are_one_clear_line_and_exit_2(cat_path, tmp_path):
    dsdesk("project", "create", "demo", catalog=cat_path)
    dsdesk("dataset", "create", "cars", catalog=cat_path)
    r = dsdesk("dataset", "create", "cars", catalog=cat_path, check=False)
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = dsdesk("upload", "cars", str(tmp_path / "missing"), catalog=cat_path, check=False)
    assert r.returncode == 2 and "no such file or folder" in r.stderr
    r = dsdesk("mkdir", "cars", "/a/../b", catalog=cat_path, check=False)
    assert r.returncode == 2 and "'..'" in r.stderr
    junk = tmp_path / "junk.txt"
    junk.write_text("hello " * 1000)
    r = dsdesk("info", catalog=junk, check=False)
    assert r.returncode == 2 and "not a dsdesk catalog" in r.stderr


def test_demo_builds_without_gui(cat_path):
    r = dsdesk("demo", "--no-gui", "--images", "30", catalog=cat_path)
    assert "demo project 'demo' ready" in r.stdout
    r = dsdesk("dataset", "list", "-p", "demo", catalog=cat_path)
    assert "cars" in r.stdout and "30 items" in r.stdout


def test_ls_takes_a_folder_with_spaces_as_one_folder(cat_path, photos):
    """`ls DATASET "/my folder"` lists that folder: the folder is a query node, not search
    text (it was read as dir:/my AND a name containing "folder")."""
    dsdesk("project", "create", "demo", catalog=cat_path)
    dsdesk("dataset", "create", "cars", catalog=cat_path)
    dsdesk("upload", "cars", str(photos / "a.jpg"), "--remote-path", "/my folder", catalog=cat_path)
    dsdesk("upload", "cars", str(photos / "sub"), "--remote-path", "/my folder", catalog=cat_path)
    folder_jpg = photos / "folder.jpg"
    folder_jpg.write_bytes((photos / "a.jpg").read_bytes())
    dsdesk("upload", "cars", str(folder_jpg), "--remote-path", "/my", catalog=cat_path)
    r = dsdesk("ls", "cars", "/my folder", catalog=cat_path)
    assert "/my folder/a.jpg" in r.stdout and "sub/" in r.stdout
    assert "/my/folder.jpg" not in r.stdout and "c.jpg" not in r.stdout
    r = dsdesk("ls", "cars", "/my folder", "-r", "--json", catalog=cat_path)
    names = sorted(json.loads(line)["filename"] for line in r.stdout.splitlines())
    assert names == ["/my folder/a.jpg", "/my folder/sub/c.jpg", "/my folder/sub/deeper/d.jpg"]
    r = dsdesk("ls", "cars", "/my folder", "-r", "--query", "d", "--json", catalog=cat_path)
    assert [json.loads(line)["filename"] for line in r.stdout.splitlines()] == ["/my folder/sub/deeper/d.jpg"]
    r = dsdesk("ls", "cars", "--query", "folder", "--json", catalog=cat_path)
    assert [json.loads(line)["filename"] for line in r.stdout.splitlines()] == ["/my/folder.jpg"]
