"""Dialogs of the main window.  Each has a classmethod ``ask(...)`` that runs it modally and
returns the user's answer (or None); tests patch ``ask`` instead of clicking.  Each can be
opened by hand: ``python -m dsdesk.ui.dialogs.<name> --catalog PATH``."""
