"""The label legend: counts per label of the dataset, labels the recipe lacks, and the
"filter the grid by this label" round trip through the grid's search bar."""

from __future__ import annotations

from dsdesk.api.overlays import label_counts
from tests.ui.conftest import wait_idle


def test_label_counts_api(catalog):
    ds = catalog.projects.create("p").datasets.create("d", labels=["car", "person"])
    counts = label_counts(catalog, ds.id)
    assert [(c.label, c.annotations, c.items, c.in_recipe) for c in counts] == [("car", 0, 0, True),
                                                                                ("person", 0, 0, True)]


def test_legend_counts_and_filter(qtbot, window):
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    qtbot.waitUntil(lambda: window.inspector.legend.counts != [], timeout=20000)
    legend = window.inspector.legend
    expected = {}
    items_with = {}
    for it in ds.items.list().all():
        labels = [a.label for a in it.annotations.list()]
        for lab in labels:
            expected[lab] = expected.get(lab, 0) + 1
        for lab in set(labels):
            items_with[lab] = items_with.get(lab, 0) + 1
    assert {c.label: c.annotations for c in legend.counts if c.annotations} == expected
    assert {c.label: c.items for c in legend.counts if c.items} == items_with
    row = legend.row("bike")
    assert row.text(1) == f"{expected['bike']:,}" and row.text(2) == f"{items_with['bike']:,}"
    assert legend.total.text().endswith(f"{sum(expected.values()):,} annotation(s)")
    # Filter the grid by "bike": the search bar shows the query and the grid its items.
    legend.tree.setCurrentItem(row)
    assert legend.filter_button.isEnabled()
    legend.filter_button.click()
    assert window.grid.search.text() == 'label:"bike"'
    qtbot.waitUntil(lambda: not window.grid.model.loading and window.grid.model.rowCount() == items_with["bike"],
                    timeout=20000)
    wait_idle(qtbot, window)


def test_label_missing_from_the_recipe_is_flagged(qtbot, window):
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    item = next(iter(ds.items.list().all()))
    item.annotations.upload([{"type": "class", "label": "zebra"}])
    window.inspection.refresh_legend()
    qtbot.waitUntil(lambda: window.inspector.legend.row("zebra") is not None, timeout=20000)
    row = window.inspector.legend.row("zebra")
    assert "not in recipe" in row.text(0) and row.text(1) == "1"
    assert not next(c for c in window.inspector.legend.counts if c.label == "zebra").in_recipe
    wait_idle(qtbot, window)
