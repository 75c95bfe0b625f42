"""What keeps a binary alive: an item pointing at it, or an archived item state that a
version point still sees (``item_history``, migration 0018).

Every "is this blob still used?" question (release after a delete, gc, sync's tombstones)
asks it here, so a snapshot's binaries are never deleted while the snapshot exists.
"""

from __future__ import annotations

from sqlalchemy import exists, or_

from dsdesk.catalog.models import ITEM_HISTORY, Blob, Item


def blob_in_use():
    """SQL: the blob of the enclosing query (``Blob.id``) is referenced."""
    return or_(exists().where(Item.blob_id == Blob.id), exists().where(ITEM_HISTORY.c.blob_id == Blob.id))
