"""Names for JSON payloads: the documents, provenance and rows resmark writes as JSON.

A JSON object's values are untyped by nature (strings, numbers, lists, nested
objects); these aliases say "this is a JSON document" where ``Any`` would say
nothing, and keep ``Any`` out of signatures that have a real type.
"""

from __future__ import annotations

from typing import Any

JsonValue = Any  # str | int | float | bool | None | list[JsonValue] | JsonObject
JsonObject = dict[str, JsonValue]
