"""Labels as Dataloop's SDK has them: ``dd.Label``, colours, label trees and dotted names.

A recipe stores its labels flat, one row per dotted tag (``vehicle``, ``vehicle.car``);
a :class:`Label` is the tree view of those rows (``children``).  Colours are accepted the
ways the SDK accepts them (``"#ff0000"``, ``(255, 0, 0)``, ``"rgb(255,0,0)"``) and kept as
lower-case ``#rrggbb``.  A label created without a colour gets one from a fixed palette,
chosen by a checksum of its tag, so the same label has the same colour in every run and
on every machine (Python's ``hash()`` of a string changes per process).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any

from dsdesk.errors import InvalidInputError

#: A readable palette for labels created without a colour.
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
           "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075"]

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_RGB_TEXT = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*[\d.]+\s*)?\)")


def label_color(tag: str | None) -> str:
    """The default colour of *tag*: the same in every run (a CRC of the text picks it)."""
    return PALETTE[zlib.crc32((tag or "").encode("utf-8")) % len(PALETTE)]


def to_hex(color: Any, what: str = "colour") -> str | None:
    """``#rrggbb`` for a hex string, an ``rgb(...)`` string or an (r, g, b) tuple; None stays None.

    InvalidInputError names *what* when the value is not a colour.
    """
    if color is None or color == "":
        return None
    if isinstance(color, str):
        m = _HEX.fullmatch(color.strip())
        if m:
            h = m.group(1).lower()
            return "#" + (h if len(h) == 6 else "".join(c * 2 for c in h))
        m = _RGB_TEXT.fullmatch(color.strip())
        if m:
            color = tuple(int(g) for g in m.groups())
        else:
            raise InvalidInputError(f"{what} {color!r} is not a colour (expected '#rrggbb' or (r, g, b))")
    if isinstance(color, (tuple, list)) and len(color) in (3, 4) and all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color):
        r, g, b = color[:3]
        return f"#{r:02x}{g:02x}{b:02x}"
    raise InvalidInputError(f"{what} {color!r} is not a colour (expected '#rrggbb' or (r, g, b) with 0-255)")


def to_rgb(color: str | None) -> tuple[int, int, int] | None:
    """``(r, g, b)`` of a ``#rrggbb`` colour."""
    if color is None:
        return None
    h = to_hex(color)
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


class Label:
    """One label of a recipe (``dd.Label``): ``tag`` (its own name), ``color``, ``children``,
    ``attributes`` (names of recipe attributes), ``display_label``.

    Compares equal to its tag string too, so ``dataset.labels == ["car", "person"]`` holds
    for a flat label set.
    """

    def __init__(self, tag: str | None = None, display_label: str | None = None, color: Any = None,
                 children: Iterable | None = None, attributes: list | None = None,
                 display_data: dict | None = None, label_name: str | None = None):
        tag = tag if tag is not None else label_name
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInputError(f"a label needs a non-empty string tag, not {tag!r}")
        self.tag = tag
        self.display_label = display_label or tag.rsplit(".", 1)[-1]
        self.color = to_hex(color, f"the colour of label {tag!r}")
        self.children: list[Label] = [as_label(c) for c in (children or [])]
        self.attributes = list(attributes or [])
        self.display_data = dict(display_data or {})

    @property
    def rgb(self) -> tuple[int, int, int] | None:
        """The colour as an (r, g, b) tuple."""
        return to_rgb(self.color)

    @property
    def hex(self) -> str | None:
        """The colour as ``#rrggbb``."""
        return self.color

    @classmethod
    def from_root(cls, root: dict) -> Label:
        """A label from Dataloop's label JSON (``tag``/``label_name``, ``color``, ``children``...)."""
        return as_label(root)

    def to_root(self) -> dict:
        """Dataloop's label JSON, children included."""
        return {"tag": self.tag, "displayLabel": self.display_label, "color": self.color,
                "attributes": list(self.attributes), "children": [c.to_root() for c in self.children]}

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return self.tag == other
        if isinstance(other, Label):
            return (self.tag, self.color, self.children, self.attributes) == (
                other.tag, other.color, other.children, other.attributes)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.tag)

    def __repr__(self) -> str:
        kids = f", children={len(self.children)}" if self.children else ""
        return f"Label({self.tag!r}, color={self.color!r}{kids})"


