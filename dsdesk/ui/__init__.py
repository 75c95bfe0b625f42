"""The desktop GUI (PySide6): the only package of dsdesk that imports Qt.

Entry point: :func:`dsdesk.ui.app.run_app`.  Everything here talks to the catalog through
the public API, the query engine and Qt-free job functions, always off the GUI thread
(:mod:`dsdesk.ui.tasks` for short reads and writes, :mod:`dsdesk.ui.jobs` for long jobs).
"""
