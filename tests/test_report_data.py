"""Builders of hand-made report inputs shared by the report/MAF/VCF/browser tests.

No tests here: ``make_row`` makes one output row, ``demo_document`` a sample
JSON document whose matches come from the built-in panel (or, when a
``hostile`` text is given, carry it in every input-derived field).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from annotator.core.models import Alteration
from annotator.core.rows import Row
from annotator.knowledge import compute_flags, match_alteration

HOSTILE = "<script>alert('x')</script>"

_ROW_DEFAULTS: dict[str, Any] = dict(
    sample="S1", chrom="chr3", pos=179234297, id=".", ref="A", alt="G", gene="PIK3CA",
    transcript="NM_006218.4", consequence="missense_variant", hgvsc="c.3140A>G",
    hgvsp="p.His1047Arg", hgvsp_short="p.H1047R", exon="21/21", filter="PASS", vaf=0.311,
    depth=450, alt_count=140, alteration_class="missense", rule_id=None, mechanism=None,
    mechanism_category=None, strategies=None, evidence_level=None,
    variant_key="chr3:179234297:A>G", build="GRCh38", input_chrom="chr3", input_pos=179234297,
    input_ref="A", input_alt="G", record_index=0, allele_index=1, qual=None,
    support_source="FORMAT:AD/DP", intron=None, protein_start=1047, impact="MODERATE",
    annotation_source="builtin", upstream_disagreement=None, left_aligned=True,
    match_level=None, rule_ids=None, mechanism_id=None, pathway=None, drug_classes=None,
    over_claim_guard=False, flags=None,
)


def make_row(**kw: Any) -> Row:
    return Row(**{**_ROW_DEFAULTS, **kw})


# (gene, class, position, ref aa, alt aa, hgvsp_short, hgvsc, transcript, chrom, pos, ref, alt, vaf, depth)
DEMO_ALTERATIONS = (
    ("PIK3CA", "missense", 1047, "H", "R", "p.H1047R", "c.3140A>G", "NM_006218.4", "chr3",
     179234297, "A", "G", 0.311, 450),
    ("ESR1", "missense", 537, "Y", "S", "p.Y537S", "c.1610A>C", "NM_000125.4", "chr6",
     152098788, "A", "C", 0.083, 458),
    ("ESR1", "missense", 538, "D", "G", "p.D538G", "c.1613A>G", "NM_000125.4", "chr6",
     152098791, "A", "G", 0.044, 434),
    ("TP53", "missense", 248, "R", "Q", "p.R248Q", "c.743G>A", "NM_000546.6", "chr17",
     7674220, "C", "T", 0.284, 335),
    ("FAT1", "missense", 100, "A", "T", "p.A100T", "c.298G>A", "NM_005245.4", "chr4",
     186709000, "C", "T", 0.12, 300),
)


def demo_sample(sample: str = "PT-017 plasma T1", hostile: str | None = None) -> tuple[Any, Any, Any]:
    """(SampleAnnotation, Provenance, panel) built from the real panel's matches."""
    from types import SimpleNamespace

    from annotator.annotation.pipeline import SampleAnnotation
    from annotator.core import genome
    from annotator.core.accounting import Accounting
    from annotator.core.provenance import InputFile, Provenance
    from annotator.knowledge import load_panel

    panel = load_panel()
    rows: list[Row] = []
    alterations = []
    for i, (gene, cls, p, ra, aa, hp, hc, tx, chrom, pos, ref, alt, vaf, depth) in enumerate(DEMO_ALTERATIONS):
        a = Alteration(gene=gene, alteration_class=cls, consequence=("missense_variant",),
                       protein_start=p, protein_end=p, ref_aa=ra, alt_aa=aa, hgvsp_short=hp, hgvsc=hc)
        matches = tuple(match_alteration(panel, a))
        top = matches[0] if matches else None
        key = f"{chrom}:{pos}:{ref}>{alt}"
        alterations.append((key, a, matches))
        rows.append(make_row(
            sample=sample, chrom=chrom, pos=pos, ref=ref, alt=alt, gene=gene, transcript=tx,
            hgvsc=hc, hgvsp_short=hp, hgvsp=None, vaf=vaf, depth=depth,
            alt_count=round(vaf * depth), variant_key=key, input_chrom=chrom, input_pos=pos,
            input_ref=ref, input_alt=alt, record_index=i, protein_start=p,
            id=hostile or ".",
            upstream_disagreement=hostile,
            rule_id=top.rule_id if top else None,
            mechanism=top.mechanism.name if top else None,
            mechanism_category=top.mechanism.category if top else None,
            strategies="; ".join(s.name for s in top.strategies) if top else None,
            evidence_level=top.evidence_level if top else None,
            match_level=top.match_level if top else None,
            mechanism_id=top.mechanism.id if top else None,
            over_claim_guard=bool(top.over_claim_guard) if top else False,
        ))
    flags = tuple(compute_flags(panel, alterations))
    acc = Accounting()
    for _ in rows:
        acc.add_record("annotated")
    acc.add_record("off_panel")
    acc.add_record("filtered", "weak_evidence", "record 7 (chr3:1)")
    acc.add_record("rejected", "ALT * (allele missing due to an overlapping deletion)", "record 8 (chr6:5)")
    acc.matched = sum(1 for r in rows if r.rule_id)
    acc.listed = len(rows)
    header = SimpleNamespace(tumour_reason=hostile or "only sample in the file", index_path=None)
    path = f"/data/{hostile or 'pt017'}.vcf.gz"
    sa = SampleAnnotation(
        sample=sample, path=path, build=genome.GRCH38, header=header,  # type: ignore[arg-type]
        rows=rows, accounting=acc, flags=flags,
        disagreements=[f"chr3:179234297:A>G: gene PIK3CA vs {hostile}"] if hostile else [],
        alterations=alterations,
    )
    prov = Provenance(
        command=f"resmark annotate {path} -o out" + (f" --sample {hostile}" if hostile else ""),
        panel_name=panel.name, panel_version=panel.version,
        panel_release_date=str(panel.release_date), panel_checksum=panel.checksum,
        build="GRCh38", samples=(sample,),
        inputs=(InputFile("vcf", path, "0" * 64),),
    )
    return sa, prov, panel


def with_flags(row: Row, flags: str) -> Row:
    return replace(row, flags=flags)
