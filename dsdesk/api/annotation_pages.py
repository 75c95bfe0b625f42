"""Pages of annotations, in the shape of Dataloop's ``PagedEntities``.

``dataset.annotations.list(filters=...)`` returns :class:`PagedAnnotations`: iterate it for
pages (lists of :class:`~dsdesk.api.annotation_entity.Annotation`), call ``all()`` for every
annotation, read ``items_count`` / ``total_pages_count``.  Without a DQL sort the pages are
keyset pages in id order (as the SDK's page 0 does), so a late page costs what the first
does; with a sort they are OFFSET pages in that order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from dsdesk.api.annotation_entity import Annotation
from dsdesk.api.entities_print import EntityList
from dsdesk.api.pages import MAX_PAGE_SIZE, page_request
from dsdesk.api.paging import PagedEntities
from dsdesk.catalog.models import Annotation as AnnotationRow
from dsdesk.query import annotations_select, ast, to_query

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

def annotation_query(filters: Any) -> ast.Query:
    """The annotations query for *filters*; None means every annotation (notes included)."""
    if filters is None:
        return ast.Query(resource="annotations")
    return to_query(filters, "annotations")


def select_annotations(dataset_id: int, filters: Any, item_id: int | None = None):
    """``SELECT annotation.*`` of a dataset (or one of its items) matching *filters*."""
    stmt = annotations_select(dataset_id, annotation_query(filters))
    if item_id is not None:
        stmt = stmt.where(AnnotationRow.__table__.c.item_id == item_id)
    return stmt


class PagedAnnotations(PagedEntities):
    """Pages of a dataset's annotations matching a query (see the module docstring).

    The same surface as the items' pages (:class:`dsdesk.api.pages.PagedItems`): iterate for
    pages, ``all()``, ``items_count`` (also ``len()``), ``total_pages_count``,
    ``items`` (the current page), ``next_page()`` / ``prev_page()`` / ``go_to_page(n)`` /
    ``pages[n]``, ``has_next_page``; ``page_size=0`` counts only.
    """

    def __init__(self, cat: Catalog, dataset_id: int, filters: Any, page_size: int | None = None,
                 page_offset: int | None = None, item_id: int | None = None):
        page_offset, page_size = page_request(filters, page_offset, page_size)
        self._cat, self._dataset_id, self._item_id = cat, dataset_id, item_id
        self._query = annotation_query(filters)
        self.page_size, self.page_offset = page_size, page_offset
        self._count: int | None = None
        self._items: EntityList | None = None
        self._stmt = select_annotations(dataset_id, self._query, item_id)  # checks the query now

    # ---- counts -----------------------------------------------------------------------
    @property
    def items_count(self) -> int:
        """How many annotations match (one COUNT, cached)."""
        if self._count is None:
            with self._cat.db.session() as s:
                self._count = s.execute(select(func.count()).select_from(self._stmt.subquery())).scalar_one()
        return self._count

    def _set_page(self, n: int) -> None:
        self.page_offset = n
        size = self.page_size
        self._items = EntityList(self._read(self._ordered().offset(n * size).limit(size)) if size else [])

    # ---- iterating (navigation: dsdesk.api.paging) ------------------------------------
    def _keyset(self) -> bool:
        return not self._query.sort

    def _ordered(self):
        t = AnnotationRow.__table__
        return self._stmt.order_by(None).order_by(t.c.id) if self._keyset() else self._stmt

    def _read(self, q) -> list[Annotation]:
        from dsdesk.api.annotation_upload import recipe_tags

        with self._cat.db.session() as s:
            ids = [r.id for r in s.execute(q)]
            if not ids:
                return []
            rows = {r.id: r for r in s.execute(select(AnnotationRow).where(AnnotationRow.id.in_(ids))).scalars()}
            tags = recipe_tags(s, self._dataset_id)
            return [Annotation._from_row(rows[i], self._cat, tags) for i in ids if i in rows]

    def __iter__(self) -> Iterator[EntityList]:
        """Pages from ``page_offset`` on; without a sort each page continues after the last
        id of the previous one (keyset), so late pages cost what the first does."""
        t = AnnotationRow.__table__
        size = self.page_size or MAX_PAGE_SIZE  # count-only: iterate in full pages, as the SDK
        base = self._ordered()
        page_no, last_id = self.page_offset, None
        while True:
            if self._keyset() and last_id is not None:
                q = base.where(t.c.id > last_id)
            else:
                q = base.offset(page_no * size)
            page = self._read(q.limit(size))
            if not page:
                return
            yield EntityList(page)
            if len(page) < size:
                return
            page_no, last_id = page_no + 1, page[-1].id
