"""Pages of items the way Dataloop's ``PagedEntities`` has them (issue 16): the current page
(``pages.items``), ``next_page`` / ``prev_page`` / ``go_to_page`` / ``pages[n]``,
``has_next_page``, ``reversed(pages)``, the count-only ``page_size=0``, and page sizes
and offsets carried by the filters."""

from __future__ import annotations

import pytest

import dsdesk
from tests.conftest import make_image

NAMES = [f"p{i:02d}.jpg" for i in range(11)]


@pytest.fixture
def eleven(dataset, tmp_path):
    dataset.items.upload([str(make_image(tmp_path / "up" / n, (8, 8))) for n in NAMES])
    return dataset


def _names(page):
    return [it.name for it in page]


@pytest.mark.parametrize("filters", [None, {"filter": {"hidden": False}, "sort": {"name": "ascending"}}],
                         ids=["keyset", "sorted"])
def test_current_page_and_moves(eleven, filters):
    pages = eleven.items.list(filters=filters, page_size=4)
    assert (pages.items_count, pages.total_pages_count, len(pages)) == (11, 3, 11)
    assert pages.page_offset == 0 and _names(pages.items) == NAMES[:4] and pages.has_next_page
    pages.next_page()
    assert pages.page_offset == 1 and _names(pages.items) == NAMES[4:8] and pages.has_next_page
    pages.next_page()
    assert _names(pages.items) == NAMES[8:] and not pages.has_next_page
    pages.next_page()
    assert pages.items == [] and not pages.has_next_page
    pages.go_to_page(1)
    assert _names(pages.items) == NAMES[4:8]
    pages.prev_page()
    assert _names(pages.items) == NAMES[:4]
    assert _names(pages[2]) == NAMES[8:] and pages.page_offset == 2
    assert [_names(p) for p in reversed(pages)] == [NAMES[8:], NAMES[4:8], NAMES[:4]]
    pages.go_to_page(0)
    with pytest.raises(dsdesk.InvalidInputError, match="first page"):
        pages.prev_page()
    with pytest.raises(dsdesk.InvalidInputError, match="page number"):
        pages.go_to_page(-1)


def test_the_current_page_prints_as_a_table(eleven, capsys):
    pages = eleven.items.list(page_size=2, page_offset=5)
    pages.print(columns=["name", "dir"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "dir"] and out[2].split() == ["p10.jpg", "/"] and len(out) == 3


def test_page_size_zero_counts_only_and_iterates_in_default_pages(eleven):
    f = dsdesk.Filters()
    f.page_size = 0
    pages = eleven.items.list(filters=f)
    assert pages.items_count == 11 and pages.items == [] and pages.total_pages_count == 0
    assert not pages.has_next_page
    assert [_names(p) for p in pages] == [NAMES]


def test_filters_carry_page_and_page_size(eleven):
    f = dsdesk.Filters()
    f.page_size, f.page = 3, 2
    pages = eleven.items.list(filters=f)
    assert (pages.page_size, pages.page_offset) == (3, 2) and _names(pages.items) == NAMES[6:9]
    # explicit arguments win, as in the SDK
    assert _names(eleven.items.list(filters=f, page_offset=0, page_size=5).items) == NAMES[:5]
    assert _names(eleven.items.list(filters={"filter": {}, "page": 1, "pageSize": 10}).items) == NAMES[10:]


def test_iteration_starts_at_the_listing_offset_whatever_the_current_page(eleven):
    pages = eleven.items.list(page_size=5, page_offset=1)
    pages.go_to_page(0)
    assert [_names(p) for p in pages] == [NAMES[5:10], NAMES[10:]]


@pytest.mark.parametrize("bad", [-1, 1001, 2.5, True])
def test_bad_page_arguments_are_refused(eleven, bad):
    with pytest.raises(dsdesk.InvalidInputError):
        eleven.items.list(page_size=bad)
    with pytest.raises(dsdesk.InvalidInputError):
        eleven.items.list(page_offset=bad if bad != 1001 else -5)
