"""JSON text exactly as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, faster.

With ``indent`` the standard library encodes in pure Python through nested
generators (its C encoder has no indentation); a sample document of ~250 KB
took ~8 ms.  ``dumps`` walks the value once, appending to one list, and
encodes strings with the same C function the standard library uses
(``json.encoder.encode_basestring``), so the text is byte for byte the same.

Beyond the standard library, it writes a ``Mapping`` view (``core.rows.RowObject``)
and a ``core.jsondoc.JsonItems`` as the dict and the list they stand for.

``Fragments`` names values that many documents share (the panel's
mechanisms, strategies and evidence, ``annotator.annotation.document``):
each is encoded once at indentation 0 and re-indented where it appears
(its newlines are all structural: strings escape theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring, encode_basestring_ascii

from annotator.core.jsondoc import JsonItems

_INFINITY = float("inf")
_Str = Callable[[str], str]  # a string's JSON text (the standard library's C encoders)


@dataclass
class Fragments:
    """Values (by id) whose JSON text is kept once encoded; the caller keeps the values alive.

    ``layer()`` gives the fragments of one document: the values this one names (a run's
    panel, for as long as the run) and values only that document keeps alive (a sample's
    shared rule matches), whose texts go when the layer does, so an id reused after
    the document is gone never finds a stale text.
    """

    constant: set[int] = field(default_factory=set)
    text: dict[int, str] = field(default_factory=dict)
    parent: Fragments | None = None

    def layer(self) -> Fragments:
        return Fragments(parent=self)

    def holds(self, key: int) -> bool:
        return key in self.constant or (self.parent is not None and self.parent.holds(key))

    def text_of(self, key: int) -> str | None:
        text = self.text.get(key)
        if text is None and self.parent is not None:
            return self.parent.text_of(key)
        return text

    def keep(self, key: int, text: str) -> None:
        """Remember ``text`` where ``key`` is named (a parent's value: for its next document)."""
        if key in self.constant or self.parent is None:
            self.text[key] = text
        else:
            self.parent.keep(key, text)


def dumps(value: object, fragments: Fragments | None = None, *, ensure_ascii: bool = False) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=ensure_ascii)``; ``fragments``: texts to reuse
    (the caller uses one ``Fragments`` with one ``ensure_ascii``)."""
    parts: list[str] = []
    _encode(value, "\n", parts, fragments, encode_basestring_ascii if ensure_ascii else encode_basestring)
    return "".join(parts)


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INFINITY:
        return "Infinity"
    if o == -_INFINITY:
        return "-Infinity"
    return float.__repr__(o)


def _key(k: object) -> str:
    # the standard library's rules for keys that are not strings (skipkeys=False)
    if isinstance(k, str):
        return k
    if isinstance(k, float):
        return _float(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return int.__repr__(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _encode(o: object, nl: str, parts: list[str], frag: Fragments | None, enc: _Str) -> None:
    """Append the text of ``o``; ``nl`` is a newline and the indentation of ``o``'s line."""
    # the standard library's order of tests (a str subclass is a string, a bool is not an int)
    if isinstance(o, str):
        parts.append(enc(o))
        return
    if o is None:
        parts.append("null")
        return
    if o is True:
        parts.append("true")
        return
    if o is False:
        parts.append("false")
        return
    if isinstance(o, int):
        parts.append(int.__repr__(o))
        return
    if isinstance(o, float):
        parts.append(_float(o))
        return
    if frag is not None and frag.holds(id(o)):
        text = frag.text_of(id(o))
        if text is None:
            sub: list[str] = []
            _encode_container(o, "\n", sub, frag, enc)
            text = "".join(sub)
            frag.keep(id(o), text)
        parts.append(text if nl == "\n" else text.replace("\n", nl))
        return
    _encode_container(o, nl, parts, frag, enc)


def _encode_container(o: object, nl: str, parts: list[str], frag: Fragments | None, enc: _Str) -> None:
    inner = nl + "  "
    if isinstance(o, (list, tuple, JsonItems)):
        if not o:
            parts.append("[]")
            return
        sep = "[" + inner
        for v in o:
            parts.append(sep)
            _encode(v, inner, parts, frag, enc)
            sep = "," + inner
        parts.append(nl + "]")
        return
    if isinstance(o, (dict, Mapping)):  # a Mapping: a view standing for its dict (core.rows.RowObject)
        if not o:
            parts.append("{}")
            return
        sep = "{" + inner
        for k, v in o.items():
            parts.append(sep + enc(_key(k)) + ": ")
            _encode(v, inner, parts, frag, enc)
            sep = "," + inner
        parts.append(nl + "}")
        return
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")
