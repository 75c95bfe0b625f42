"""The item-name search index stays exact through clone, merge, snapshot and rollback
(they index names in one statement instead of one trigger call per row)."""

from __future__ import annotations

from sqlalchemy import text

from dsdesk.versioning import clone, merge, rollback, snapshot


def _check(db):
    with db.engine.begin() as con:
        # raises when the FTS index and the item table disagree
        con.execute(text("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('integrity-check', 1)"))


def test_name_index_exact_after_versioning(cat, master):
    _, ds, _ = master
    with cat.db.session(write=True) as s:
        a = clone(s, ds.id, "a").dataset_id
        b = clone(s, ds.id, "b").dataset_id
    _check(cat.db)
    with cat.db.session(write=True) as s:
        merge(s, "m", [a, b])
        snapshot(s, ds.id, "v1")
    _check(cat.db)
    ds.items.get("/a/img2.png").move("/renamed/zzz_unique.png")
    with cat.db.session(write=True) as s:
        rollback(s, ds.id, "v1")
    _check(cat.db)
    assert [i.filename for i in ds.items.get_all_items(filters="img2")] == ["/a/img2.png"]
    assert [i.filename for i in cat.datasets.get(a).items.get_all_items(filters="img3")] == ["/a/img3.png"]
