"""The overlays' read model (dsdesk.api.overlays) and the recipe editor's save
(dsdesk.api.label_edits) on SQLite and PostgreSQL: shapes in image fractions from one
query, colours from the recipe, the legend's counts, edits of labels in one transaction."""

from __future__ import annotations

import pytest

from dsdesk.api import overlays
from dsdesk.api.label_edits import LabelEntry, plan_label_edits, read_recipe_labels, save_label_edits
from tests.versioning.test_postgres import pg_url  # noqa: F401  (the module's PostgreSQL server)


@pytest.fixture
def cat(catalog_on_both):
    return catalog_on_both


@pytest.fixture
def ds(cat, photos, request):
    project = cat.projects.create(f"p-{request.node.name}"[:60])
    d = project.datasets.create("cars", labels=[{"tag": "car", "color": "#ff0000"}, "person"])
    d.items.upload(local_path=str(photos))
    return d


def test_overlays_and_legend(cat, ds):
    items = {i.name: i for i in ds.items.list().all()}
    a = items["a.jpg"]  # 64 x 48
    a.annotations.upload([
        {"type": "box", "label": "car", "coordinates": [{"x": 16, "y": 12}, {"x": 48, "y": 36}]},
        {"type": "segment", "label": "person", "coordinates": [[{"x": 0, "y": 0}, {"x": 64, "y": 0}, {"x": 32, "y": 48}]]},
        {"type": "point", "label": "dog", "coordinates": {"x": 32, "y": 24}},
        {"type": "ellipse", "label": "car", "coordinates": {"center": {"x": 32, "y": 24}, "rx": 16, "ry": 12}},
        {"type": "class", "label": "car"}])
    items["b.png"].annotations.upload([{"type": "class", "label": "person"}])
    got = overlays.fetch_overlays(cat, [i.id for i in items.values()])
    box, poly, point, ellipse, cls = got[a.id].shapes
    assert box.rings == (((0.25, 0.25), (0.75, 0.75)),) and box.color == "#ff0000"
    assert poly.kind == "polygon" and poly.rings[0][2] == (0.5, 1.0)
    assert point.color == overlays.label_color("dog")  # not in the recipe: its stable default
    assert ellipse.kind == "ellipse" and ellipse.rings == (((0.25, 0.25), (0.75, 0.75)),)
    assert cls.kind == "class"
    assert got[items["c.jpg"].id].shapes == ()
    legend = {c.label: (c.annotations, c.items, c.in_recipe) for c in overlays.label_counts(cat, ds.id)}
    assert legend == {"car": (3, 1, True), "person": (2, 2, True), "dog": (1, 1, False)}


def test_label_edits_round_trip(cat, ds):
    before = read_recipe_labels(cat, ds.id)
    assert [r.tag for r in before.labels] == ["car", "person"] and before.readonly_reason is None
    after = [LabelEntry("vehicle", "#00ff00"), LabelEntry("vehicle.car", "#ff0000"), LabelEntry("person", "#0000ff")]
    edits = plan_label_edits(before.labels, after)
    assert [r.tag for r in edits.added] == ["vehicle", "vehicle.car"]
    assert edits.deleted == ["car"] and [r.tag for r in edits.recoloured] == ["person"]
    now = save_label_edits(cat, ds.id, edits)
    assert {(r.tag, r.color) for r in now.labels} == {(r.tag, r.color) for r in after}
    assert {lab.tag for lab in cat.dataset_by_id(ds.id).recipe.labels} == {"person", "vehicle", "vehicle.car"}
