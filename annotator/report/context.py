"""Template data for the HTML reports, built from plain (JSON-shaped) documents.

The sample report is a view of the annotate JSON document
(``annotator.annotation.outputs.sample_document``), so ``resmark report`` can re-render it
from ``<sample>.resmark.json`` alone.  Every function here takes and returns plain dicts,
lists and scalars; escaping is the template engine's job.

Order of the sample report: alerts, mechanisms found, candidate strategies, the alteration
table, evidence per alteration, markers DNA cannot show, QC, provenance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from annotator.core.jsondoc import JsonObject, JsonValue
from annotator.report import views
from annotator.report.htmlbound import bound_rows
from annotator.report.markers import relevant_markers
from annotator.report.plain import brief_message, to_plain
from annotator.report.sections import provenance_context, qc_context

__all__ = ["provenance_context", "relevant_markers", "to_plain"]

# Strongest first: therapy (L) and resistance (R) levels of the same tier side by
# side (panel 2.0 scale, docs/knowledge_base.md); panel-1.x letters A-E last so
# that an old result directory still renders.
LEVEL_ORDER = ("L1", "R1", "L2", "R2", "L3", "L4", "R3", "U", "A", "B", "C", "D", "E")
SEVERITY_ORDER = ("high", "warning", "info")
# colour class per level (report.css has lvl-a .. lvl-e, lvl-u): resistance in its own colour
_LEVEL_CSS = {"L1": "a", "L2": "b", "L3": "c", "L4": "e", "R1": "d", "R2": "d", "R3": "e", "U": "u",
              "A": "a", "B": "b", "C": "c", "D": "d", "E": "e"}

# Default legend when the panel is not at hand (``resmark report`` on an old
# directory); the panel's own ``evidence_levels`` replace it when available.
DEFAULT_LEVELS = (
    {"level": "L1", "label": "FDA-approved for this biomarker in the stated setting"},
    {"level": "L2", "label": "phase 3 or randomised evidence in the selected population, not FDA-labelled"},
    {"level": "L3", "label": "early-phase, single-arm, subgroup or observational clinical data"},
    {"level": "L4", "label": "preclinical or rationale only"},
    {"level": "R1", "label": "resistance recognised in an FDA label or standard-care guideline"},
    {"level": "R2", "label": "clinical evidence of resistance"},
    {"level": "R3", "label": "preclinical evidence of resistance"},
    {"level": "U", "label": "variant of uncertain significance"},
)


def _level_key(level: object) -> str:
    return str(level or "").strip().upper()


def level_rank(level: object) -> int:
    text = _level_key(level)
    return LEVEL_ORDER.index(text) if text in LEVEL_ORDER else len(LEVEL_ORDER)


def level_class(level: object) -> str:
    """CSS class suffix of an evidence level: ``a``..``e``, ``u`` or ``none``."""
    return _LEVEL_CSS.get(_level_key(level), "none")


def is_claimed(r: Mapping[str, JsonValue]) -> bool:
    """A rule-matched row that is not a variant of uncertain significance."""
    if not r.get("rule_id") or r.get("over_claim_guard"):
        return False
    return r.get("significance") != "uncertain" and _level_key(r.get("evidence_level")) != "U"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value if v not in (None, ""))
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items() if v not in (None, ""))
    return str(value)


def panel_info(panel: object) -> views.PanelInfo:
    """What the report needs from a loaded panel (any object with the documented fields)."""
    if panel is None:
        return {"evidence_levels": [dict(x) for x in DEFAULT_LEVELS], "non_dna_markers": []}
    levels = to_plain(getattr(panel, "evidence_levels", None)) or []
    if isinstance(levels, Mapping):
        levels = [{"level": k, **(v if isinstance(v, Mapping) else {"label": v})} for k, v in levels.items()]
    levels = [lv for lv in levels if isinstance(lv, Mapping)] or [dict(x) for x in DEFAULT_LEVELS]
    return {
        "name": getattr(panel, "name", None),
        "version": getattr(panel, "version", None),
        "release_date": str(getattr(panel, "release_date", "") or "") or None,
        "checksum": getattr(panel, "checksum", None),
        "evidence_levels": levels,
        "non_dna_markers": to_plain(list(getattr(panel, "non_dna_markers", ()) or ())),
    }


# ----------------------------------------------------------------- sample
def sample_context(document: Mapping[str, JsonValue], panel: views.PanelInfo | None = None, *,
                   plain: bool = False) -> views.SampleContext:
    """Template data for one sample from its JSON document (``plain``: JSON values only)."""
    doc = document if plain else to_plain(document)
    info = views.PanelInfo(**(panel or panel_info(None)))  # a copy
    # read once, not changed (a run's are made as read: core.jsondoc.JsonItems, core.rows.RowObject)
    rows: list[Mapping[str, JsonValue]] = [r for r in doc.get("rows") or [] if isinstance(r, Mapping)]
    explained = [e for e in doc.get("explanations") or [] if isinstance(e, Mapping)]
    explanations = {e.get("variant_key"): e for e in explained}
    # strongest evidence first, then gene and position, so the table opens in reading order
    rows = sorted(rows, key=lambda r: (level_rank(r.get("evidence_level")), not r.get("rule_id"),
                                       str(r.get("gene") or "~"), r.get("pos") or 0))
    shown, bounded = bound_rows(rows, is_claimed)  # a large sample: report.htmlbound
    table = [_table_row(i, r) for i, r in enumerate(shown)]
    evidence = []
    for i, r in enumerate(shown):
        item = _alteration_evidence(r, explanations.get(r.get("variant_key")))
        if item["matches"]:
            item["anchor"] = f"ev-{i}"
            table[i]["evidence_anchor"] = item["anchor"]
            evidence.append(item)
    mechanisms = summarise_mechanisms(rows, explanations)
    strategies = summarise_strategies(rows, explanations)
    markers = doc.get("non_dna_markers") or info.get("non_dna_markers") or []
    prov = doc.get("resmark") or {}
    return {
        "kind": "sample",
        "title": f"resmark report: {doc.get('sample') or 'sample'}",
        "sample": doc.get("sample"),
        "input": doc.get("input"),
        "genome_build": doc.get("genome_build") or prov.get("genome_build"),
        "tumour_sample_chosen_by": doc.get("tumour_sample_chosen_by"),
        "alerts": sort_alerts([*sample_alerts(doc, rows, explained), *bounded]),
        "mechanisms": mechanisms,
        "strategies": strategies,
        "table": table,
        "levels_present": sorted({t["level"] for t in table if t["level"]}, key=level_rank),
        "genes_present": sorted({t["gene"] for t in table if t["gene"]}),
        "evidence": evidence,
        "markers": relevant_markers(markers, mechanisms, rows, plain=True),  # both sources are plain
        "qc": qc_context(doc, rows),
        "interpretation": doc.get("qc") or {},  # annotator.annotation.qc: what could not be read
        "provenance": provenance_context(prov),
        "panel": info,
        "n_matched": sum(1 for r in rows if is_claimed(r)),
        "n_uncertain": sum(1 for r in rows if r.get("rule_id") and not is_claimed(r)),
        "therapy_context": doc.get("therapy_context") or {},
    }


def _protein(r: Mapping[str, JsonValue]) -> str:
    for key in ("hgvsp_short", "hgvsc"):
        if r.get(key):
            return str(r[key])
    if r.get("copy_number") is not None:
        return f"{r.get('alteration_class') or 'copy number'} (CN {r['copy_number']:g})"
    if r.get("partner_gene"):
        return f"{r.get('gene')}::{r['partner_gene']} {r.get('alteration_class') or ''}".strip()
    return str(r.get("alteration_class") or r.get("sv_type") or "")


def _fmt_vaf(vaf: JsonValue) -> str:
    if vaf is None:
        return "n/a"
    pct = float(vaf) * 100
    return f"{pct:.2f}%" if pct < 1 else f"{pct:.1f}%"


def _table_row(i: int, r: Mapping[str, JsonValue]) -> views.TableRow:
    vaf = r.get("vaf")
    return {
        "anchor": f"alt-{i}",
        "gene": r.get("gene") or "",
        "change": _protein(r),
        "hgvsc": r.get("hgvsc") or "",
        "transcript": r.get("transcript") or "",
        "alteration_class": (r.get("alteration_class") or "").replace("_", " "),
        "consequence": (r.get("consequence") or "").replace("&", ", "),
        "vaf": vaf,
        "vaf_text": _fmt_vaf(vaf),
        "depth": r.get("depth"),
        "alt_count": r.get("alt_count"),
        "filter": r.get("filter") or "",
        "mechanism": r.get("mechanism") or "",
        "category": (r.get("mechanism_category") or "").replace("_", " "),
        "strategies": r.get("strategies") or "",
        "level": (r.get("evidence_level") or "").strip(),
        "level_rank": level_rank(r.get("evidence_level")),
        "level_class": level_class(r.get("evidence_level")),
        "rule_id": r.get("rule_id") or "",
        "match_level": r.get("match_level") or "",
        "variant_key": r.get("variant_key") or "",
        "position": f"{r.get('chrom', '')}:{r.get('pos', '')}",
        "pos": r.get("pos") or 0,
        "support_source": r.get("support_source") or "",
        "flags": r.get("flags") or "",
        "over_claim_guard": bool(r.get("over_claim_guard")) or (bool(r.get("rule_id")) and not is_claimed(r)),
        "significance": r.get("significance") or "",
        "claims": r.get("claims") or "",
        "matched": bool(r.get("rule_id")),
        "disagreement": r.get("upstream_disagreement") or "",
        "evidence_anchor": "",
    }


def _matches(expl: Mapping[str, JsonValue] | None) -> list[JsonObject]:
    if not expl:
        return []
    return [dict(m) for m in expl.get("matches") or [] if isinstance(m, Mapping)]


def _evidence_item(ev: Mapping[str, JsonValue]) -> views.EvidenceView:
    figures: list[views.FigureView] = []
    for f in ev.get("labelled_figures") or ev.get("figures") or []:
        if isinstance(f, Mapping):
            figures.append({"measure": _text(f.get("measure")), "text": _text(f.get("text"))})
        elif f:
            figures.append({"measure": "", "text": _text(f)})
    refs = ev.get("reference") or ev.get("references") or ev.get("citation") or ev.get("refs")
    pubs = [p for p in ev.get("publications") or [] if isinstance(p, Mapping)]
    pub_text = [_text(p.get("citation")) + (f"; PMID {p['pmid']}" if p.get("pmid") else "")
                + (f"; doi:{p['doi']}" if p.get("doi") else "") for p in pubs]
    return {
        "publications": pub_text,
        "beyond_seeds": bool(ev.get("beyond_seeds")),
        "id": _text(ev.get("id")),
        "study": _text(ev.get("study")),
        "identifier": _text(ev.get("identifier")),
        "phase": _text(ev.get("phase")),
        "population": _text(ev.get("population")),
        "intervention": _text(ev.get("intervention")),
        "endpoint": _text(ev.get("endpoint")),
        "figures": figures,
        "source": _text(ev.get("source")),
        "references": [_text(x) for x in refs] if isinstance(refs, list) else ([_text(refs)] if refs else []),
        "note": _text(ev.get("note")),
        "refs": [_text(x) for x in ev.get("refs") or []] if not refs else [],
    }


def _strategy(s: Mapping[str, JsonValue]) -> views.StrategyView:
    evidence = s.get("evidence") or s.get("evidence_items") or []
    return {
        "name": _text(s.get("name")),
        "approach": _text(s.get("approach")),
        "rank": s.get("rank"),
        "kind": _text(s.get("kind")) or "treat",
        "level": _text(s.get("evidence_level")),
        "level_class": level_class(s.get("evidence_level")),
        "evidence": [_evidence_item(e) for e in evidence if isinstance(e, Mapping)],
        "note": _text(s.get("note")),
        "requires_wildtype": _text(s.get("requires_wildtype")),
        "settings": [
            {"label": _text(st.get("label")), "level": _text(st.get("evidence_level")),
             "level_class": level_class(st.get("evidence_level"))}
            for st in s.get("settings") or [] if isinstance(st, Mapping)
        ],
        "setting_status": _text(s.get("setting_status")) or "not assessed",
        "level_before_gating": _text(s.get("level_before_gating")),
    }


def _alteration_evidence(r: Mapping[str, JsonValue], expl: Mapping[str, JsonValue] | None) -> views.AlterationEvidence:
    """The most specific rule speaks for the alteration; broader rules are 'also matched'."""
    matches: list[views.MatchView] = []
    all_matches = _matches(expl)
    also: list[views.AlsoMatched] = [
        {"rule_id": _text(m.get("rule_id")), "match_level": _text(m.get("match_level")),
         "level": _text(m.get("evidence_level")), "level_class": level_class(m.get("evidence_level"))}
        for m in all_matches[1:]
    ]
    for m in all_matches[:1]:
        mech = m.get("mechanism") or {}
        strategies = [_strategy(s) for s in m.get("strategies") or [] if isinstance(s, Mapping)]
        # the matcher already ranks (tested-in-another-setting last); keep its order
        matches.append({
            "rule_id": _text(m.get("rule_id")),
            "match_level": _text(m.get("match_level")),
            "level": _text(m.get("evidence_level")),
            "level_class": level_class(m.get("evidence_level")),
            "over_claim_guard": bool(m.get("over_claim_guard")),
            "uncertain": m.get("significance") == "uncertain",
            "significance": _text(m.get("significance")),
            "claims": [
                {"text": f"{_text(c.get('effect'))} to {_text(c.get('drug_class'))}",
                 "level": _text(c.get("level")), "level_class": level_class(c.get("level")),
                 "note": _text(c.get("note"))}
                for c in m.get("claims") or [] if isinstance(c, Mapping)
            ],
            "mechanism": {
                "id": _text(mech.get("id")),
                "name": _text(mech.get("name")),
                "category": _text(mech.get("category")).replace("_", " "),
                "pathway": _text(mech.get("pathway")),
                "description": _text(mech.get("description")),
                "drug_classes": _text(mech.get("drug_classes")),
                "sources": [_text(x) for x in mech.get("sources") or []],
            },
            "note": _text(m.get("note")),
            "strategies": strategies,
        })
    return {
        "anchor": "",
        "gene": r.get("gene") or "",
        "change": _protein(r),
        "variant_key": r.get("variant_key") or "",
        "vaf_text": _fmt_vaf(r.get("vaf")),
        "matches": matches,
        "also_matched": also,
    }


def summarise_mechanisms(
    rows: Sequence[Mapping[str, JsonValue]], explanations: Mapping[JsonValue, Mapping[str, JsonValue]]
) -> list[views.MechanismSummary]:
    """One entry per mechanism found, with its alterations and best evidence level."""
    found: dict[str, views.MechanismSummary] = {}
    for r in rows:
        matches = _matches(explanations.get(r.get("variant_key")))
        if not matches and r.get("mechanism"):
            matches = [{
                "mechanism": {"id": r.get("mechanism_id"), "name": r.get("mechanism"),
                              "category": r.get("mechanism_category"), "pathway": r.get("pathway"),
                              "drug_classes": r.get("drug_classes")},
                "evidence_level": r.get("evidence_level"),
                "over_claim_guard": r.get("over_claim_guard"),
            }]
        for m in matches[:1]:  # the most specific rule speaks for the alteration
            if m.get("significance") == "uncertain" or m.get("over_claim_guard"):
                continue  # a variant of uncertain significance names no mechanism
            mech = m.get("mechanism") or {}
            key = _text(mech.get("id") or mech.get("name"))
            if not key:
                continue
            entry = found.setdefault(key, {
                "id": _text(mech.get("id")), "name": _text(mech.get("name")) or key,
                "category": _text(mech.get("category")).replace("_", " "),
                "pathway": _text(mech.get("pathway")),
                "description": _text(mech.get("description")),
                "drug_classes": _text(mech.get("drug_classes")),
                "claims": "; ".join(
                    f"{_text(c.get('effect'))} to {_text(c.get('drug_class'))} [{_text(c.get('level'))}]"
                    for c in m.get("claims") or [] if isinstance(c, Mapping)),
                "alterations": [], "level": "", "guard_only": True,
            })
            entry["alterations"].append(f"{r.get('gene') or ''} {_protein(r)}".strip())
            lv = _text(m.get("evidence_level"))
            if lv and (not entry["level"] or level_rank(lv) < level_rank(entry["level"])):
                entry["level"] = lv
            entry["guard_only"] = entry["guard_only"] and bool(m.get("over_claim_guard"))
    out = list(found.values())
    for e in out:
        e["level_class"] = level_class(e["level"])
    out.sort(key=lambda e: (e["guard_only"], level_rank(e["level"]), e["name"]))
    return out


def summarise_strategies(
    rows: Sequence[Mapping[str, JsonValue]], explanations: Mapping[JsonValue, Mapping[str, JsonValue]]
) -> list[views.StrategySummary]:
    """Candidate strategies across all alterations, best evidence first; 'avoid' kept apart."""
    found: dict[str, views.StrategySummary] = {}
    for r in rows:
        label = f"{r.get('gene') or ''} {_protein(r)}".strip()
        for m in _matches(explanations.get(r.get("variant_key")))[:1]:
            if m.get("significance") == "uncertain":
                continue
            for s in m.get("strategies") or []:
                if not isinstance(s, Mapping):
                    continue
                st = _strategy(s)
                entry = found.setdefault(st["name"], {**st, "alterations": [], "n_evidence": 0})
                if st["setting_status"] != "other setting":
                    entry["setting_status"] = (st["setting_status"]
                                               if entry["setting_status"] == "other setting"
                                               else entry["setting_status"])
                if label not in entry["alterations"]:
                    entry["alterations"].append(label)
                if st["level"] and level_rank(st["level"]) < level_rank(entry["level"]):
                    entry["level"], entry["level_class"] = st["level"], st["level_class"]
                entry["n_evidence"] = max(entry["n_evidence"], len(st["evidence"]))
    out = list(found.values())
    out.sort(key=lambda s: (s["kind"] == "avoid", s["setting_status"] == "other setting",
                            level_rank(s["level"]),
                            s["rank"] if isinstance(s["rank"], int) else 99, s["name"]))
    return out


# ----------------------------------------------------------------- alerts, QC


def _alert(severity: str, title: str, message: str = "", gene: str = "") -> views.Alert:
    return {"severity": severity, "title": title, "message": message, "gene": gene}


def sort_alerts(alerts: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    out = []
    for a in alerts:
        sev = str(a.get("severity") or a.get("level") or "info").lower()
        sev = {"critical": "high", "error": "high", "warn": "warning", "medium": "warning",
               "low": "info"}.get(sev, sev)
        out.append({**a, "severity": sev if sev in SEVERITY_ORDER else "info",
                    "title": _text(a.get("title") or a.get("kind") or a.get("type") or "Alert"),
                    "message": _text(a.get("message") or a.get("detail") or a.get("text"))})
    return sorted(out, key=lambda a: SEVERITY_ORDER.index(a["severity"]))


def sample_alerts(doc: Mapping[str, JsonValue], rows: Sequence[Mapping[str, JsonValue]],
                  explained: Sequence[Mapping[str, JsonValue]] | None = None) -> list[dict[str, object]]:
    alerts: list[views.Alert] = []
    for f in doc.get("flags") or []:
        if isinstance(f, Mapping):
            kind = _text(f.get("kind"))
            title = f"{kind.replace('_', ' ').capitalize()}: {_text(f.get('gene'))}".strip(": ")
            sev = "warning" if kind in ("strategy_caveat", "caveat") else "high"
            alerts.append(_alert(sev, title or "Flag", brief_message(_text(f.get("message"))), _text(f.get("gene"))))
    seen_avoid: set[str] = set()
    for e in doc.get("explanations") or [] if explained is None else explained:
        for m in (e.get("matches") or [])[:1]:
            if m.get("significance") == "uncertain":
                continue
            for s in m.get("strategies") or []:
                if isinstance(s, Mapping) and s.get("kind") == "avoid" and s.get("name") not in seen_avoid:
                    seen_avoid.add(_text(s.get("name")))
                    alerts.append(_alert("high", _text(s.get("name")), _text(s.get("approach"))))
    acc = doc.get("accounting") or {}
    if acc and acc.get("balanced") is False:
        alerts.append(_alert("high", "Record accounting does not balance",
                             "records read differ from annotated + off-panel + filtered + rejected; "
                             "results may be incomplete"))
    if acc.get("rejected"):
        reasons = "; ".join(f"{k} ({v})" for k, v in (acc.get("rejected_reasons") or {}).items())
        alerts.append(_alert("warning", f"{acc['rejected']} record(s) could not be interpreted", reasons))
    disagreements = doc.get("upstream_disagreements") or []
    if disagreements:
        alerts.append(_alert("warning", f"{len(disagreements)} upstream annotation disagreement(s)",
                             "the built-in annotation differs from the VCF's CSQ/ANN; see QC"))
    guarded = [r for r in rows if r.get("rule_id") and not is_claimed(r)]
    if guarded:
        genes = ", ".join(sorted({str(r.get("gene")) for r in guarded}))
        alerts.append(_alert("info", "Variants of uncertain significance",
                             f"{len(guarded)} alteration(s) in {genes} match only at domain or gene "
                             "level: functional significance unknown; consider confirmatory testing. "
                             "They are listed so they are not lost, not claimed to cause resistance"))
    if not any(r.get("rule_id") for r in rows):
        alerts.append(_alert("info", "No resistance marker matched",
                             "no alteration in this sample matched a knowledge-base rule; absence in "
                             "DNA does not exclude resistance (see markers to test next)"))
    if acc.get("filtered"):
        alerts.append(_alert("info", f"{acc['filtered']} record(s) not PASS were excluded",
                             "rerun with --include-filtered to annotate them"))
    return sort_alerts(alerts)
