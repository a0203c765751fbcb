"""Turn domain objects into JSON-ready plain values for the report templates."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from pathlib import Path

from annotator.core.brief import brief_message  # re-exported: flag text for the report (context.py)
from annotator.core.jsondoc import JsonValue

__all__ = ["brief_message", "to_plain"]


def to_plain(obj: object, _depth: int = 0) -> JsonValue:
    """Dataclasses, mappings, enums and simple objects -> dicts/lists/scalars."""
    if _depth > 30:
        return str(obj)
    d = _depth + 1
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, enum.Enum):
        return to_plain(obj.value, d)
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name), d) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v, d) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [to_plain(v, d) for v in obj]
        return sorted(items, key=str) if isinstance(obj, (set, frozenset)) else items
    if hasattr(obj, "_asdict"):
        return to_plain(obj._asdict(), d)
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        return {k: to_plain(v, d) for k, v in attrs.items() if not k.startswith("_")}
    slots = [s for c in type(obj).__mro__ for s in getattr(c, "__slots__", ())]
    if slots:
        return {s: to_plain(getattr(obj, s, None), d) for s in slots if not s.startswith("_")}
    return str(obj)
