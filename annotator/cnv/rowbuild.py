"""Output rows for copy-number and structural-variant calls.

The rule columns come from ``annotator.core.rows.match_columns``, the same
function small-variant rows use.
"""

from __future__ import annotations

from collections.abc import Sequence

from annotator.core.rows import Row, match_columns
from annotator.knowledge.model import RuleMatch

# Sequence Ontology terms for the consequence column
CN_TERMS = {
    "amplification": "transcript_amplification",
    "gain": "copy_number_gain",
    "loss": "copy_number_loss",
    "deep_deletion": "transcript_ablation",
}
SV_TERMS = {
    "fusion": "gene_fusion",
    "rearrangement": "structural_variant",
    "amplification": "transcript_amplification",
    "gain": "copy_number_gain",
    "loss": "copy_number_loss",
    "deep_deletion": "transcript_ablation",
}


def make_row(
    *,
    sample: str,
    build: str,
    chrom: str,
    pos: int,
    gene: str | None,
    alteration_class: str | None,
    variant_key: str,
    matches: Sequence[RuleMatch],
    annotation_source: str,
    id: str = ".",
    ref: str = "N",
    alt: str = ".",
    transcript: str | None = None,
    consequence: str | None = None,
    exon: str | None = None,
    intron: str | None = None,
    filter: str = "PASS",
    vaf: float | None = None,
    depth: int | None = None,
    alt_count: int | None = None,
    support_source: str | None = None,
    input_chrom: str | None = None,
    input_pos: int | None = None,
    input_ref: str = ".",
    input_alt: str | None = None,
    record_index: int = -1,
    allele_index: int = 0,
    qual: float | None = None,
    flags: str | None = None,
    copy_number: float | None = None,
    log2: float | None = None,
    segment: str | None = None,
    partner_gene: str | None = None,
    breakpoint: str | None = None,
    sv_type: str | None = None,
) -> Row:
    return Row(
        sample=sample,
        chrom=chrom,
        pos=pos,
        id=id,
        ref=ref,
        alt=alt,
        gene=gene,
        transcript=transcript,
        consequence=consequence,
        hgvsc=None,
        hgvsp=None,
        hgvsp_short=None,
        exon=exon,
        filter=filter,
        vaf=vaf,
        depth=depth,
        alt_count=alt_count,
        alteration_class=alteration_class,
        variant_key=variant_key,
        build=build,
        input_chrom=input_chrom if input_chrom is not None else chrom,
        input_pos=input_pos if input_pos is not None else pos,
        input_ref=input_ref,
        input_alt=input_alt if input_alt is not None else alt,
        record_index=record_index,
        allele_index=allele_index,
        qual=qual,
        support_source=support_source,
        intron=intron,
        protein_start=None,
        impact=None,
        annotation_source=annotation_source,
        upstream_disagreement=None,
        left_aligned=False,
        flags=flags,
        copy_number=None if copy_number is None else round(copy_number, 3),
        log2=None if log2 is None else round(log2, 4),
        segment=segment,
        partner_gene=partner_gene,
        breakpoint=breakpoint,
        sv_type=sv_type,
        **match_columns(matches),
    )
