"""Set-based bulk operations driven by a query: one UPDATE ... WHERE id IN (subquery)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import JSON, String

from dsdesk.catalog.models import utcnow
from dsdesk.errors import QueryError
from dsdesk.query.compile import ITEM
from dsdesk.query.sqlexpr import check_path_segment


class JsonMergeTop(ColumnElement):
    """*col* with top-level keys set (``sets``: a bound JSON object) and removed
    (``removes``: literal, validated key names).  A shallow merge, as Dataloop's
    ``update_values``: a given key's value is replaced whole, ``None`` deletes the key."""

    inherit_cache = True
    type = JSON()
    _traverse_internals = [
        ("col", InternalTraversal.dp_clauseelement),
        ("sets", InternalTraversal.dp_clauseelement),
        ("set_keys", InternalTraversal.dp_string_list),
        ("removes", InternalTraversal.dp_string_list),
    ]

    def __init__(self, col, sets, set_keys: tuple[str, ...], removes: tuple[str, ...]):
        self.col, self.sets, self.set_keys, self.removes = col, sets, tuple(set_keys), tuple(removes)


@compiles(JsonMergeTop, "sqlite")
def _merge_sqlite(el, compiler, **kw):
    col = f"coalesce({compiler.process(el.col, **kw)}, '{{}}')"
    sets = compiler.process(el.sets, **kw)
    if el.removes:
        col = f"json_remove({col}, " + ", ".join(f"'$.\"{k}\"'" for k in el.removes) + ")"
    if el.set_keys:
        # json(x -> path) hands json_set a JSON value (true stays true, objects stay objects);
        # json_extract would turn true into 1 and objects into strings.
        args = ", ".join(f"'$.\"{k}\"', json({sets} -> '$.\"{k}\"')" for k in el.set_keys)
        col = f"json_set({col}, {args})"
    return col


@compiles(JsonMergeTop)
def _merge_pg(el, compiler, **kw):
    col = f"coalesce(({compiler.process(el.col, **kw)})::jsonb, '{{}}'::jsonb)"
    for k in el.removes:
        col = f"({col} - '{k}')"
    return f"(({col} || CAST({compiler.process(el.sets, **kw)} AS jsonb))::json)"


def bulk_update_user_metadata(session: Session, dataset_id: int, filters: Any,
                              update_values: dict[str, Any]) -> int:
    """Set user-metadata keys on every item of *dataset_id* matching *filters*.

    One statement: ``UPDATE item SET meta_user = <merged>, row_version = row_version + 1
    WHERE id IN (<query>)``.  ``None`` removes a key.  Returns the number of items changed.
    The caller checks that the dataset is writable.
    """
    from dsdesk.query import item_ids_select

    if not isinstance(update_values, dict) or not update_values:
        raise QueryError("update_values must be a non-empty dict of user-metadata keys")
    if set(update_values) == {"metadata"} and isinstance(update_values["metadata"], dict):
        # The DQL "update" body ({"metadata": {"user": {...}}}) is accepted too.
        update_values = update_values["metadata"].get("user") or {}
    for k in update_values:
        check_path_segment(k, f"metadata.user.{k}")
    sets = {k: v for k, v in update_values.items() if v is not None}
    removes = tuple(k for k, v in update_values.items() if v is None)
    try:
        payload = json.dumps(sets)
    except (TypeError, ValueError) as e:
        raise QueryError(f"update_values must be JSON-serialisable: {e}") from None
    merged = JsonMergeTop(ITEM.c.meta_user, bindparam("meta_patch", payload, type_=String()),
                          tuple(sets), removes)
    stmt = (update(ITEM).where(ITEM.c.id.in_(item_ids_select(dataset_id, filters)))
            .values(meta_user=merged, row_version=ITEM.c.row_version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False))
    return session.execute(stmt).rowcount


__all__ = ["bulk_update_user_metadata", "JsonMergeTop"]
