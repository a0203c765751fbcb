"""From transcript consequences to the gene-level ``Alteration`` the panel matches."""

from __future__ import annotations

from annotator.core.models import Alteration, TranscriptConsequence

# Sequence Ontology term -> alteration_class, in VEP's order of severity.
_SO_TO_CLASS: tuple[tuple[str, str], ...] = (
    ("transcript_ablation", "deep_deletion"),
    ("splice_acceptor_variant", "splice_site"),
    ("splice_donor_variant", "splice_site"),
    ("stop_gained", "nonsense"),
    ("frameshift_variant", "frameshift"),
    ("stop_lost", "stop_lost"),
    ("start_lost", "start_lost"),
    ("transcript_amplification", "amplification"),
    ("inframe_insertion", "inframe_insertion"),
    ("inframe_deletion", "inframe_deletion"),
    ("missense_variant", "missense"),
    ("protein_altering_variant", "protein_altering"),
    ("splice_donor_5th_base_variant", "splice_region"),
    ("splice_region_variant", "splice_region"),
    ("splice_donor_region_variant", "splice_region"),
    ("splice_polypyrimidine_tract_variant", "splice_region"),
    ("incomplete_terminal_codon_variant", "protein_altering"),
    ("start_retained_variant", "synonymous"),
    ("stop_retained_variant", "synonymous"),
    ("synonymous_variant", "synonymous"),
    ("coding_sequence_variant", "unclassified"),
    ("gene_variant", "unclassified"),
    ("5_prime_UTR_variant", "noncoding"),
    ("3_prime_UTR_variant", "noncoding"),
    ("non_coding_transcript_exon_variant", "noncoding"),
    ("intron_variant", "noncoding"),
    ("non_coding_transcript_variant", "noncoding"),
    ("upstream_gene_variant", "noncoding"),
    ("downstream_gene_variant", "noncoding"),
    ("intergenic_variant", "intergenic"),
)
_RANK = {term: i for i, (term, _) in enumerate(_SO_TO_CLASS)}
_CLASS = dict(_SO_TO_CLASS)


def classify(consequence: tuple[str, ...]) -> str:
    """The alteration class of the most severe SO term (unknown terms: unclassified)."""
    known = [t for t in consequence if t in _RANK]
    if not known:
        return "unclassified"
    return _CLASS[min(known, key=_RANK.__getitem__)]


def exon_number(exon: str | None) -> int | None:
    if not exon:
        return None
    head = exon.split("/", 1)[0].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def from_consequence(tc: TranscriptConsequence) -> Alteration:
    return Alteration(
        gene=tc.gene,
        alteration_class=classify(tc.consequence),
        consequence=tc.consequence,
        protein_start=tc.protein_start,
        protein_end=tc.protein_end,
        ref_aa=tc.ref_aa,
        alt_aa=tc.alt_aa,
        hgvsp_short=tc.hgvsp_short,
        hgvsc=tc.hgvsc,
        exon=exon_number(tc.exon),
    )
