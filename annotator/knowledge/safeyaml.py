"""YAML for panels, loaded safely and within limits.

``load_file(path)`` reads one YAML document with the safe constructor only
(no Python tags) and libyaml's C parser when PyYAML has it (about 4x faster
on the built-in panel), and refuses, with a one-line ``PanelError`` naming the
file and line:

* a file larger than ``MAX_BYTES`` or holding more than ``MAX_NODES`` values;
* nesting deeper than ``MAX_DEPTH`` (Python's own composer recurses and
  would end in a ``RecursionError``);
* more than ``MAX_ALIASES`` alias uses, an alias that refers to the node it
  sits in (a cycle), and a document whose aliases would expand to more than
  ``MAX_NODES`` nodes (the "billion laughs" alias bomb: a few hundred bytes
  that expand to billions of values once the panel is copied, checksummed or
  validated).

The node graph is composed here, iteratively, from the parser's event stream
(so depth and aliases are counted before anything is built); the expanded
size is computed on the graph, where every alias is one shared node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from annotator.core.jsondoc import JsonValue
from annotator.errors import PanelError

MAX_BYTES = 8 << 20  # 8 MiB per panel file (the built-in panel: 134 kB in all)
MAX_DEPTH = 64  # nesting of mappings and sequences
MAX_ALIASES = 1_000  # alias uses per file
MAX_NODES = 200_000  # values per file, written or after expanding aliases (built-in: 7,638)


class _EventLoader(Protocol):
    """What ``_compose`` uses of a loader: libyaml's ``CSafeLoader`` or PyYAML's ``SafeLoader``."""

    def __init__(self, stream: str) -> None: ...
    def get_event(self) -> yaml.Event | None: ...
    def peek_event(self) -> yaml.Event | None: ...
    def check_event(self, *choices: type[yaml.Event]) -> bool: ...
    def resolve(self, kind: type[Node], value: str | None, implicit: object) -> str: ...
    def construct_document(self, node: Node) -> JsonValue: ...
    def dispose(self) -> None: ...


def _loader_class() -> type[_EventLoader]:
    loader: type[_EventLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


def load_file(path: str | Path) -> JsonValue:
    """The data of one YAML file (None for an empty one); ``PanelError`` on any fault."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise PanelError(
                f"panel file is larger than the {MAX_BYTES >> 20} MiB limit ({size} bytes)", path=p
            )
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as e:
        raise PanelError(f"cannot read panel file: {e.strerror or e}", path=p) from e
    if len(raw) > MAX_BYTES:
        raise PanelError(f"panel file is larger than the {MAX_BYTES >> 20} MiB limit", path=p)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise PanelError("panel file is not UTF-8 text", path=p, where=f"line {line}") from e
    return load_text(text, p)


def load_text(text: str, path: str | Path) -> JsonValue:
    """The data of one YAML document in ``text`` (``path`` names it in errors)."""
    loader = _loader_class()(text)
    try:
        root = _compose(loader, path)
        if root is None:
            return None
        _check_expansion(root, path)
        return loader.construct_document(root)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(e, "problem", None) or " ".join(str(e).split())
        raise PanelError(f"invalid YAML: {problem}", path=path, where=where) from e
    except RecursionError as e:  # belt and braces: the limits above should prevent it
        raise PanelError("YAML nested too deeply", path=path) from e
    finally:
        loader.dispose()


def _line(event: yaml.Event | None) -> str | None:
    mark = getattr(event, "start_mark", None)
    return f"line {mark.line + 1}" if mark is not None else None


def _compose(loader: _EventLoader, path: str | Path) -> Node | None:
    """The document's node graph, built without recursion; None for an empty stream."""
    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        loader.get_event()
        return None
    loader.get_event()  # DocumentStart
    anchors: dict[str, Node] = {}
    stack: list[Node] = []
    keys: list[Node | None] = []  # pending mapping key per open mapping (None: none yet)
    aliases = 0
    nodes = 0
    root: Node | None = None
    while True:
        event = loader.get_event()
        node: Node | None = None
        if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            nodes += 1
            if nodes > MAX_NODES:
                raise PanelError(f"more than {MAX_NODES:,} YAML values in one panel file",
                                 path=path, where=_line(event))
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise PanelError(
                    f"more than {MAX_ALIASES} YAML aliases (an alias bomb?)", path=path,
                    where=_line(event),
                )
            if event.anchor not in anchors:
                raise PanelError(f"undefined YAML alias *{event.anchor}", path=path,
                                 where=_line(event))
            node = anchors[event.anchor]
            if any(node is open_node for open_node in stack):
                raise PanelError(f"YAML alias *{event.anchor} refers to a node that contains it",
                                 path=path, where=_line(event))
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(ScalarNode, event.value, event.implicit)
            start: Any = event.start_mark  # libyaml's Mark or PyYAML's: both carry .line
            end: Any = event.end_mark
            node = ScalarNode(tag, event.value, start, end, style=event.style)
            if event.anchor is not None:
                anchors[event.anchor] = node
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise PanelError(f"YAML nested deeper than {MAX_DEPTH} levels", path=path,
                                 where=_line(event))
            tag = event.tag
            seq = isinstance(event, yaml.SequenceStartEvent)
            kind = SequenceNode if seq else MappingNode
            if tag is None or tag == "!":
                tag = loader.resolve(kind, None, event.implicit)
            first: Any = event.start_mark
            opened: Node = kind(tag, [], first, None, flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = opened
            stack.append(opened)
            keys.append(None)
            continue
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node = stack.pop()
            node.end_mark = event.end_mark
            keys.pop()
        elif isinstance(event, yaml.DocumentEndEvent):
            break
        else:  # pragma: no cover - the parser yields nothing else inside a document
            raise PanelError(f"unexpected YAML event {type(event).__name__}", path=path)
        if not stack:
            root = node
            continue
        parent = stack[-1]
        if isinstance(parent, SequenceNode):
            parent.value.append(node)
        elif keys[-1] is None:
            keys[-1] = node
        else:
            parent.value.append((keys[-1], node))
            keys[-1] = None
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.peek_event()
        raise PanelError("a panel file must hold one YAML document, not several", path=path,
                         where=_line(event))
    loader.get_event()
    return root


def _check_expansion(root: Node, path: str | Path) -> None:
    """Refuse a graph whose aliases expand to more than ``MAX_NODES`` nodes (no recursion)."""
    size: dict[int, int] = {}
    todo: list[tuple[Node, bool]] = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        if id(node) in size:
            continue
        kids = _children(node)
        if children_done or not kids:
            total = 1 + sum(size[id(k)] for k in kids)
            if total > MAX_NODES:
                mark = node.start_mark
                raise PanelError(
                    f"YAML aliases expand to more than {MAX_NODES:,} values (an alias bomb?)",
                    path=path, where=f"line {mark.line + 1}" if mark is not None else None,
                )
            size[id(node)] = total
            continue
        todo.append((node, True))
        todo.extend((k, False) for k in kids if id(k) not in size)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []
