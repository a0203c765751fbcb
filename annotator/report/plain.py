"""Turn domain objects into JSON-ready plain values for the report templates."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from annotator.core.brief import brief_message  # re-exported: flag text for the report (context.py)

__all__ = ["brief_message", "to_plain"]


def to_plain(obj: Any, _depth: int = 0) -> Any:
    """Dataclasses, mappings, enums and simple objects -> dicts/lists/scalars.

    A frozen dataclass met again at the same depth (a rule's mechanism and
    evidence repeat in every explanation of a dense sample) gives the same
    converted value again, not a second conversion: equal content, and the
    result is to be read, not changed.
    """
    return _Plain().convert(obj, _depth)


class _Plain:
    __slots__ = ("memo",)

    def __init__(self) -> None:
        # (id, depth) -> (the object, its plain value); the object is kept so its id stays its own
        self.memo: dict[tuple[int, int], tuple[Any, Any]] = {}

    def convert(self, obj: Any, depth: int) -> Any:
        if depth > 30:
            return str(obj)
        t = type(obj)
        if obj is None or t is str or t is int or t is bool:
            return obj
        d = depth + 1
        if t is dict:
            return {str(k): self.convert(v, d) for k, v in obj.items()}
        if t is list or t is tuple:
            return [self.convert(v, d) for v in obj]
        if isinstance(obj, (str, int, bool)):
            return obj
        if isinstance(obj, float):
            return None if math.isnan(obj) or math.isinf(obj) else obj
        if isinstance(obj, enum.Enum):
            return self.convert(obj.value, d)
        if isinstance(obj, Path):
            return str(obj)
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self._dataclass(obj, depth)
        if isinstance(obj, Mapping):
            return {str(k): self.convert(v, d) for k, v in obj.items()}
        if isinstance(obj, (list, tuple, set, frozenset)):
            items = [self.convert(v, d) for v in obj]
            return sorted(items, key=str) if isinstance(obj, (set, frozenset)) else items
        if hasattr(obj, "_asdict"):
            return self.convert(obj._asdict(), d)
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            return {k: self.convert(v, d) for k, v in attrs.items() if not k.startswith("_")}
        slots = [s for c in type(obj).__mro__ for s in getattr(c, "__slots__", ())]
        if slots:
            return {s: self.convert(getattr(obj, s, None), d) for s in slots if not s.startswith("_")}
        return str(obj)

    def _dataclass(self, obj: Any, depth: int) -> Any:
        frozen = type(obj).__dataclass_params__.frozen
        key = (id(obj), depth)
        if frozen:
            hit = self.memo.get(key)
            if hit is not None and hit[0] is obj:
                return hit[1]
        d = depth + 1
        out = {f.name: self.convert(getattr(obj, f.name), d) for f in dataclasses.fields(obj)}
        if frozen:
            self.memo[key] = (obj, out)
        return out
