"""Therapy context: turn prior-therapy text into the panel's drug classes.

``--prior-therapy palbociclib,letrozole`` (or a sample sheet's
``prior_therapy`` column, or track's ``therapy`` column) names drugs or
classes; the panel's ``therapy_classes`` (panel.yaml) say which drug belongs
to which class and which class is part of which (an aromatase inhibitor is
endocrine therapy).  A strategy's settings then say whether that history
fits where the strategy was tested (``annotator.knowledge.matcher``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from annotator.errors import UsageError
from annotator.knowledge.model import Panel

NAIVE = frozenset({"none", "naive", "treatment-naive", "treatment naive", "no prior therapy", "-"})
_SPLIT = re.compile(r"[,;+/]|\band\b|\bwith\b")


def _classes(panel: Panel) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return dict(panel.therapy_classes or {})


def ancestors(panel: Panel, classes: Iterable[str]) -> frozenset[str]:
    """The classes and every class they are part of."""
    table = _classes(panel)
    out: set[str] = set()
    todo = list(classes)
    while todo:
        c = todo.pop()
        if c in out:
            continue
        out.add(c)
        todo.extend(table.get(c, ((), ()))[1])
    return frozenset(out)


def tokens(text: str | Iterable[str] | None) -> tuple[str, ...]:
    if text is None:
        return ()
    items = [text] if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in items:
        # "CDK4/6 inhibitor" must survive the "/" split: protect it first
        protected = item.replace("CDK4/6", "CDK4\x006").replace("cdk4/6", "cdk4\x006")
        for part in _SPLIT.split(protected):
            part = " ".join(part.replace("\x00", "/").split()).strip(" .()")
            if part:
                out.append(part)
    return tuple(out)


def resolve(
    panel: Panel, text: str | Iterable[str] | None, *, strict: bool = False
) -> tuple[frozenset[str], tuple[str, ...]]:
    """(drug classes incl. parents, tokens not recognised).

    ``strict`` raises ``UsageError`` for an unknown name (the command-line
    option); sheet and track columns are free text, so they only report it.
    """
    table = _classes(panel)
    by_name: dict[str, str] = {}
    for cls, (names, _) in table.items():
        by_name[cls.lower()] = cls
        for n in names:
            by_name[n] = cls
    found: set[str] = set()
    unknown: list[str] = []
    for tok in tokens(text):
        key = tok.lower()
        if key in NAIVE:
            continue
        found_cls = by_name.get(key) or by_name.get(key.rstrip("s"))
        if found_cls is None:
            # free text such as "palbociclib 125 mg": any known drug word inside
            words = [by_name[w] for w in re.findall(r"[a-z0-9α-]+", key) if w in by_name]
            if words:
                found.update(words)
                continue
            unknown.append(tok)
            continue
        found.add(found_cls)
    if strict and unknown:
        close = difflib.get_close_matches(unknown[0].lower(), list(by_name), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"--prior-therapy: unknown drug or class {unknown[0]!r}{hint}; "
            "'resmark panel therapies' lists the names resmark knows"
        )
    return ancestors(panel, found), tuple(unknown)


def strategy_classes(panel: Panel, drug_classes: Iterable[str]) -> frozenset[str]:
    return ancestors(panel, drug_classes)
