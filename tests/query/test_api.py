"""The engine behind the API and the CLI: listing, bulk update/move/delete, saved queries."""

from __future__ import annotations

import json

import pytest

import dsdesk as dd
from dsdesk.cli.main import main as cli_main
from dsdesk.errors import AlreadyExistsError, NotFoundError, QueryError


@pytest.fixture
def ds(dataset, tmp_path):
    src = tmp_path / "src"
    for sub, names in (("train", ["a.jpg", "b.jpg", "c.jpg"]), ("val", ["d.jpg", "e.png"])):
        (src / sub).mkdir(parents=True)
        for i, n in enumerate(names):
            (src / sub / n).write_bytes(b"x" * (i + 1))
    dataset.items.upload(str(src / "train"), remote_path="/")
    dataset.items.upload(str(src / "val"), remote_path="/")
    return dataset


def _names(pages):
    return sorted(i.name for i in pages.all())


def test_list_with_every_filter_form(ds):
    assert _names(ds.items.list()) == ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.png"]
    f = dd.Filters()
    f.add(field="dir", values="/train")
    assert _names(ds.items.list(filters=f)) == ["a.jpg", "b.jpg", "c.jpg"]
    assert _names(ds.items.list(filters={"filter": {"name": "*.png"}})) == ["e.png"]
    assert _names(ds.items.list(filters="dir:/val size>1")) == ["e.png"]
    assert ds.items.list(filters="dir:/val").items_count == 2
    with pytest.raises(QueryError, match="unbalanced"):
        list(ds.items.list(filters="(dir:/val").all())


def test_bulk_update_move_delete_by_filter(ds):
    f = dd.Filters()
    f.add(field="dir", values="/train")
    assert ds.items.update(filters=f, update_values={"split": "train", "score": 0.5}) == 3
    assert _names(ds.items.list(filters="split:train score>=0.5")) == ["a.jpg", "b.jpg", "c.jpg"]
    item = ds.items.get(filepath="/train/a.jpg")
    assert item.metadata["user"] == {"split": "train", "score": 0.5} and item.row_version == 2
    assert ds.items.update(filters="name:a.jpg", update_values={"score": None}) == 1
    assert ds.items.get(filepath="/train/a.jpg").metadata["user"] == {"split": "train"}
    assert ds.items.move_items("/chosen", filters="split:train -name:c*") == 2
    assert _names(ds.items.list(filters={"filter": {"dir": "/chosen"}})) == ["a.jpg", "b.jpg"]
    assert ds.items.delete(filters="dir:/val") == 2
    assert _names(ds.items.list()) == ["a.jpg", "b.jpg", "c.jpg"]


def test_saved_queries(project, ds):
    f = dd.Filters()
    f.add(field="dir", values="/val")
    f.sort_by(field="name", value="descending")
    project.queries.save("val", f)
    project.queries.save("pngs", "name:*.png")
    with pytest.raises(AlreadyExistsError):
        project.queries.save("val", "x")
    with pytest.raises(QueryError):
        project.queries.save("broken", "(a")
    assert [q.name for q in project.queries.list()] == ["pngs", "val"]
    got = project.queries.get("val")
    assert got.dql["sort"] == {"name": "descending"} and got.text is None
    assert [i.name for i in ds.items.list(filters=got.filters).all()] == ["e.png", "d.jpg"]
    assert _names(ds.items.list(filters=project.queries.get("pngs").filters)) == ["e.png"]
    project.queries.save("val", "dir:/val", overwrite=True)
    assert project.queries.get("val").text == "dir:/val"
    assert project.queries.delete("pngs")
    with pytest.raises(NotFoundError):
        project.queries.get("pngs")


def test_cli_ls_query_and_dql(ds, catalog, tmp_path, capsys):
    url = catalog.db.url
    assert cli_main(["--catalog", url.replace("sqlite:///", ""), "ls", "cars", "--query", "name:*.png"]) == 0
    out = capsys.readouterr().out
    assert "/val/e.png" in out and "a.jpg" not in out
    dql_file = tmp_path / "q.json"
    dql_file.write_text(json.dumps({"filter": {"dir": "/train"}, "sort": {"name": "descending"}}))
    assert cli_main(["--catalog", url.replace("sqlite:///", ""), "ls", "cars", "--dql", str(dql_file)]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ".jpg" in ln]
    assert [ln.split()[1] for ln in lines] == ["/train/c.jpg", "/train/b.jpg", "/train/a.jpg"]


def test_datasets_list_with_filters(project, ds):
    project.datasets.create("other")
    assert [d.name for d in project.datasets.list(filters="name:o*")] == ["other"]
    f = dd.Filters(resource="datasets")
    f.sort_by(field="name", value="descending")
    assert [d.name for d in project.datasets.list(filters=f)] == ["other", "cars"]
    assert [d.name for d in project.datasets.list(filters={"filter": {"itemsCount": {"$gte": 5}}})] == ["cars"]
