"""MAF output: the vcf2maf (MAF 2.4) column set that cBioPortal imports.

Conventions follow mskcc/vcf2maf:

* Start_Position/End_Position are 1-based inclusive; an indel loses its
  shared padding base: a deletion's Reference_Allele is the deleted bases and
  Tumor_Seq_Allele2 is ``-``; an insertion has Reference_Allele ``-``, Start
  the base before and End the base after the insertion.
* Variant_Type: SNP/DNP/TNP/ONP for equal lengths, else INS or DEL.
* Variant_Classification from the most severe Sequence Ontology term, with
  vcf2maf's priorities and mapping (``classify``).

resmark writes the normalised allele (trimmed, left-aligned: the row's
``chrom/pos/ref/alt``), so an untrimmed complex input allele can differ from
vcf2maf, which only removes the first base.  Only small variants are written
to the MAF; copy-number and structural rows go to cBioPortal's separate
files next to it (``write_cna``, ``write_sv``) and are counted in a comment
line.  ``t_ref_count`` is the caller's REF count (AD[0], RO, RD, TAR, ...;
empty when the caller wrote none), never ``t_depth - t_alt_count``; the
``n_*`` columns and ``Matched_Norm_Sample_Barcode`` come from the matched
normal's column when the VCF names one (``##normal_sample`` and the other
hints of ``annotator.io.samplehints``).  ``Entrez_Gene_Id`` is the NCBI Gene
ID of the MANE v1.5 summary (embedded ``gene_ids.tsv``; 0 for a symbol
without one, as vcf2maf writes).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from annotator.core import chromnames
from annotator.core.genome import GenomeBuild
from annotator.core.models import CNV_SV_CLASSES
from annotator.core.provenance import Provenance
from annotator.core.rows import Row
from annotator.errors import OutputError

log = logging.getLogger(__name__)

MAF_VERSION = "#version 2.4"
VCF2MAF_COLUMNS = (
    "Hugo_Symbol", "Entrez_Gene_Id", "Center", "NCBI_Build", "Chromosome", "Start_Position",
    "End_Position", "Strand", "Variant_Classification", "Variant_Type", "Reference_Allele",
    "Tumor_Seq_Allele1", "Tumor_Seq_Allele2", "dbSNP_RS", "dbSNP_Val_Status",
    "Tumor_Sample_Barcode", "Matched_Norm_Sample_Barcode", "Match_Norm_Seq_Allele1",
    "Match_Norm_Seq_Allele2", "Tumor_Validation_Allele1", "Tumor_Validation_Allele2",
    "Match_Norm_Validation_Allele1", "Match_Norm_Validation_Allele2", "Verification_Status",
    "Validation_Status", "Mutation_Status", "Sequencing_Phase", "Sequence_Source",
    "Validation_Method", "Score", "BAM_File", "Sequencer", "Tumor_Sample_UUID",
    "Matched_Norm_Sample_UUID", "HGVSc", "HGVSp", "HGVSp_Short", "Transcript_ID", "Exon_Number",
    "t_depth", "t_ref_count", "t_alt_count", "n_depth", "n_ref_count", "n_alt_count",
    "all_effects",
)
EXTRA_COLUMNS = (
    "Consequence", "IMPACT", "RefSeq", "FILTER", "vcf_id", "vcf_qual", "vcf_pos",
    "t_vaf", "resmark_support_source", "resmark_alteration_class", "resmark_rule_id",
    "resmark_match_level", "resmark_mechanism", "resmark_mechanism_category",
    "resmark_strategies", "resmark_evidence_level", "resmark_flags", "resmark_variant_key",
)
COLUMNS = VCF2MAF_COLUMNS + EXTRA_COLUMNS

# vcf2maf's GetEffectPriority: lower is more severe.
EFFECT_PRIORITY: Mapping[str, int] = {
    "transcript_ablation": 1, "exon_loss_variant": 1,
    "splice_donor_variant": 2, "splice_acceptor_variant": 2,
    "stop_gained": 3, "frameshift_variant": 3, "stop_lost": 3,
    "start_lost": 4, "initiator_codon_variant": 4,
    "disruptive_inframe_insertion": 5, "disruptive_inframe_deletion": 5,
    "conservative_inframe_insertion": 5, "conservative_inframe_deletion": 5,
    "inframe_insertion": 5, "inframe_deletion": 5, "protein_altering_variant": 5,
    "missense_variant": 6, "conservative_missense_variant": 6, "rare_amino_acid_variant": 6,
    "transcript_amplification": 7,
    "splice_region_variant": 8, "splice_donor_5th_base_variant": 8,
    "splice_donor_region_variant": 8, "splice_polypyrimidine_tract_variant": 8,
    "start_retained_variant": 9, "stop_retained_variant": 9, "synonymous_variant": 9,
    "incomplete_terminal_codon_variant": 10,
    "coding_sequence_variant": 11, "mature_miRNA_variant": 11, "exon_variant": 11,
    "5_prime_UTR_variant": 12, "5_prime_UTR_premature_start_codon_gain_variant": 12,
    "3_prime_UTR_variant": 12,
    "non_coding_exon_variant": 13, "non_coding_transcript_exon_variant": 13,
    "non_coding_transcript_variant": 14, "nc_transcript_variant": 14, "intron_variant": 14,
    "intragenic_variant": 14, "INTRAGENIC": 14,
    "NMD_transcript_variant": 15,
    "upstream_gene_variant": 16, "downstream_gene_variant": 16,
    "TFBS_ablation": 17, "TFBS_amplification": 17, "TF_binding_site_variant": 17,
    "regulatory_region_ablation": 17, "regulatory_region_amplification": 17,
    "regulatory_region_variant": 17, "regulatory_region": 17,
    "feature_elongation": 18, "feature_truncation": 18,
    "intergenic_variant": 19, "intergenic_region": 19,
}
_UNKNOWN_PRIORITY = 20
_SPLICE_SITE = frozenset({"splice_acceptor_variant", "splice_donor_variant", "transcript_ablation",
                          "exon_loss_variant"})
_SPLICE_REGION = frozenset({"splice_region_variant", "splice_donor_5th_base_variant",
                            "splice_donor_region_variant", "splice_polypyrimidine_tract_variant"})
_SIMPLE_MAP: Mapping[str, str] = {
    "stop_gained": "Nonsense_Mutation", "stop_lost": "Nonstop_Mutation",
    "initiator_codon_variant": "Translation_Start_Site", "start_lost": "Translation_Start_Site",
    "inframe_insertion": "In_Frame_Ins", "disruptive_inframe_insertion": "In_Frame_Ins",
    "conservative_inframe_insertion": "In_Frame_Ins",
    "inframe_deletion": "In_Frame_Del", "disruptive_inframe_deletion": "In_Frame_Del",
    "conservative_inframe_deletion": "In_Frame_Del",
    "missense_variant": "Missense_Mutation", "coding_sequence_variant": "Missense_Mutation",
    "conservative_missense_variant": "Missense_Mutation",
    "rare_amino_acid_variant": "Missense_Mutation",
    "transcript_amplification": "Intron", "intron_variant": "Intron", "INTRAGENIC": "Intron",
    "intragenic_variant": "Intron",
    "incomplete_terminal_codon_variant": "Silent", "synonymous_variant": "Silent",
    "stop_retained_variant": "Silent", "start_retained_variant": "Silent",
    "NMD_transcript_variant": "Silent",
    "mature_miRNA_variant": "RNA", "exon_variant": "RNA", "non_coding_exon_variant": "RNA",
    "non_coding_transcript_exon_variant": "RNA", "non_coding_transcript_variant": "RNA",
    "nc_transcript_variant": "RNA",
    "5_prime_UTR_variant": "5'UTR", "5_prime_UTR_premature_start_codon_gain_variant": "5'UTR",
    "3_prime_UTR_variant": "3'UTR",
    "TF_binding_site_variant": "IGR", "regulatory_region_variant": "IGR",
    "regulatory_region": "IGR", "intergenic_variant": "IGR", "intergenic_region": "IGR",
    "upstream_gene_variant": "5'Flank", "downstream_gene_variant": "3'Flank",
}


@dataclass(frozen=True, slots=True)
class MafAlleles:
    start: int
    end: int
    ref: str
    alt: str
    variant_type: str


def maf_alleles(pos: int, ref: str, alt: str) -> MafAlleles:
    """VCF-style (pos, REF, ALT) -> MAF coordinates, alleles and Variant_Type."""
    ref, alt = ref.upper(), alt.upper()
    if len(ref) == len(alt):
        n = len(ref)
        vtype = {1: "SNP", 2: "DNP", 3: "TNP"}.get(n, "ONP")
        return MafAlleles(pos, pos + n - 1, ref, alt, vtype)
    if ref and alt and ref[0] == alt[0]:
        ref, alt, anchor = ref[1:], alt[1:], pos
        if not ref:
            return MafAlleles(anchor, anchor + 1, "-", alt, "INS")
        if not alt:
            return MafAlleles(anchor + 1, anchor + len(ref), ref, "-", "DEL")
        start = anchor + 1
    else:
        start = pos
    vtype = "INS" if len(alt) > len(ref) else "DEL"
    return MafAlleles(start, start + len(ref) - 1, ref, alt, vtype)


def most_severe(terms: Iterable[str]) -> str:
    """The most severe SO term as vcf2maf ranks them ('intergenic_variant' for none)."""
    items = [t.strip() for t in terms if t and t.strip()]
    if not items:
        return "intergenic_variant"
    return min(items, key=lambda t: EFFECT_PRIORITY.get(t, _UNKNOWN_PRIORITY))


def classify(terms: Iterable[str], variant_type: str, inframe: bool | None = None) -> str:
    """vcf2maf's GetVariantClassification for the most severe of ``terms``."""
    effect = most_severe(terms)
    if effect in _SPLICE_SITE:
        return "Splice_Site"
    if effect == "protein_altering_variant" and variant_type in ("INS", "DEL"):
        if inframe:
            return "In_Frame_Ins" if variant_type == "INS" else "In_Frame_Del"
        return "Frame_Shift_Ins" if variant_type == "INS" else "Frame_Shift_Del"
    if effect == "protein_altering_variant":
        return "Missense_Mutation"
    if effect == "frameshift_variant":
        if variant_type == "DEL":
            return "Frame_Shift_Del"
        if variant_type == "INS":
            return "Frame_Shift_Ins"
        return "Targeted_Region"
    if effect in _SPLICE_REGION:
        return "Splice_Region"
    return _SIMPLE_MAP.get(effect, "Targeted_Region")


