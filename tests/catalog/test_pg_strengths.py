"""PostgreSQL's own bulk and search paths: COPY for the bulk tuple writes (with taken keys
skipped as the portable path does), ANALYZE after a bulk write, the pg_trgm name index."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import dsdesk
from benchmarks.synth import records
from dsdesk.catalog import pg_analyze, pgcopy
from dsdesk.catalog.sql import COPY_MIN_ROWS, insert_rows
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture


@pytest.fixture
def pcat(pg_url, tmp_path, monkeypatch):  # noqa: F811 - pytest's fixture, imported above
    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
    cat = dsdesk.open_catalog(pg_url)
    yield cat
    cat.close()


def test_bulk_rows_go_by_copy_and_taken_keys_are_skipped(pcat, monkeypatch):
    ds = pcat.projects.create("copy").datasets.create("d")
    seen = []
    real = pgcopy._copy
    monkeypatch.setattr(pgcopy, "_copy", lambda cur, table, cols, rows: (seen.append(table), real(cur, table, cols, rows)))
    n = COPY_MIN_ROWS + 100
    with pcat.db.session() as s:
        assert insert_rows(s, "folder", ("dataset_id", "path"), [(ds.id, f"/f{i}") for i in range(n)],
                           conflict=("dataset_id", "path")) == n
    assert seen == ["folder"]  # one straight COPY: nothing was taken
    with pcat.db.session() as s:
        rows = [(ds.id, f"/f{i}") for i in range(n - 50, n + 550)]  # 50 taken, 550 new
        assert insert_rows(s, "folder", ("dataset_id", "path"), rows, conflict=("dataset_id", "path")) == 550
    assert seen[1] == "folder" and seen[2].startswith("dsdesk_copy_folder_")  # failed, then staged
    with pcat.db.session() as s:
        assert s.execute(text("SELECT count(*) FROM folder WHERE dataset_id = :d"), {"d": ds.id}).scalar() == n + 550
        few = [(ds.id, "/few-a"), (ds.id, "/few-b")]
        assert insert_rows(s, "folder", ("dataset_id", "path"), few, conflict=("dataset_id", "path")) == 2
    assert len(seen) == 3  # a few rows are one INSERT, not a COPY


def test_an_import_by_copy_is_what_the_portable_path_writes(pcat):
    ds = pcat.projects.create("import").datasets.create("d")
    assert ds.items.bulk_import(records(3000)) == 3000
    assert ds.items.bulk_import(records(3500)) == 500  # the first 3,000 paths are taken: skipped
    page = next(iter(ds.items.list(page_size=5)))
    assert page[0].metadata["user"]["split"] in ("train", "val", "test")
    assert ds.refresh().items_count == 3500
    with pcat.db.session() as s:
        blobs = s.execute(text("SELECT count(*) FROM blob b JOIN item i ON i.blob_id = b.id "
                               "WHERE i.dataset_id = :d"), {"d": ds.id}).scalar()
    assert blobs == 3500


def test_a_bulk_write_is_followed_by_analyze(pcat, monkeypatch):
    monkeypatch.setattr(pg_analyze, "BIG_WRITE", 2000)
    ds = pcat.projects.create("stats").datasets.create("d")
    ds.items.bulk_import(records(2500))
    pcat.db.analyzer.wait()
    with pcat.db.session() as s:
        reltuples = s.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'item'")).scalar()
    assert reltuples >= 2500  # the planner knows the rows; before ANALYZE it guessed


def test_name_search_uses_the_trigram_index_and_works_without_it(pcat):
    ds = pcat.projects.create("names").datasets.create("d")
    ds.items.bulk_import(records(2000))
    hits = ds.items.list(filters='"img_00000123"')
    assert [i.name for i in next(iter(hits))] == ["img_00000123.jpg"]
    with pcat.db.session() as s:
        assert s.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_item_name_trgm'")).first()
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in s.execute(text(
            "EXPLAIN SELECT id FROM item WHERE name ILIKE '%00000123%'")))
    assert "ix_item_name_trgm" in plan
    with pcat.db.session() as s:  # a server that refused the extension: the search still answers
        s.execute(text("DROP INDEX ix_item_name_trgm"))
    try:
        assert [i.name for i in next(iter(ds.items.list(filters='"img_00000123"')))] == ["img_00000123.jpg"]
    finally:
        with pcat.db.session() as s:
            s.execute(text("CREATE INDEX ix_item_name_trgm ON item USING gin (name gin_trgm_ops)"))


def test_the_pair_index_answers_the_json_type_tests_too(pcat):
    from sqlalchemy import func, select

    import dsdesk.query as q
    from dsdesk.query import indexes

    ds = pcat.projects.create("typed").datasets.create("d")
    ds.items.bulk_import(records(3000))
    name = indexes.pair_index_name("metadata.user.split", "metadata.user.score")
    with pcat.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:  # one made before
        con.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        con.exec_driver_sql(f"CREATE INDEX {name} ON item (dataset_id, (meta_user #>> '{{split}}'))")
    indexes._done.discard((str(pcat.db.engine.url), name))
    assert indexes.ensure_pair_index(pcat.db.engine, "metadata.user.split", "metadata.user.score", True)
    stmt = select(func.count()).select_from(q.item_ids_select(ds.id, "split:val score>0.5").subquery())
    with pcat.db.session() as s:
        assert "json_typeof" in s.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                                          {"n": name}).scalar()
        s.execute(text("SET LOCAL enable_seqscan = off"))
        plan = [r[0] for r in s.execute(text("EXPLAIN " + str(stmt.compile(
            pcat.db.engine, compile_kwargs={"literal_binds": True}))))]
        assert any(name in line for line in plan), plan
        assert not any(line.strip().startswith("Filter:") and "json_typeof" in line for line in plan), plan
        expected = sum(1 for r in records(3000) if r.meta_user["split"] == "val" and r.meta_user["score"] > 0.5)
        assert q.count_items(s, ds.id, "split:val score>0.5") == expected
