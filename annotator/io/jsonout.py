"""JSON output: provenance, accounting, flags and every listed alteration with
its full explanation (mechanism, ranked strategies, evidence items)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from annotator.core.jsondoc import JsonObject, JsonValue
from annotator.io import jsonindent
from annotator.io.jsonindent import Fragments

_SCALARS = (str, int, bool, type(None))


def to_jsonable(obj: object) -> JsonValue:
    if type(obj) in _SCALARS:  # most of a document; exact types (an IntEnum is not one)
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [to_jsonable(v) for v in obj]
        return sorted(items, key=str) if isinstance(obj, (set, frozenset)) else items
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write(path: Path, document: JsonObject, *, plain: bool = False, fragments: Fragments | None = None) -> None:
    """Write the document as indented JSON.

    ``plain``: the document holds JSON values only (``annotation.document.DocumentCache``),
    so it is encoded as it is, reusing ``fragments``; the text is the same either way.
    """
    if plain:
        text = jsonindent.dumps(document, fragments)
    else:
        # dumps, not dump: with indent, dump writes every token separately (the document's
        # thousands of small writes cost more than encoding it)
        text = json.dumps(to_jsonable(document), indent=2, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")