def _is_inframe(a: MafAlleles) -> bool:
    lr = 0 if a.ref == "-" else len(a.ref)
    la = 0 if a.alt == "-" else len(a.alt)
    return abs(lr - la) % 3 == 0


_CPOS = re.compile(r"^c\.(-?\d+)")


def splice_hgvsp_short(hgvsc: str | None) -> str | None:
    """vcf2maf's ``p.X<n>_splice`` label for splice-site variants."""
    m = _CPOS.match(hgvsc or "")
    if not m:
        return None
    c_pos = max(1, int(m.group(1)))
    p_pos = int(round((c_pos + c_pos % 3) / 3 + 1e-9))
    return f"p.X{p_pos}_splice"


def is_small_variant(row: Row) -> bool:
    if row.sv_type or row.copy_number is not None or row.alteration_class in CNV_SV_CLASSES:
        return False
    return bool(row.ref) and bool(row.alt) and set(row.ref + row.alt) <= set("ACGTNacgtn")


def maf_record(
    row: Row, *, build: str, ensembl_ids: Mapping[str, str] | None = None, chrom_style: str | None = None,
    entrez_ids: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """One MAF line (column -> text) for a small-variant row."""
    a = maf_alleles(row.pos, row.ref, row.alt)
    terms = (row.consequence or "").split("&") if row.consequence else []
    vclass = classify(terms, a.variant_type, _is_inframe(a)) if terms else (
        "IGR" if not row.gene else "Targeted_Region")
    style = chrom_style or chromnames.style_of(row.input_chrom)
    chrom = chromnames.to_style(row.chrom, style if style in ("ucsc", "ensembl") else "ensembl")
    transcript = row.transcript or ""
    ensembl = (row.transcript_ensembl or "").split(".")[0]
    if ensembl:
        pass
    elif transcript.startswith("ENST"):
        ensembl = transcript.split(".")[0]
    elif ensembl_ids and transcript:
        ensembl = ensembl_ids.get(transcript.split(".")[0], "")
    hgvsp_short = row.hgvsp_short or ""
    if not hgvsp_short and most_severe(terms) in ("splice_acceptor_variant", "splice_donor_variant"):
        hgvsp_short = splice_hgvsp_short(row.hgvsc) or ""
    out = dict.fromkeys(COLUMNS, "")
    out.update({
        "Hugo_Symbol": row.gene or "Unknown",
        "Entrez_Gene_Id": (entrez_ids or {}).get(row.gene or "", "0"),
        "Center": ".",
        "NCBI_Build": build,
        "Chromosome": chrom,
        "Start_Position": str(a.start),
        "End_Position": str(a.end),
        "Strand": "+",
        "Variant_Classification": vclass,
        "Variant_Type": a.variant_type,
        "Reference_Allele": a.ref,
        "Tumor_Seq_Allele1": a.ref,
        "Tumor_Seq_Allele2": a.alt,
        "dbSNP_RS": ",".join(x for x in row.id.split(";") if re.fullmatch(r"rs\d+", x)),
        "Tumor_Sample_Barcode": row.sample,
        "Match_Norm_Seq_Allele1": a.ref,
        "Match_Norm_Seq_Allele2": a.ref,
        "HGVSc": row.hgvsc or "",
        "HGVSp": row.hgvsp or "",
        "HGVSp_Short": hgvsp_short,
        "Transcript_ID": ensembl or transcript,
        "Exon_Number": row.exon or "",
        "t_depth": "" if row.depth is None else str(row.depth),
        "t_ref_count": _count(row.ref_count),
        "t_alt_count": _count(row.alt_count),
        "Matched_Norm_Sample_Barcode": row.normal_sample or "",
        "n_depth": _count(row.normal_depth),
        "n_ref_count": _count(row.normal_ref_count),
        "n_alt_count": _count(row.normal_alt_count),
        "Consequence": ",".join(terms),
        "IMPACT": row.impact or "",
        "RefSeq": transcript if transcript.startswith(("NM_", "NR_", "XM_")) else "",
        "FILTER": row.filter,
        "vcf_id": row.id,
        "vcf_qual": "" if row.qual is None else f"{row.qual:g}",
        "vcf_pos": str(row.input_pos),
        "t_vaf": "" if row.vaf is None else f"{row.vaf:.6g}",
        "resmark_support_source": row.support_source or "",
        "resmark_alteration_class": row.alteration_class or "",
        "resmark_rule_id": row.rule_id or "",
        "resmark_match_level": row.match_level or "",
        "resmark_mechanism": row.mechanism or "",
        "resmark_mechanism_category": row.mechanism_category or "",
        "resmark_strategies": row.strategies or "",
        "resmark_evidence_level": row.evidence_level or "",
        "resmark_flags": row.flags or "",
        "resmark_variant_key": row.variant_key,
    })
    return {k: _clean(v) for k, v in out.items()}


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def entrez_map() -> dict[str, str]:
    """Gene symbol -> NCBI Gene ID (MANE v1.5 summary, embedded by scripts/build_reference.py)."""
    from importlib import resources

    try:
        text = (resources.files("annotator") / "data" / "reference" / "gene_ids.tsv").read_text()
    except (OSError, FileNotFoundError) as e:  # MAF still useful with Entrez_Gene_Id 0
        log.warning("no embedded gene id table (%s); Entrez_Gene_Id is 0", e)
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            gene, _, entrez = line.partition("\t")
            out.setdefault(gene, entrez)
    return out


def _clean(value: str) -> str:
    # a tab or newline inside a value would shift every later column
    return " ".join(value.split()) if any(c in value for c in "\t\r\n") else value


def ensembl_map(build: str) -> dict[str, str]:
    """Unversioned RefSeq -> unversioned Ensembl id of the embedded MANE transcripts."""
    try:
        from annotator.reference import load_reference

        ref = load_reference(build)
    except Exception as e:  # noqa: BLE001 - MAF still useful with RefSeq ids only
        log.debug("no transcript id map for %s (%s)", build, e)
        return {}
    out: dict[str, str] = {}
    for t in ref.transcripts.values():
        if getattr(t, "refseq", None) and getattr(t, "ensembl", None):
            out[t.refseq.split(".")[0]] = t.ensembl.split(".")[0]
    return out


def write_rows(
    path: str | Path,
    rows: Sequence[Row],
    *,
    build: str,
    header_lines: Sequence[str] = (),
) -> int:
    """Write a MAF; returns the number of variant lines written."""
    small = [r for r in rows if is_small_variant(r)]
    skipped = len(rows) - len(small)
    ids = ensembl_map(build) if any(r.transcript and not r.transcript.startswith("ENST")
                                    for r in small) else {}
    entrez = entrez_map() if small else {}
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(MAF_VERSION + "\n")
            for line in header_lines:
                fh.write("#" + " ".join(str(line).split()) + "\n")
            if skipped:
                fh.write(f"#resmark_not_in_maf={skipped} copy-number/structural row(s); "
                         "see the data_cna/data_sv files and the TSV/JSON outputs\n")
            fh.write("\t".join(COLUMNS) + "\n")
            for r in small:
                rec = maf_record(r, build=build, ensembl_ids=ids, entrez_ids=entrez)
                fh.write("\t".join(rec[c] for c in COLUMNS) + "\n")
    except OSError as e:
        raise OutputError(f"cannot write MAF ({e.strerror})", path=path) from e
    return len(small)


class AnnotatedSample(Protocol):
    """What ``write`` reads of an annotated sample (annotation.pipeline.SampleAnnotation)."""

    @property
    def sample(self) -> str: ...
    @property
    def build(self) -> GenomeBuild: ...
    @property
    def rows(self) -> Sequence[Row]: ...


def write(path: str | Path, sample_annotation: AnnotatedSample, provenance: Provenance) -> int:
    """Write ``<sample>.resmark.maf`` for one annotated sample (called by ``outputs``), and
    cBioPortal's ``<sample>.resmark.data_cna.txt`` / ``data_sv.txt`` when it has such calls."""
    from annotator.io import cbioportal

    lines = provenance.header_lines() if hasattr(provenance, "header_lines") else []
    rows = sample_annotation.rows
    n = write_rows(path, rows, build=sample_annotation.build.name, header_lines=lines)
    stem = str(path)[: -len(".maf")] if str(path).endswith(".maf") else str(path)
    entrez = entrez_map() if any(not is_small_variant(r) for r in rows) else {}
    cbioportal.write_cna(Path(stem + ".data_cna.txt"), sample_annotation.sample, rows, entrez)
    cbioportal.write_sv(Path(stem + ".data_sv.txt"), sample_annotation.sample, rows, entrez,
                        build=sample_annotation.build.name)
    return n
