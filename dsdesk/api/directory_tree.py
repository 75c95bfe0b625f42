"""A dataset's folders with their item counts: ``dataset.directory_tree``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass



@dataclass
class SingleDirectory:
    """One folder of a directory tree."""

    path: str
    name: str
    parent: str | None
    items: int  # items directly in the folder
    total: int  # items in the folder and below


@dataclass
class DirectoryTree:
    """A dataset's folders, empty ones included (``ds.directory_tree``)."""

    dirs: list[SingleDirectory]

    @property
    def dir_names(self) -> list[str]:
        """Every folder path, root first."""
        return [d.path for d in self.dirs]

    @property
    def root(self) -> SingleDirectory:
        """The root folder ``/``."""
        return self.dirs[0]

    def children(self, path: str) -> list[SingleDirectory]:
        """The direct sub-folders of *path*."""
        return [d for d in self.dirs if d.parent == path]

    def counts_under(self, path: str) -> tuple[int, int]:
        """(items in *path* and below, sub-folders below it): what deleting *path* removes."""
        from dsdesk.catalog import paths

        f = paths.normalize_dir(path)
        items = next((d.total for d in self.dirs if d.path == f), 0)
        return items, sum(1 for d in self.dirs if d.path != f and paths.is_under(d.path, f))
