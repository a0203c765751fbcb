"""Plain-data views of a panel: JSON-ready dicts and TSV rows.

Every export carries the panel's provenance (name, version, release date,
checksum) so that a copied table can always be traced to its panel.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from annotator.core.jsondoc import JsonObject
from annotator.knowledge.model import Claim, EvidenceItem, Mechanism, Panel, Rule, Setting, Strategy

TSV_COLUMNS = (
    "panel_name",
    "panel_version",
    "panel_checksum",
    "rule_id",
    "gene",
    "gene_core",
    "match_level",
    "matches",
    "mechanism_id",
    "mechanism_name",
    "category",
    "drug_classes",
    "strategies_ranked",
    "evidence_level",
    "over_claim_guard",
    "basis",
    "note",
    "significance",
    "claims",
    "strategy_settings",
)


def evidence_dict(item: EvidenceItem) -> JsonObject:
    d = asdict(item)
    d["figures"] = list(item.figures)
    d["labelled_figures"] = [{"measure": f.measure, "text": f.text} for f in item.labelled_figures]
    d["citation"] = citation_text(item)
    return d


def citation_text(item: EvidenceItem) -> str:
    """A proper reference: the primary publication(s) where known, then the seed's citation."""
    pubs = "; ".join(p.text() for p in item.publications)
    if item.beyond_seeds:
        return f"{pubs} [beyond the seeds]" if pubs else "beyond the seeds"
    if pubs:
        return f"{pubs}; figures as reported in {item.reference}"
    return item.reference


def setting_dict(st: Setting) -> JsonObject:
    return {
        "label": st.label,
        "evidence_level": st.evidence_level,
        "line": st.line,
        "prior_cdk46": st.prior_cdk46,
        "endocrine_partner": st.endocrine_partner,
        "requires_prior": list(st.requires_prior),
        "excludes_prior": list(st.excludes_prior),
        "evidence": list(st.evidence),
    }


def mechanism_dict(mech: Mechanism) -> JsonObject:
    return {
        "id": mech.id,
        "name": mech.name,
        "category": mech.category,
        "pathway": mech.pathway,
        "effect": mech.effect,
        "description": mech.description,
        "drug_classes": list(mech.drug_classes),
        "claims": [asdict(c) for c in mech.claims],
        "evidence_level": mech.evidence_level,
        "evidence": [e.id for e in mech.evidence],
        "sources": list(mech.sources),
    }


def strategy_dict(s: Strategy, *, with_evidence: bool = False) -> JsonObject:
    d: JsonObject = {
        "id": s.id,
        "name": s.name,
        "approach": s.approach,
        "kind": s.kind,
        "rank": s.rank,
        "evidence_level": s.evidence_level,
        "note": s.note,
        "requires_wildtype": list(s.requires_wildtype),
        "sources": list(s.sources),
        "drug_classes": list(s.drug_classes),
        "settings": [setting_dict(st) for st in s.settings],
        "setting_status": s.setting_status,
    }
    if with_evidence:
        d["evidence"] = [evidence_dict(e) for e in s.evidence]
    else:
        d["evidence"] = [e.id for e in s.evidence]
    return d


def rule_level(panel: Panel, rule: Rule) -> str:
    """The evidence level a match of this rule reports (see matcher)."""
    from annotator.knowledge.matcher import rule_evidence_level

    return rule_evidence_level(panel, rule)


def rule_dict(panel: Panel, rule: Rule) -> JsonObject:
    return {
        "id": rule.id,
        "gene": rule.gene,
        "match_level": rule.type,
        "matches": rule.spec(),
        "classes": sorted(rule.classes),
        "mechanism": rule.mechanism.id,
        "strategies": [
            {"id": s.id, "rank": s.rank, "evidence_level": s.evidence_level, "note": s.note,
             "settings": [setting_dict(st) for st in s.settings]}
            for s in _gated(panel, rule)
        ],
        "significance": rule.significance,
        "claims": [asdict(c) for c in _claims(panel, rule)],
        "evidence_level": rule_level(panel, rule),
        "evidence_level_cap": rule.evidence_level_cap,
        "over_claim_guard": rule.over_claim_guard,
        "uniprot": rule.uniprot,
        "basis": rule.basis,
        "note": rule.note,
    }


def panel_dict(panel: Panel) -> JsonObject:
    return {
        "provenance": {**panel.provenance(), "source_path": str(panel.source_path)},
        "components": [{"name": n, "version": v, "checksum": c} for n, v, c in panel.components],
        "description": panel.description,
        "evidence_levels": [asdict(lv) for lv in panel.evidence_levels],
        "genes": [asdict(g) for g in panel.genes.values()],
        "rules": [rule_dict(panel, r) for r in panel.rules],
        "mechanisms": [mechanism_dict(m) for m in panel.mechanisms.values()],
        "strategies": [strategy_dict(s) for s in panel.strategies.values()],
        "evidence": [evidence_dict(e) for e in panel.evidence.values()],
        "non_dna_markers": [
            {
                "id": m.id,
                "name": m.name,
                "genes": list(m.genes),
                "assay": m.assay,
                "why_not_dna": m.why_not_dna,
                "mechanism": m.mechanism.id if m.mechanism else None,
                "strategies": [s.id for s in m.strategies],
                "sources": list(m.sources),
                "note": m.note,
            }
            for m in panel.non_dna_markers
        ],
        "interactions": [
            {"id": i.id, "kind": i.kind, "mechanisms": list(i.mechanisms),
             "rule_types": list(i.rule_types), "genes": list(i.genes),
             "against_class": i.against_class, "message": i.message,
             "evidence": [e.id for e in i.evidence]}
            for i in panel.interactions
        ],
        "therapy_classes": [
            {"class": c, "drugs": list(names), "part_of": list(parents)}
            for c, (names, parents) in (panel.therapy_classes or {}).items()
        ],
        "sources": [
            {
                "id": s.id,
                "title": s.title,
                "file": s.file,
                "sha256": s.sha256,
                "references": dict(s.references),
            }
            for s in panel.sources.values()
        ],
    }


