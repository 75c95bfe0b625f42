"""Annotations in the window: the overlay painter shared by the grid and the viewer, the
viewer's drawing canvas and tools, the undoable edits, and the recipe editor dialog."""
