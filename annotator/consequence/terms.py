"""Sequence Ontology consequence terms as VEP names and ranks them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

# VEP's order, most severe first (Ensembl "Calculated variant consequences").
SEVERITY: tuple[str, ...] = (
    "transcript_ablation",
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "transcript_amplification",
    "feature_elongation",
    "feature_truncation",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "protein_altering_variant",
    "splice_donor_5th_base_variant",
    "splice_region_variant",
    "splice_donor_region_variant",
    "splice_polypyrimidine_tract_variant",
    "incomplete_terminal_codon_variant",
    "start_retained_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "mature_miRNA_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "NMD_transcript_variant",
    "non_coding_transcript_variant",
    "coding_transcript_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
    "TFBS_ablation",
    "TFBS_amplification",
    "TF_binding_site_variant",
    "regulatory_region_ablation",
    "regulatory_region_amplification",
    "regulatory_region_variant",
    "intergenic_variant",
    "sequence_variant",
)
RANK: Mapping[str, int] = MappingProxyType({t: i for i, t in enumerate(SEVERITY)})

_HIGH = frozenset(SEVERITY[:8])
_MODERATE = frozenset(
    {"inframe_insertion", "inframe_deletion", "missense_variant", "protein_altering_variant",
     "feature_elongation", "feature_truncation"}
)
_LOW = frozenset(
    {"splice_donor_5th_base_variant", "splice_region_variant", "splice_donor_region_variant",
     "splice_polypyrimidine_tract_variant", "incomplete_terminal_codon_variant",
     "start_retained_variant", "stop_retained_variant", "synonymous_variant"}
)


def rank(term: str) -> int:
    return RANK.get(term, len(SEVERITY))


def order(terms: Iterable[str]) -> tuple[str, ...]:
    """Unique terms, most severe first."""
    return tuple(sorted(set(terms), key=rank))


def impact(terms: Iterable[str]) -> str:
    best = "MODIFIER"
    for t in terms:
        if t in _HIGH:
            return "HIGH"
        if t in _MODERATE:
            best = "MODERATE"
        elif t in _LOW and best == "MODIFIER":
            best = "LOW"
    return best
