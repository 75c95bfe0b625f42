"""The datasets page: a customisable table of a project's datasets.

* :class:`~dsdesk.ui.datasets.page.DatasetsPage` - the page: loading, layout, sort, search.
* :class:`~dsdesk.ui.datasets.toolbar.DatasetsToolbar`, :class:`~dsdesk.ui.datasets.view.DatasetsTableView`
  and :mod:`~dsdesk.ui.datasets.menus` - its search bar, its table and its context menus.
* :class:`~dsdesk.ui.datasets.model.DatasetTableModel` - its model.
* :class:`~dsdesk.ui.datasets.column_settings.ColumnSettingsDialog` - columns, custom ones too.
* a dataset's properties: :class:`~dsdesk.ui.dialogs.properties.DatasetPropertiesDialog` (shared with the window).
"""

from importlib import import_module

__all__ = ["DatasetsPage", "DatasetTableModel", "ColumnSettingsDialog"]

_WHERE = {"DatasetsPage": "page", "DatasetTableModel": "model", "ColumnSettingsDialog": "column_settings"}


def __getattr__(name: str):
    # Lazy, so `python -m dsdesk.ui.datasets.column_settings` does not import the module
    # twice (runpy warns when the package already imported it).
    if name in _WHERE:
        return getattr(import_module(f"dsdesk.ui.datasets.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
