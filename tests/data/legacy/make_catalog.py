"""Makes ``catalog-0017.tar.gz``: a catalog written by dsdesk before migration 0018 (schema
0017, commit 3dbcda0), whose snapshots are frozen copies, with what that dsdesk read from it.

    git worktree add /tmp/old 3dbcda0
    PYTHONPATH=/tmp/old:. python tests/data/legacy/make_catalog.py /tmp/legacy-out

Run with the old tree first on the path: the catalog must be made by the old code.  The
result (catalog, its internal binaries, ``expected.json``) is tarred into this folder;
``tests/catalog/test_migration_0018.py`` opens it with today's dsdesk.
"""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path

import dsdesk as dd
from dsdesk.versioning import diff
from tests.versioning.conftest import build_master, dataset_dump, make_images
from tests.versioning.test_snapshots import _mutate


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cat = dd.open_catalog(out / "c.sqlite")
    _, ds, _ = build_master(cat, make_images(out / "src"))
    before = dataset_dump(cat.db, ds.id)
    ds.snapshot("v1")
    _mutate(cat, ds, out)
    mutated = dataset_dump(cat.db, ds.id)
    ds.snapshot("v2")
    with cat.db.session() as s:
        d1 = diff(s, ds.id, "v1").to_json()
        d12 = diff(s, ds.id, "v1", "v2").to_json()
    cat.close()
    expected = {"dataset_id": ds.id, "before": before, "mutated": mutated, "diff_v1": d1, "diff_v1_v2": d12}
    (out / "expected.json").write_text(json.dumps(expected, default=str, indent=1))
    with tarfile.open(Path(__file__).with_name("catalog-0017.tar.gz"), "w:gz") as tar:
        for p in sorted(out.iterdir()):
            if p.name not in ("src", "more") and not p.name.endswith(("-wal", "-shm")):
                tar.add(p, arcname=p.name)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
