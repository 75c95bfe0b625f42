"""The description of one long operation, built once and run anywhere.

A :class:`JobSpec` says everything a runner needs: which job function to call with which
arguments, what to record in the ``job`` table, and what the operation changes.  The
layer that owns an operation builds its JobSpec; :func:`dsdesk.jobs.runner.run_spec`
runs one on the calling thread, :meth:`dsdesk.jobs.process.ProcessJob.of` in a worker
process.  Nothing here knows which operations exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsdesk.errors import InvalidInputError

#: What a job may change, so that a window knows which views to read again when it ends.
CHANGES = frozenset({"datasets", "folders", "items", "annotations"})


@dataclass(frozen=True)
class JobSpec:
    """One long operation: ``fn(ctx, *args, **kwargs)`` recorded as a job of *kind*.

    *spec* is the JSON-safe dict stored in the job row (what the user asked for, never
    bulky arguments such as thousands of item ids).  *changes* names what the operation
    changes (a subset of :data:`CHANGES`).  *in_process* asks for a worker process where
    the runner has them (the GUI): *fn* must then be a module-level function and its
    arguments must pickle.
    """

    kind: str
    title: str
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    dataset_id: int | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)
    changes: frozenset[str] = frozenset()
    in_process: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.changes) - CHANGES
        if unknown:
            raise InvalidInputError(f"job {self.kind!r}: unknown change(s) {sorted(unknown)}; known: {sorted(CHANGES)}")
        if not callable(self.fn):
            raise InvalidInputError(f"job {self.kind!r}: fn must be callable, not {self.fn!r}")
        object.__setattr__(self, "changes", frozenset(self.changes))
        object.__setattr__(self, "args", tuple(self.args))
