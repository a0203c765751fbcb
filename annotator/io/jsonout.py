"""JSON output: provenance, accounting, flags and every listed alteration with
its full explanation (mechanism, ranked strategies, evidence items).

``write`` streams the document to the file as it encodes it: the text is the
same, byte for byte, as ``json.dumps(to_jsonable(document), indent=2,
ensure_ascii=False)`` plus a newline, but neither the whole text nor a
converted copy of the document is held in memory (a dense panel's document
of thousands of rows and explanations is hundreds of MB as indented text).
The explanations repeat the same mechanism and evidence objects for every
variant of a rule: a frozen dataclass met again is written from the text
encoded the first time (at that indentation).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring  # the C implementation when available
from pathlib import Path
from typing import IO, Any

_SCALARS = (str, int, bool, type(None))
INDENT = "  "
FLUSH_CHARS = 1 << 20  # pieces are written in ~1 MB batches


def to_jsonable(obj: Any) -> Any:
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


def write(path: Path, document: Any) -> None:
    """``document`` as indented JSON (see the module docstring), streamed to ``path``."""
    with open(path, "w", encoding="utf-8") as fh:
        _Encoder(fh).document(document)


def dumps(document: Any) -> str:
    """The text ``write`` writes (without the final newline); for tests and small documents."""
    pieces: list[str] = []
    enc = _Encoder(None, pieces.append)
    enc.value(document, 0)
    return "".join(pieces)


class _Encoder:
    """``json.dumps(to_jsonable(x), indent=2, ensure_ascii=False)`` written piece by piece."""

    def __init__(self, fh: IO[str] | None, sink: Callable[[str], None] | None = None) -> None:
        self.fh = fh
        self.buf: list[str] = []
        self.size = 0
        self.emit = sink or self._buffered
        # id(frozen dataclass) -> (the object, {level: text once met twice}); the object is
        # kept so its id cannot be reused while the document is written
        self.memo: dict[int, tuple[Any, dict[int, str]]] = {}

    def _buffered(self, text: str) -> None:
        self.buf.append(text)
        self.size += len(text)
        if self.size >= FLUSH_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.fh is not None and self.buf:
            self.fh.write("".join(self.buf))
        self.buf, self.size = [], 0

    def document(self, document: Any) -> None:
        self.value(document, 0)
        self.emit("\n")
        self.flush()

    def value(self, obj: Any, level: int) -> None:
        t = type(obj)
        if t is str:
            self.emit(encode_basestring(obj))
        elif obj is None:
            self.emit("null")
        elif obj is True:
            self.emit("true")
        elif obj is False:
            self.emit("false")
        elif t is int:
            self.emit(int.__repr__(obj))
        elif t is float:
            self.emit("null" if obj != obj or obj in (math.inf, -math.inf) else float.__repr__(obj))
        elif t is dict:
            self._items(obj.items(), level)
        elif t is list or t is tuple:
            self._list(obj, level)
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            self._dataclass(obj, level)
        else:
            self._other(obj, level)

    def _dataclass(self, obj: Any, level: int) -> None:
        frozen = type(obj).__dataclass_params__.frozen
        if not frozen:
            self._items(((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)), level)
            return
        entry = self.memo.get(id(obj))
        if entry is None or entry[0] is not obj:
            # first time: written straight through; only what repeats is kept as text
            self.memo[id(obj)] = (obj, {})
            self._items(((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)), level)
            return
        texts = entry[1]
        text = texts.get(level)
        if text is None:
            pieces: list[str] = []
            saved, self.emit = self.emit, pieces.append
            try:
                self._items(((f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)), level)
            finally:
                self.emit = saved
            text = texts[level] = "".join(pieces)
        self.emit(text)

    def _items(self, items: Any, level: int) -> None:
        first = True
        inner = "\n" + INDENT * (level + 1)
        emit = self.emit
        for k, v in items:
            emit(("{" if first else ",") + inner + encode_basestring(str(k)) + ": ")
            first = False
            self.value(v, level + 1)
        emit("{}" if first else "\n" + INDENT * level + "}")

    def _list(self, items: Any, level: int) -> None:
        first = True
        inner = "\n" + INDENT * (level + 1)
        emit = self.emit
        for v in items:
            emit(("[" if first else ",") + inner)
            first = False
            self.value(v, level + 1)
        emit("[]" if first else "\n" + INDENT * level + "]")

    def _other(self, obj: Any, level: int) -> None:
        """What ``to_jsonable`` converts and ``json`` then encodes, for the remaining types."""
        if isinstance(obj, dict) or hasattr(obj, "items"):
            self._items(((str(k), v) for k, v in obj.items()), level)
        elif isinstance(obj, (list, tuple)):
            self._list(obj, level)
        elif isinstance(obj, (set, frozenset)):
            self._list(sorted((to_jsonable(v) for v in obj), key=str), level)
        elif isinstance(obj, Path):
            self.emit(encode_basestring(str(obj)))
        else:  # int/float/str subclasses (enums) as json encodes them; others raise TypeError
            self.emit(json.dumps(to_jsonable(obj), ensure_ascii=False))