def rules_tsv(panel: Panel) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow(TSV_COLUMNS)
    for r in panel.rules:
        gene = panel.genes[r.gene]
        writer.writerow(
            [
                panel.name,
                panel.version,
                panel.checksum,
                r.id,
                r.gene,
                "yes" if gene.core else "no",
                r.type,
                r.spec(),
                r.mechanism.id,
                r.mechanism.name,
                r.mechanism.category,
                ";".join(r.mechanism.drug_classes),
                ";".join(f"{s.rank}:{s.id}:{s.evidence_level}" for s in _gated(panel, r)),
                rule_level(panel, r),
                "yes" if r.over_claim_guard else "no",
                _one_line(r.basis),
                _one_line(r.note),
                r.significance,
                "; ".join(c.text() for c in _claims(panel, r)),
                "; ".join(f"{s.id}: {s.setting_text()}" for s in _gated(panel, r) if s.settings),
            ]
        )
    return buf.getvalue()


def _gated(panel: Panel, rule: Rule) -> tuple[Strategy, ...]:
    from annotator.knowledge.matcher import rule_strategies

    return rule_strategies(panel, rule)


def _claims(panel: Panel, rule: Rule) -> tuple[Claim, ...]:
    from annotator.knowledge.matcher import rule_claims

    return rule_claims(panel, rule)


def gene_text(panel: Panel, symbol: str) -> str:
    """``resmark panel show GENE``: rules, hotspots, mechanism, claims, strategies with
    levels and tested settings, and evidence with citations."""
    g = panel.genes[symbol]
    out = [
        f"{symbol}: {g.role}{', core panel' if g.core else ''}"
        + (f", UniProt {g.uniprot}" if g.uniprot else "")
    ]
    if g.why:
        out.append(f"  why: {g.why}")
    cited: dict[str, EvidenceItem] = {}
    for rule in panel.rules_for(symbol):
        guard = " [uncertain significance: reported, not claimed]" if not rule.claimed else ""
        out.append("")
        out.append(f"{rule.id}  {rule.type}: {rule.spec()}  level {rule_level(panel, rule)}"
                   f"  significance {rule.significance}{guard}")
        if rule.type == "hotspot":
            out.append(f"  hotspots: {', '.join(f'{r}{p}{a}' for r, p, a in rule.changes)}")
        if rule.basis:
            out.append(f"  basis: {_one_line(rule.basis)}")
        m = rule.mechanism
        if rule.claimed:
            out.append(f"  mechanism {m.id}: {m.name} ({m.category}; {m.pathway})")
            out.extend(f"  claim: {c.text()}" + (f" ({c.note})" if c.note else "")
                       for c in _claims(panel, rule))
        if rule.note:
            out.append(f"  note: {_one_line(rule.note)}")
        for s in _gated(panel, rule):
            kind = "avoid" if s.kind == "avoid" else "treat"
            out.append(f"  {s.rank}. [{s.evidence_level}] {s.name} ({s.id}, {kind})")
            if s.level_before_gating:
                out.append(f"     level limited from {s.level_before_gating}: the match supports no more")
            if s.note:
                out.append(f"     note: {_one_line(s.note)}")
            out.extend(f"     setting [{st.evidence_level}]: {st.label}" for st in s.settings)
            for e in s.evidence:
                cited[e.id] = e
                figs = "; ".join(e.figures) if e.figures else "no figures"
                out.append(f"     - {e.study} ({e.id}): {figs}")
        for e in m.evidence if rule.claimed else ():
            cited.setdefault(e.id, e)
    markers = [nd for nd in panel.non_dna_markers if symbol in nd.genes]
    out.extend(f"\nnot visible in variant calls: {nd.name} ({nd.assay}) [{nd.id}]" for nd in markers)
    inters = [i for i in panel.interactions
              if symbol in i.genes or any(r.mechanism.id in i.mechanisms for r in panel.rules_for(symbol))]
    if inters:
        out.append("\nconflicts and caveats:")
        out.extend(f"  {i.id} ({i.kind}) against {i.against_class}: {i.message}" for i in inters)
    if cited:
        out.append("\nevidence and citations:")
        for e in cited.values():
            ident = f" {e.identifier}" if e.identifier else ""
            phase = ""
            if e.phase:
                descriptive = e.phase in ("preclinical", "observational", "approval", "guideline")
                phase = f" ({e.phase})" if descriptive else f" phase {e.phase}"
            out.append(f"  {e.id}: {e.study}{ident}{phase}. {e.population}")
            out.append(f"     cite: {citation_text(e)}")
    return "\n".join(out) + "\n"


def _one_line(text: str | None) -> str:
    return " ".join(text.split()) if text else ""
