"""Two OS processes, each with its own catalog on one database (SQLite file, PostgreSQL), both
read the same item and then save one after the other: disjoint keys are both kept; the same
key gives the second process a MetadataConflictError with both values and who/when."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import pytest

from dsdesk.api.metadata_merge import ABSENT
from tests.conftest import make_image
from tests.versioning.test_postgres import pg_url  # noqa: F401  (the module's PostgreSQL server)

TIMEOUT = 120


def _client(url: str, user: str, dataset_id: int, key: str, value, read, go, saved, out) -> None:
    """One client process: read the item, wait for *go*, set *key*, save, report."""
    import os

    os.environ["DSDESK_USER"] = user
    import dsdesk as dd
    from dsdesk.api.conflicts import MetadataConflictError

    cat = dd.open_catalog(url)
    try:
        item = cat.dataset_by_id(dataset_id).items.get(filepath="/a.jpg")
        read.set()
        if not go.wait(TIMEOUT):
            out.put(("error", "never told to save"))
            return
        item.metadata["user"][key] = value
        try:
            item.update()
        except MetadataConflictError as e:
            out.put(("conflict", pickle.dumps(e)))
        else:
            out.put(("saved", item.metadata["user"], item.updated_at))
        finally:
            saved.set()
    except Exception as e:  # reported to the test, which fails with it
        out.put(("error", repr(e)))
        saved.set()
    finally:
        cat.close()


def _race(url: str, dataset_id: int, first: tuple[str, object], second: tuple[str, object]):
    """Start two processes (alice, bob); both read, then alice saves, then bob.  Returns
    (alice's report, bob's report)."""
    ctx = mp.get_context("spawn")  # a fresh interpreter each: no connection inherited by a fork
    ev = [[ctx.Event() for _ in range(3)] for _ in range(2)]
    outs = [ctx.Queue(), ctx.Queue()]
    procs = [ctx.Process(target=_client, args=(url, user, dataset_id, k, v, *ev[i], outs[i]))
             for i, (user, (k, v)) in enumerate((("alice", first), ("bob", second)))]
    for p in procs:
        p.start()
    try:
        assert ev[0][0].wait(TIMEOUT) and ev[1][0].wait(TIMEOUT), "a client did not read the item"
        ev[0][1].set()  # alice saves
        assert ev[0][2].wait(TIMEOUT)
        ev[1][1].set()  # then bob
        assert ev[1][2].wait(TIMEOUT)
        reports = [q.get(timeout=TIMEOUT) for q in outs]
    finally:
        for p in procs:
            p.join(TIMEOUT)
            if p.is_alive():
                p.kill()
    for r in reports:
        assert r[0] != "error", r[1]
    return reports


@pytest.fixture
def shared(catalog_on_both, tmp_path, request):
    project = catalog_on_both.projects.create(f"p-{request.node.name}"[:60])
    ds = project.datasets.create("shared")
    ds.items.upload(local_path=str(make_image(tmp_path / "a.jpg")))
    return catalog_on_both, ds


def test_two_processes_disjoint_keys_are_both_kept(shared):
    cat, ds = shared
    alice, bob = _race(cat.raw_url, ds.id, ("split", "train"), ("score", 0.75))
    assert alice[0] == "saved" and bob[0] == "saved"
    assert bob[1] == {"split": "train", "score": 0.75}
    assert ds.items.get(filepath="/a.jpg").metadata["user"] == {"split": "train", "score": 0.75}


def test_two_processes_same_key_the_second_gets_the_conflict(shared):
    cat, ds = shared
    alice, bob = _race(cat.raw_url, ds.id, ("split", "train"), ("split", "val"))
    assert alice[0] == "saved" and bob[0] == "conflict"
    e = pickle.loads(bob[1])  # the error crossed the process boundary whole
    [c] = e.conflicts
    assert (c.key, c.base, c.mine, c.theirs) == ("user.split", ABSENT, "val", "train")
    assert c.theirs_by == "alice" and c.theirs_at == alice[2]
    assert "alice" in str(e)
    assert ds.items.get(filepath="/a.jpg").metadata["user"] == {"split": "train"}  # bob wrote nothing
