"""Plain-data views of a panel: JSON-ready dicts and TSV rows.

Every export carries the panel's provenance (name, version, release date,
checksum) so that a copied table can always be traced to its panel.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from annotator.knowledge.model import EvidenceItem, Mechanism, Panel, Rule, Strategy

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
)


def evidence_dict(item: EvidenceItem) -> dict[str, Any]:
    d = asdict(item)
    d["figures"] = list(item.figures)
    d["labelled_figures"] = [{"measure": f.measure, "text": f.text} for f in item.labelled_figures]
    return d


def mechanism_dict(mech: Mechanism) -> dict[str, Any]:
    return {
        "id": mech.id,
        "name": mech.name,
        "category": mech.category,
        "pathway": mech.pathway,
        "effect": mech.effect,
        "description": mech.description,
        "drug_classes": list(mech.drug_classes),
        "evidence_level": mech.evidence_level,
        "evidence": [e.id for e in mech.evidence],
        "sources": list(mech.sources),
    }


def strategy_dict(s: Strategy, *, with_evidence: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": s.id,
        "name": s.name,
        "approach": s.approach,
        "kind": s.kind,
        "rank": s.rank,
        "evidence_level": s.evidence_level,
        "note": s.note,
        "requires_wildtype": list(s.requires_wildtype),
        "sources": list(s.sources),
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


def rule_dict(panel: Panel, rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "gene": rule.gene,
        "match_level": rule.type,
        "matches": rule.spec(),
        "classes": sorted(rule.classes),
        "mechanism": rule.mechanism.id,
        "strategies": [
            {"id": s.id, "rank": s.rank, "evidence_level": s.evidence_level, "note": s.note}
            for s in rule.strategies
        ],
        "evidence_level": rule_level(panel, rule),
        "evidence_level_cap": rule.evidence_level_cap,
        "over_claim_guard": rule.over_claim_guard,
        "uniprot": rule.uniprot,
        "basis": rule.basis,
        "note": rule.note,
    }


def panel_dict(panel: Panel) -> dict[str, Any]:
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
                ";".join(f"{s.rank}:{s.id}:{s.evidence_level}" for s in r.strategies),
                rule_level(panel, r),
                "yes" if r.over_claim_guard else "no",
                _one_line(r.basis),
                _one_line(r.note),
            ]
        )
    return buf.getvalue()


def _one_line(text: str | None) -> str:
    return " ".join(text.split()) if text else ""
