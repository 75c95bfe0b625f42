"""Pages of items, in the shape of Dataloop's ``PagedEntities``.

``dataset.items.list(...)`` returns :class:`PagedItems`::

    pages = dataset.items.list(filters=f, page_size=100)
    pages.items_count, pages.total_pages_count     # one cached COUNT
    for page in pages: ...                         # pages from the listing's page_offset on
    pages.items                                    # the current page (page_offset)
    pages.next_page(); pages.go_to_page(7); pages[3]
    for page in reversed(pages): ...               # the last page first

Without a DQL sort the pages are keyset pages in the grid order (dir, name, id): a page
offset is one jump (:func:`dsdesk.query.offsets.keyset_at`), the next page continues from
the last one's cursor, so a page at 90 % of a million items costs what the first does.
With a sort the ordered ids are read by OFFSET, in windows growing fourfold while iterating.
``page_size=0`` is the SDK's count-only idiom: ``items_count`` works, ``items`` is empty, and
iterating falls back to pages of :data:`DEFAULT_PAGE_SIZE`, as the SDK does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dsdesk.api.entities_print import EntityList
from dsdesk.api.paging import PagedEntities
from dsdesk.catalog.models import Blob
from dsdesk.catalog.models import Item as ItemRow
from dsdesk.errors import InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.items import Item

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000  # as Dataloop's API
_SORTED_WINDOW = 50_000  # ids of a sorted listing read per statement, at most


def item_columns():
    """The columns an :class:`~dsdesk.api.items.Item` is built from (its row and its blob's)."""
    return (ItemRow, Blob.size, Blob.mimetype, Blob.width, Blob.height, Blob.storage_key, Blob.driver_id,
            Blob.missing_since, Blob.etag)


def load_in_order(cat: Catalog, session, ids: list[int]) -> list[Item]:
    """The items with *ids*, in that order (ids no longer there are left out)."""
    from dsdesk.api.items import Item

    if not ids:
        return []
    q = select(*item_columns()).join(Blob, Blob.id == ItemRow.blob_id).where(ItemRow.id.in_(ids))
    by_id = {r[0].id: r for r in session.execute(q)}
    return [Item._from_row(cat, *by_id[i]) for i in ids if i in by_id]


def page_request(filters: Any, page_offset: int | None, page_size: int | None) -> tuple[int, int]:
    """The ``(page_offset, page_size)`` a listing uses: the arguments, else those the
    filters carry (``Filters.page`` / ``page_size``, DQL ``page`` / ``pageSize``), else
    page 0 of :data:`DEFAULT_PAGE_SIZE`, as the SDK's ``items.list``."""
    if isinstance(filters, dict):
        carried_offset, carried_size = filters.get("page"), filters.get("pageSize")
    else:
        carried_offset, carried_size = getattr(filters, "page", None), getattr(filters, "page_size", None)
    offset = page_offset if page_offset is not None else (carried_offset or 0)
    size = page_size if page_size is not None else carried_size
    size = DEFAULT_PAGE_SIZE if size is None else size
    for name, v, top in (("page_offset", offset, None), ("page_size", size, MAX_PAGE_SIZE)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (top is not None and v > top):
            bound = f"between 0 and {top}" if top else "a whole number >= 0"
            raise InvalidInputError(f"{name} must be {bound}, not {v!r}")
    return offset, size


class PagedItems(PagedEntities):
    """Pages of a dataset's items matching a query (see the module docstring)."""

    def __init__(self, cat: Catalog, dataset_id: int, filters, page_size: int = DEFAULT_PAGE_SIZE,
                 page_offset: int = 0):
        page_offset, page_size = page_request(filters, page_offset, page_size)
        self._cat, self._dataset_id, self._filters = cat, dataset_id, filters
        self.page_size, self.page_offset = page_size, page_offset
        self._first_offset = page_offset
        self._count: int | None = None
        self._sorted: bool | None = None
        self._items: EntityList | None = None  # the page at page_offset, read when asked for
        self._after: Any = None  # keyset cursor after that page (unsorted listings)

    # ---- counts -----------------------------------------------------------------------
    @property
    def items_count(self) -> int:
        """How many items match (one COUNT, cached)."""
        if self._count is None:
            from dsdesk.query import count_items

            with self._cat.db.session() as s:
                self._count = count_items(s, self._dataset_id, self._filters)
        return self._count

    # ---- the current page (the rest: dsdesk.api.paging) ------------------------------
    def next_page(self) -> None:
        """Move to the next page (continuing from the current page's keyset cursor)."""
        if self._items is None:
            self._set_page(self.page_offset)
        if self._after is not None and not self._is_sorted() and self.page_size:
            from dsdesk.query.offsets import PAST_END

            self.page_offset += 1
            rows, self._after = ([], None) if self._after == PAST_END else self._keyset_page(self._after,
                                                                                           self.page_size)
            self._items = EntityList(rows)
            if not rows:
                self._after = PAST_END
            return
        self._set_page(self.page_offset + 1)

    # ---- walking ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[EntityList]:
        size = self.page_size or DEFAULT_PAGE_SIZE
        if self._is_sorted():
            for page in self._sorted_pages(self._first_offset * size, size):
                yield EntityList(page)
            return
        from dsdesk.query.offsets import PAST_END, keyset_at

        # The grid order: keyset pages, as cheap at the end as at the start; the first
        # page is one jump (dsdesk.query.offsets), not a walk through the pages before it.
        with self._cat.db.session() as s:
            after = keyset_at(s, self._dataset_id, self._filters, self._first_offset * size)
        if after == PAST_END:
            return
        while True:
            items, after = self._keyset_page(after, size)
            if not items:
                return
            yield EntityList(items)
            if after is None:
                return

    def __reversed__(self) -> Iterator[EntityList]:
        """The pages from the last to the first; each costs one jump."""
        size = self.page_size or DEFAULT_PAGE_SIZE
        for n in range(-(-self.items_count // size) - 1, -1, -1):
            page = self._read_page(n, size)[0]
            if page:
                yield EntityList(page)

    # ---- reading ----------------------------------------------------------------------
    def _is_sorted(self) -> bool:
        if self._sorted is None:
            from dsdesk.query import to_query

            self._sorted = bool(to_query(self._filters).sort)
        return self._sorted

    def _set_page(self, n: int) -> None:
        self.page_offset = n
        if not self.page_size:
            self._items, self._after = EntityList(), None
            return
        rows, self._after = self._read_page(n, self.page_size)
        self._items = EntityList(rows)

    def _read_page(self, n: int, size: int) -> tuple[list[Item], Any]:
        """Page *n* of *size* items and the keyset cursor after it (None for sorted listings)."""
        if self._is_sorted():
            return next(self._sorted_pages(n * size, size, window=size), []), None
        from dsdesk.query.offsets import PAST_END, keyset_at

        with self._cat.db.session() as s:
            after = keyset_at(s, self._dataset_id, self._filters, n * size)
        if after == PAST_END:
            return [], PAST_END
        return self._keyset_page(after, size)

    def _keyset_page(self, after, size: int) -> tuple[list[Item], Any]:
        from dsdesk.query import page_items

        with self._cat.db.session() as s:
            page = page_items(s, self._dataset_id, self._filters, size, after=after, columns=("id",))
            return load_in_order(self._cat, s, [r.id for r in page.rows]), page.after

    def _sorted_pages(self, start: int, size: int, window: int | None = None) -> Iterator[list[Item]]:
        # A DQL sort: the ordered ids are read in windows (an indexed sort field is walked
        # in index order), then served a page at a time.  The first window is one page, so
        # the asked page costs one OFFSET; the windows then grow fourfold up to
        # _SORTED_WINDOW ids, so reading every page costs a few OFFSETs, not one per page
        # (which made reading a sorted million-item listing quadratic).  A deep window
        # seeks from where an earlier read of the listing was (dsdesk.query.offsets).
        from dsdesk.query.offsets import sorted_ids

        grow = window is None
        window = window or size
        while True:
            with self._cat.db.session() as s:
                ids = sorted_ids(s, self._dataset_id, self._filters, start, window + 1)
            more = len(ids) > window
            ids = ids[:window]
            for i in range(0, len(ids), size):
                with self._cat.db.session() as s:
                    items = load_in_order(self._cat, s, ids[i:i + size])
                if items:
                    yield items
            if not more or not grow:
                return
            start += window
            # whole pages only, so every page but the last is full
            window = min(window * 4, max(size, _SORTED_WINDOW // size * size))