def as_label(value: Any, index: int | None = None) -> Label:
    """A :class:`Label` from a Label, a tag string, or a dict with ``tag`` / ``label_name``
    (``displayLabel``, ``color``, ``children``, ``attributes``)."""
    where = f"label {index}" if index is not None else "a label"
    if isinstance(value, Label):
        return value
    if isinstance(value, str):
        return Label(tag=value)
    if isinstance(value, dict):
        tag = value.get("tag", value.get("label_name", value.get("name")))
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInputError(f"{where} has no name (tag or label_name): {value!r}")
        return Label(tag=tag, display_label=value.get("display_label", value.get("displayLabel")),
                     color=value.get("color"), children=value.get("children"),
                     attributes=value.get("attributes"), display_data=value.get("display_data"))
    raise InvalidInputError(f"{where} must be a name, a dict or a dd.Label, not {type(value).__name__}")


def flatten(labels: Any) -> list[dict]:
    """Rows ``{tag, color, display_label, attributes}`` for a label tree, parents first.

    Accepts what ``datasets.create(labels=...)`` and ``add_labels`` accept: one label or a
    list of names, dicts (with ``children``) and :class:`Label` objects, or ``{tag: colour}``.
    A child's tag is prefixed with its parent's (``Dog`` > ``Puppy`` is ``Dog.Puppy``).
    A tag given twice is kept once (its first form).  Missing colours get :func:`label_color`.
    The parents of a dotted tag are added before it when missing (marked ``implied``).
    """
    if labels is None:
        return []
    if isinstance(labels, dict) and not {"tag", "label_name", "name"} & set(labels):
        labels = [{"tag": k, "color": v} for k, v in labels.items()]
    elif isinstance(labels, (str, dict, Label)):
        labels = [labels]
    out: list[dict] = []
    seen: set[str] = set()

    def walk(lab: Label, prefix: str) -> None:
        tag = f"{prefix}.{lab.tag}" if prefix else lab.tag
        parts = tag.split(".")
        for k in range(1, len(parts)):
            # A dotted name brings its parents ("animal.Dog.poodle" makes animal and
            # animal.Dog), as Dataloop does; "implied" rows never overwrite a label.
            parent = ".".join(parts[:k])
            if parent not in seen:
                seen.add(parent)
                out.append({"tag": parent, "color": label_color(parent), "display_label": parts[k - 1],
                            "attributes": [], "implied": True})
        row = {"tag": tag, "color": lab.color or label_color(tag), "display_label": lab.display_label,
               "attributes": list(lab.attributes)}
        if tag not in seen:
            seen.add(tag)
            out.append(row)
        else:  # given after a child implied it: the label as given wins
            for i, r in enumerate(out):
                if r["tag"] == tag and r.get("implied"):
                    out[i] = row
        for child in lab.children:
            walk(child, tag)

    for i, lab in enumerate(labels):
        walk(as_label(lab, i), "")
    return out


def build_tree(rows: list[dict]) -> list[Label]:
    """Top-level :class:`Label` objects (with ``children``) from flat rows with dotted tags.

    A row whose parent tag is not a label of its own is a top-level label with a dotted
    tag (``animal.Dog`` on its own), as Dataloop shows it.
    """
    by_tag: dict[str, Label] = {}
    roots: list[Label] = []
    for r in rows:
        lab = Label(tag=r["tag"], display_label=r.get("display_label"), color=r.get("color"),
                    attributes=r.get("attributes"))
        parent = r["tag"].rsplit(".", 1)[0] if "." in r["tag"] else None
        if parent is not None and parent in by_tag:
            lab.tag = r["tag"][len(parent) + 1:]
            by_tag[parent].children.append(lab)
        else:
            roots.append(lab)
        by_tag[r["tag"]] = lab
    return roots


def instance_map(tags: Iterable[str]) -> dict[str, int]:
    """Dataloop's default instance map: each dotted tag -> its 1-based index in sorted order."""
    return {tag: i for i, tag in enumerate(sorted(tags), start=1)}
