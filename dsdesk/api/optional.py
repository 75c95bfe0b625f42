"""Optional libraries (NumPy, pandas): imported only when a call needs them.

dsdesk does not depend on them; a Dataloop script that asks for an array or a DataFrame
gets a :class:`MissingDependencyError` that names the package to install instead of an
``ImportError`` from deep inside.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dsdesk.errors import DsdeskError


class MissingDependencyError(DsdeskError, ImportError):
    """A call needs an optional library that is not installed."""


def optional_module(name: str, needed_for: str) -> ModuleType:
    """Import *name* (``numpy``, ``pandas``) or raise MissingDependencyError saying that
    *needed_for* needs it.  Imported by name, so bundlers do not pull it in."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise MissingDependencyError(f"{needed_for} needs {name}, which is not installed: "
                                     f"pip install {name}") from e


def is_instance_of(value, module: str, class_name: str) -> bool:
    """True when *value* is a ``module.class_name`` (numpy.ndarray, pandas.DataFrame) - checked
    without importing the module, which is loaded only if the caller already loaded it."""
    import sys

    mod = sys.modules.get(module)
    cls = getattr(mod, class_name, None) if mod is not None else None
    return cls is not None and isinstance(value, cls)
