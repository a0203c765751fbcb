"""The report's QC and provenance sections, from a sample's JSON document.

``qc_context``: the record accounting in buckets, where the read support came
from and the median depth of the listed rows, upstream disagreements, FILTER
values and rejection reasons; ``provenance_context``: tool, panel, build,
inputs and reference, as the provenance record gave them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from annotator.core.jsondoc import JsonValue
from annotator.report import views
from annotator.report.plain import to_plain


def qc_context(doc: Mapping[str, JsonValue], rows: Sequence[Mapping[str, JsonValue]]) -> views.QcView:
    acc = dict(doc.get("accounting") or {})
    total = acc.get("records_read") or 0
    buckets: list[views.Bucket] = []
    for name, label in (("annotated", "annotated"), ("off_panel", "off-panel"),
                        ("filtered", "filtered"), ("rejected", "rejected")):
        n = acc.get(name) or 0
        pct = (100.0 * n / total) if total else 0.0
        buckets.append({"name": name, "label": label, "n": n, "pct": round(pct, 2)})
    sources: dict[str, int] = {}
    for r in rows:
        key = str(r.get("support_source") or "none (caller gave no read support)")
        sources[key] = sources.get(key, 0) + 1
    depths = [r["depth"] for r in rows if isinstance(r.get("depth"), int)]
    return {
        "accounting": acc,
        "buckets": buckets,
        "total": total,
        "support_sources": sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])),
        "median_depth": sorted(depths)[len(depths) // 2] if depths else None,
        "disagreements": [str(x) for x in doc.get("upstream_disagreements") or []],
        "filters": sorted((acc.get("filters") or {}).items()),
        "rejected_reasons": sorted((acc.get("rejected_reasons") or {}).items()),
        "rejected_examples": acc.get("rejected_examples") or {},
    }


def provenance_context(prov: Mapping[str, JsonValue]) -> views.ProvenanceView:
    prov = to_plain(prov) or {}
    panel = prov.get("panel") or {}
    ref = prov.get("reference") or {}
    reference: list[views.ReferenceView] = []
    if isinstance(ref, Mapping):
        for build, d in ref.items():
            if isinstance(d, Mapping):
                keep = {k: v for k, v in d.items()
                        if isinstance(v, (str, int, float)) and v != "" and k != "build"}
                reference.append({"build": str(build), "entries": sorted(keep.items())})
    return {
        "tool": prov.get("tool") or "resmark",
        "tool_version": prov.get("tool_version"),
        "python": prov.get("python"),
        "created": prov.get("created"),
        "command": prov.get("command"),
        "panel": panel if isinstance(panel, Mapping) else {},
        "genome_build": prov.get("genome_build"),
        "samples": prov.get("samples") or [],
        "inputs": [i for i in prov.get("inputs") or [] if isinstance(i, Mapping)],
        "reference": reference,
        "research_use_only": prov.get("research_use_only"),
    }
