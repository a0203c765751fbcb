"""Domain values shared by every stage: frozen, slotted, cheap to create.

Coordinates in these objects are 1-based and inclusive, VCF style, unless a
field name says ``0``/``start0``; chromosome names are canonical (see
``annotator.core.chromnames``).  ``annotator.core.coords`` owns conversions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NewType

SampleId = NewType("SampleId", str)
GeneSymbol = NewType("GeneSymbol", str)
Timepoint = NewType("Timepoint", str)

# alteration_class vocabulary (the `alteration_class` output column).
SMALL_VARIANT_CLASSES = (
    "missense",
    "nonsense",
    "frameshift",
    "inframe_insertion",
    "inframe_deletion",
    "protein_altering",
    "splice_site",
    "splice_region",
    "start_lost",
    "stop_lost",
    "synonymous",
    "noncoding",
    "intergenic",
    "unclassified",  # in a panel gene, but no transcript model or annotation says more
)
CNV_SV_CLASSES = (
    "amplification",
    "gain",
    "loss",
    "deep_deletion",
    "fusion",
    "rearrangement",
)
ALTERATION_CLASSES = SMALL_VARIANT_CLASSES + CNV_SV_CLASSES
LOSS_OF_FUNCTION_CLASSES = frozenset(
    {"nonsense", "frameshift", "splice_site", "start_lost", "deep_deletion"}
)


@dataclass(frozen=True, slots=True)
class VariantKey:
    """Identity of a normalised (split, trimmed, left-aligned) allele."""

    chrom: str
    pos: int
    ref: str
    alt: str

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"


@dataclass(frozen=True, slots=True)
class ReadSupport:
    """Tumour read support for one ALT allele; None means the caller did not say."""

    vaf: float | None = None
    depth: int | None = None
    alt_count: int | None = None
    source: str | None = None  # e.g. "FORMAT:AD/DP", "Strelka2:TIR/TAR", "INFO:TVAF/TDP"
    ref_count: int | None = None  # reads for REF as the caller counted them (AD[0], RO, RD, TAR)
    fields: str | None = None  # which field gave which value: "alt=FORMAT/AO; depth=FORMAT/DP; ..."
    # does the chosen sample carry this ALT (alt reads > 0, else its GT)?  None: cannot tell
    carried: bool | None = None
    carried_by: str | None = None  # another sample that carries it when this one does not
    normal: ReadSupport | None = None  # the matched normal's support for the same allele


@dataclass(frozen=True, slots=True)
class Variant:
    """One ALT allele of one input record after splitting and normalisation."""

    key: VariantKey
    record_index: int  # 0-based position of the input record in the file
    input_chrom: str  # as written in the file
    input_pos: int
    input_ref: str
    input_alt: str
    id: str  # the input ID column unchanged ("." when missing)
    filters: tuple[str, ...]  # () or ("PASS",) when passing
    qual: float | None
    allele_index: int  # 1-based ALT index in the input record
    n_alleles: int  # number of ALT alleles in the input record
    support: ReadSupport = field(default_factory=ReadSupport)
    info: tuple[tuple[str, str], ...] = ()  # selected INFO fields (upstream CSQ/ANN text)

    @property
    def passed(self) -> bool:
        return not self.filters or self.filters == ("PASS",) or self.filters == (".",)


@dataclass(frozen=True, slots=True)
class TranscriptConsequence:
    """Effect of one allele on one transcript (built-in engine or upstream)."""

    gene: str
    transcript: str | None  # versioned RefSeq (NM_006218.4) or Ensembl id
    consequence: tuple[str, ...]  # Sequence Ontology terms as VEP spells them, most severe first
    impact: str = "MODIFIER"  # HIGH / MODERATE / LOW / MODIFIER
    hgvsc: str | None = None  # "c.3140A>G" (no transcript prefix)
    hgvsp: str | None = None  # "p.His1047Arg"
    hgvsp_short: str | None = None  # "p.H1047R"
    exon: str | None = None  # "21/21"
    intron: str | None = None  # "5/20"
    cds_position: int | None = None
    protein_start: int | None = None
    protein_end: int | None = None
    ref_aa: str | None = None  # 1-letter, "*" for stop; several letters for multi-residue
    alt_aa: str | None = None
    transcript_ensembl: str | None = None
    source: str = "builtin"  # builtin | builtin-coordinates | vep | snpeff | snpeff-eff | bcsq
    canonical: bool = True


@dataclass(frozen=True, slots=True)
class Alteration:
    """What the knowledge base matches against: a gene-level description."""

    gene: str
    alteration_class: str  # one of ALTERATION_CLASSES
    consequence: tuple[str, ...] = ()
    protein_start: int | None = None
    protein_end: int | None = None
    ref_aa: str | None = None
    alt_aa: str | None = None
    hgvsp_short: str | None = None
    hgvsc: str | None = None
    exon: int | None = None
    partner_gene: str | None = None  # fusions
    copy_number: float | None = None
    kinase_domain_retained: bool | None = None  # fusions

    @property
    def is_loss_of_function(self) -> bool:
        return self.alteration_class in LOSS_OF_FUNCTION_CLASSES
