"""JSON output: provenance, accounting, flags and every listed alteration with
its full explanation (mechanism, ranked strategies, evidence items).

``write_plain`` streams: the document's top two levels (its keys, and the
items of ``rows``, ``explanations`` ...) are written one by one as they are
encoded, in ~1 MB batches, so a dense sample's document (thousands of rows
and explanations, tens of MB of indented text) is never one string in
memory.  The text is ``jsonindent.dumps(document)`` byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
import math
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO

from annotator.core.jsondoc import JsonItems, JsonObject, JsonValue
from annotator.io import jsonindent
from annotator.io.jsonindent import Fragments

_SCALARS = (str, int, bool, type(None))
_LISTS = (list, tuple, JsonItems)  # exact types written item by item (not subclasses)
FLUSH_CHARS = 1 << 20  # text handed to the file in batches of about this many characters
STREAM_DEPTH = 2  # container levels written piece by piece; below, each value is one dumps()


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


def write(path: Path, document: JsonObject) -> None:
    # dumps, not dump: with indent, dump writes every token separately (the document's
    # thousands of small writes cost more than encoding it)
    text = json.dumps(to_jsonable(document), indent=2, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")


def write_plain(path: Path, document: object, fragments: Fragments | None = None) -> None:
    """``write`` for a document already in plain JSON values (``annotation.document.DocumentCache``),
    streamed to ``path`` (see the module docstring)."""
    with open(path, "w", encoding="utf-8") as fh:
        out = _Batched(fh)
        _stream(document, "\n", out, fragments, STREAM_DEPTH)
        out.write("\n")
        out.flush()


class _Batched:
    __slots__ = ("fh", "parts", "size")

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        self.fh.write("".join(self.parts))
        self.parts, self.size = [], 0


def _stream(o: object, nl: str, out: _Batched, frag: Fragments | None, depth: int) -> None:
    """Write ``o`` as ``jsonindent`` encodes it at the indentation ``nl``; the top ``depth``
    levels of plain lists and str-keyed dicts piece by piece."""
    t = type(o)
    shared = frag is not None and frag.holds(id(o))
    if depth > 0 and not shared and isinstance(o, _LISTS) and t in _LISTS and o:
        inner = nl + "  "
        sep = "[" + inner
        for v in o:
            out.write(sep)
            _stream(v, inner, out, frag, depth - 1)
            sep = "," + inner
        out.write(nl + "]")
        return
    if depth > 0 and not shared and isinstance(o, dict) and t is dict and o and all(type(k) is str for k in o):
        inner = nl + "  "
        sep = "{" + inner
        for k, v in o.items():
            out.write(sep + encode_basestring(k) + ": ")
            _stream(v, inner, out, frag, depth - 1)
            sep = "," + inner
        out.write(nl + "}")
        return
    text = jsonindent.dumps(o, frag)
    # every newline of the text is structural (strings escape theirs): indent it where it sits
    out.write(text if nl == "\n" else text.replace("\n", nl))
