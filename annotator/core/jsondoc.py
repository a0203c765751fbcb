"""Names for JSON payloads: the documents, provenance and rows resmark writes as JSON.

A JSON object's values are untyped by nature (strings, numbers, lists, nested
objects); these aliases say "this is a JSON document" where an untyped
annotation would say nothing.  They are for JSON documents only: a value with a
real class (a Row, a Panel, a dataclass) is annotated with that class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

JsonValue = Any  # str | int | float | bool | None | list[JsonValue] | JsonObject
JsonObject = dict[str, JsonValue]
_Source = TypeVar("_Source")


class JsonItems(Sequence[JsonValue], Generic[_Source]):
    """A JSON list whose items are made when read, one at a time, and not kept.

    A dense sample's document lists tens of thousands of rows and explanations;
    as plain JSON values they were most of a run's memory, held while every
    format was written.  ``JsonItems(sources, make)`` holds the sources (objects
    the run keeps anyway) and gives ``make(source)`` for each item as it is read:
    the JSON writer encodes and drops them one by one, the HTML report reads them
    once.  The JSON writers treat it as a list (``annotator.io.jsonindent``,
    ``annotator.io.jsonout``); it is read-only, and each read makes new items.
    """

    __slots__ = ("_make", "_sources")

    def __init__(self, sources: Sequence[_Source], make: Callable[[_Source], JsonValue]) -> None:
        self._sources: Sequence[_Source] = sources
        self._make: Callable[[_Source], JsonValue] = make

    def __len__(self) -> int:
        return len(self._sources)

    def __iter__(self) -> Iterator[JsonValue]:
        make = self._make
        for source in self._sources:
            yield make(source)

    @overload
    def __getitem__(self, index: int) -> JsonValue: ...
    @overload
    def __getitem__(self, index: slice) -> list[JsonValue]: ...

    def __getitem__(self, index: int | slice) -> JsonValue | list[JsonValue]:
        if isinstance(index, slice):
            return [self._make(s) for s in self._sources[index]]
        return self._make(self._sources[index])

    def __repr__(self) -> str:
        return f"JsonItems({len(self)} items)"
