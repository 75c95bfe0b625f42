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
from dsdesk.catalog.models import Annotation as AnnotationRow
from dsdesk.errors import InvalidInputError
from dsdesk.query import annotations_select, ast, to_query

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

MAX_PAGE_SIZE = 1000  # as Dataloop's API


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


class PagedAnnotations:
    """Pages of a dataset's annotations matching a query (see the module docstring)."""

    def __init__(self, cat: Catalog, dataset_id: int, filters: Any, page_size: int | None = None,
                 page_offset: int | None = None, item_id: int | None = None):
        page_size = MAX_PAGE_SIZE if page_size is None else page_size
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 0 < page_size <= MAX_PAGE_SIZE:
            raise InvalidInputError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size!r}")
        page_offset = page_offset or 0
        if not isinstance(page_offset, int) or page_offset < 0:
            raise InvalidInputError(f"page_offset must be a page number >= 0, not {page_offset!r}")
        self._cat, self._dataset_id, self._item_id = cat, dataset_id, item_id
        self._query = annotation_query(filters)
        self.page_size, self.page_offset = page_size, page_offset
        self._count: int | None = None
        self._stmt = select_annotations(dataset_id, self._query, item_id)  # checks the query now

    @property
    def items_count(self) -> int:
        """How many annotations match (one COUNT, cached)."""
        if self._count is None:
            with self._cat.db.session() as s:
                self._count = s.execute(select(func.count()).select_from(self._stmt.subquery())).scalar_one()
        return self._count

    @property
    def total_pages_count(self) -> int:
        """How many pages of ``page_size`` there are."""
        return -(-self.items_count // self.page_size)

    def __len__(self) -> int:
        return self.total_pages_count

    def __iter__(self) -> Iterator[list[Annotation]]:
        from dsdesk.api.annotation_upload import recipe_tags

        t = AnnotationRow.__table__
        keyset = not self._query.sort
        base = self._stmt.order_by(None).order_by(t.c.id) if keyset else self._stmt
        page_no, last_id = self.page_offset, None
        while True:
            with self._cat.db.session() as s:
                if keyset:
                    q = base if last_id is not None else base.offset(page_no * self.page_size)
                    if last_id is not None:
                        q = q.where(t.c.id > last_id)
                else:
                    q = base.offset(page_no * self.page_size)
                ids = [r.id for r in s.execute(q.limit(self.page_size))]
                if not ids:
                    return
                rows = {r.id: r for r in s.execute(select(AnnotationRow).where(AnnotationRow.id.in_(ids))).scalars()}
                tags = recipe_tags(s, self._dataset_id)
                page = [Annotation._from_row(rows[i], self._cat, tags) for i in ids if i in rows]
            yield page
            if len(ids) < self.page_size:
                return
            page_no, last_id = page_no + 1, ids[-1]

    def all(self) -> Iterator[Annotation]:
        """Every matching annotation, page by page."""
        for page in self:
            yield from page
