"""The item grid's read model (Qt-free): the ids of a dataset view in grid order, and the
facts one grid cell shows about an item.

A *view* is a dataset and a filter (a search-bar string, a DQL dict, :class:`Filters` or
None).  The grid order is (dir, name, id): the unique (dataset_id, dir, name) index serves
it, so streaming a million ids is one index walk.

Both functions are meant for worker threads: they open short read sessions of their own
and never touch Qt.  A bad filter raises :class:`~dsdesk.errors.QueryError`.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from dsdesk.api.thumbnails import ThumbKey
from dsdesk.query import item_condition
from dsdesk.query.compile import BLOB, ITEM

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

#: Ids in the first page of a stream: enough for a full screen of small cells.
FIRST_PAGE = 600
#: Ids per later page.
PAGE = 25_000


@dataclass(frozen=True, slots=True)
class ItemInfo:
    """What a grid cell shows about one item."""

    id: int
    dir: str
    name: str
    annotated: bool
    missing: bool
    changed: bool
    blob_id: int
    driver_id: int
    storage_key: str
    etag: str | None
    mimetype: str | None
    sized: bool = True  # the blob has a width and height (a synced one may not: see thumb_key)

    @property
    def filename(self) -> str:
        """The item's path in the dataset."""
        return (self.dir.rstrip("/") + "/" + self.name) if self.dir != "/" else "/" + self.name

    @property
    def thumb_key(self) -> ThumbKey:
        """The key of this item's thumbnail (asking for the original's size when the
        catalog has none: the thumbnail's decode learns it)."""
        return ThumbKey(self.id, self.blob_id, self.driver_id, self.storage_key, self.etag, not self.sized)


@dataclass(frozen=True, slots=True)
class IdPage:
    """One step of :func:`stream_item_ids`: a page of ids (``array('q')``, may be empty)
    and, on the step that counted them, the number of matching items."""

    ids: array
    total: int | None = None


_INFO_COLUMNS = (ITEM.c.id, ITEM.c.dir, ITEM.c.name, ITEM.c.annotated, BLOB.c.missing_since, ITEM.c.changed_at,
                 ITEM.c.blob_id, BLOB.c.driver_id, BLOB.c.storage_key, BLOB.c.etag, BLOB.c.mimetype, BLOB.c.width)


def fetch_infos(cat: Catalog, ids: Iterable[int]) -> dict[int, ItemInfo]:
    """The cell facts of *ids*, by id (one query; ids that are gone are left out)."""
    q = (select(*_INFO_COLUMNS).select_from(ITEM.join(BLOB, BLOB.c.id == ITEM.c.blob_id))
         .where(ITEM.c.id.in_(list(ids))))
    with cat.db.session() as s:
        # The DB-API cursor's plain tuples: no Row object per item (the columns need no
        # conversion: 0/1 becomes a bool here, and the two dates are only tested for None).
        rows = s.execute(q).cursor.fetchall()
    return {r[0]: ItemInfo(r[0], r[1], r[2], bool(r[3]), r[4] is not None, r[5] is not None, r[6], r[7], r[8],
                           r[9], r[10], r[11] is not None) for r in rows}


def stream_item_ids(cat: Catalog, dataset_id: int, filters: Any = None, *, first_page: int = FIRST_PAGE,
                    page: int = PAGE) -> Iterator[IdPage]:
    """The ids of the items of *dataset_id* matching *filters*, in grid order (dir, name, id).

    Yields the first *first_page* ids at once; when there may be more, then the match
    count (an :class:`IdPage` with no ids and ``total`` set, so a view can lay out every
    row before the rest arrives), then pages of *page* ids.  One SELECT read through the
    DB-API cursor in one read transaction (a consistent snapshot, no keyset re-query per
    page); each page becomes an ``array`` in C, so a million ids cost the GIL a few
    hundred milliseconds spread over many short holds, instead of a Row object per id.

    Stop early by closing the generator (``contextlib.closing``): the cursor and the
    session are released then.
    """
    where, needs_blob = item_condition(dataset_id, filters)
    frm = ITEM.join(BLOB, BLOB.c.id == ITEM.c.blob_id) if needs_blob else ITEM
    stmt = select(ITEM.c.id).select_from(frm).where(where).order_by(ITEM.c.dir, ITEM.c.name, ITEM.c.id)
    first_id = itemgetter(0)
    with cat.db.session() as s:
        cur = s.execute(stmt).cursor
        try:
            rows = cur.fetchmany(first_page)
            yield IdPage(array("q", map(first_id, rows)))
            if len(rows) < first_page:
                return
            yield IdPage(array("q"), s.execute(select(func.count()).select_from(frm).where(where)).scalar_one())
            while rows := cur.fetchmany(page):
                yield IdPage(array("q", map(first_id, rows)))
        finally:
            cur.close()
