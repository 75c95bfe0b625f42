"""What dtlpy's ``PagedEntities`` offers on any listing: counts, the current page, moving
between pages.  :class:`~dsdesk.api.pages.PagedItems` and
:class:`~dsdesk.api.annotation_pages.PagedAnnotations` say how to count and how to read a
page; the navigation is this one class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from dsdesk.api.entities_print import EntityList
from dsdesk.errors import InvalidInputError


class PagedEntities(ABC):
    """Pages of ``page_size`` entities from ``page_offset`` on; subclasses define
    :attr:`items_count`, :meth:`_set_page` (read page *n* into ``self._items``) and
    iteration."""

    page_size: int
    page_offset: int
    _items: EntityList | None

    @property
    @abstractmethod
    def items_count(self) -> int:
        """How many entities match."""

    @abstractmethod
    def _set_page(self, n: int) -> None:
        """Read page *n* into ``self._items`` and make it the current page."""

    @property
    def total_pages_count(self) -> int:
        """How many pages of ``page_size`` there are (0 for the count-only ``page_size=0``)."""
        return -(-self.items_count // self.page_size) if self.page_size else 0

    @property
    def has_next_page(self) -> bool:
        """True when a page follows the current one."""
        return bool(self.page_size) and (self.page_offset + 1) * self.page_size < self.items_count

    def __len__(self) -> int:
        """The number of matching entities, as the SDK's ``len(pages)``."""
        return self.items_count

    @property
    def items(self) -> EntityList:
        """The entities of the current page (``page_offset``), with ``print()`` and ``to_df()``."""
        if self._items is None:
            self._set_page(self.page_offset)
        return self._items

    def go_to_page(self, page: int = 0) -> None:
        """Make *page* (0-based) the current page."""
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            raise InvalidInputError(f"a page number is a whole number >= 0, not {page!r}")
        self._set_page(page)

    def next_page(self) -> None:
        """Move to the next page."""
        self._set_page(self.page_offset + 1)

    def prev_page(self) -> None:
        """Move to the previous page."""
        if self.page_offset == 0:
            raise InvalidInputError("already on the first page")
        self._set_page(self.page_offset - 1)

    def __getitem__(self, page: int) -> EntityList:
        """Page number *page*, which becomes the current page (as the SDK's ``pages[n]``)."""
        self.go_to_page(page)
        return self._items

    def print(self, columns: list[str] | None = None) -> None:
        """Print the current page as a table."""
        self.items.print(columns)

    def to_df(self, columns: list[str] | None = None):
        """The current page as a pandas DataFrame."""
        return self.items.to_df(columns)

    @abstractmethod
    def __iter__(self) -> Iterator[EntityList]:
        """The pages from ``page_offset`` on."""

    def all(self) -> Iterator[Any]:
        """Every matching entity, page by page."""
        for page in self:
            yield from page
