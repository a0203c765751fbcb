"""Names for JSON payloads: the documents, provenance and rows resmark writes as JSON.

A JSON object's values are untyped by nature (strings, numbers, lists, nested
objects); these aliases say "this is a JSON document" where an untyped
annotation would say nothing.  They are for JSON documents only: a value with a
real class (a Row, a Panel, a dataclass) is annotated with that class.
"""

from __future__ import annotations

from typing import Any

JsonValue = Any  # str | int | float | bool | None | list[JsonValue] | JsonObject
JsonObject = dict[str, JsonValue]
