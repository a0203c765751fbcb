"""Non-DNA markers to test next: which of the panel's markers bear on this sample."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from annotator.core.jsondoc import JsonValue
from annotator.report.plain import to_plain
from annotator.report.views import MarkersView, MarkerView


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value if v not in (None, ""))
    return str(value)


def _level_class(level: object) -> str:
    text = str(level or "").strip().upper()[:1]
    return {"L1": "a", "L2": "b", "L3": "c", "L4": "e", "R1": "d", "R2": "d", "R3": "e", "U": "u"}.get(
        str(level or "").strip().upper(), text.lower() if text in "ABCDE" and text else "none")


def _marker_links(m: Mapping[str, JsonValue]) -> set[str]:
    links: set[str] = set()
    for key in ("mechanisms", "mechanism_ids", "mechanism", "related_mechanisms", "genes", "gene",
                "relevant_genes", "when_mechanisms", "relevant_when"):
        v = m.get(key)
        if isinstance(v, Mapping):
            v = v.get("id") or v.get("name")
        if isinstance(v, str):
            links.add(v)
        elif isinstance(v, (list, tuple)):
            links.update(str(x) for x in v if isinstance(x, (str, int)))
    return links


def relevant_markers(
    markers: Iterable[object], mechanisms: Sequence[Mapping[str, JsonValue]],
    rows: Sequence[Mapping[str, JsonValue]], *, plain: bool = False,
) -> MarkersView:
    """Non-DNA markers to test next: those linked to a mechanism or gene found, else all.

    ``plain``: the markers are JSON values already (no copy is made of them).
    """
    items = [m for m in (x if plain else _plain(x) for x in markers) if isinstance(m, Mapping)]
    found = {m["id"] for m in mechanisms if m.get("id")} | {m["name"] for m in mechanisms}
    found |= {str(r.get("gene")) for r in rows if r.get("gene")}
    shaped: list[MarkerView] = []
    for m in items:
        links = _marker_links(m)
        shaped.append({
            "id": _text(m.get("id")),
            "name": _text(m.get("name") or m.get("marker") or m.get("id")),
            "what": _text(m.get("marker") or m.get("analyte") or m.get("type")),
            "genes": _text(m.get("genes")),
            "assay": _text(m.get("assay") or m.get("method") or m.get("test") or m.get("assays")),
            "why": _text(m.get("why_not_dna") or m.get("rationale") or m.get("description")
                         or m.get("why")),
            "note": _text(m.get("note")),
            "mechanism": _text((m.get("mechanism") or {}).get("name"))
            if isinstance(m.get("mechanism"), Mapping) else _text(m.get("mechanism")),
            "links": sorted(links),
            "relevant": bool(links & found),
            "evidence_level": _text(m.get("evidence_level")),
            "level_class": _level_class(m.get("evidence_level")),
        })
    relevant = [m for m in shaped if m["relevant"]]
    return {"entries": relevant or shaped, "all_shown": not relevant, "total": len(shaped)}


def _plain(x: object) -> JsonValue:
    return to_plain(x)
