"""Other segment tables with an absolute copy number column.

* FACETS ``*_cncf.tsv``: chrom (23 = X), start, end, ``tcn.em`` (fitted total
  copy number), ``cnlr.median`` (log2 ratio).
* TITAN ``*.segs.tsv``: Chromosome, Start_Position.bp., End_Position.bp.,
  ``Copy_Number``, ``Median_logR``.
* Allele-specific tables (ASCAT, Sequenza, PCGR input): Chromosome, Start, End,
  ``nMajor``, ``nMinor``; total copy number = nMajor + nMinor.
* BED-like ``chrom start end <cn>`` tables where ``<cn>`` is one of tot_cn,
  total_cn, copy_number, copynumber, cn (truth sets, custom exports); 1-based.
"""

from __future__ import annotations

from annotator.cnv.segment import CnvInput, Table, segments_from

_CHROM = ("chrom", "chromosome", "chr", "#chrom", "contig")
_START = ("start", "loc.start", "start_position", "chromstart")
_END = ("end", "loc.end", "end_position", "chromend")
_CN = ("tot_cn", "total_cn", "copy_number", "copynumber", "cn", "tcn", "total_copy_number")


def detect_facets(table: Table) -> bool:
    return table.has("chrom", "start", "end", "tcn.em")


def read_facets(table: Table) -> CnvInput:
    idx = table.col
    segs, skipped = segments_from(
        table, chrom=idx("chrom") or 0, start=idx("start") or 0, end=idx("end") or 0,
        cn=idx("tcn.em"), log2=idx("cnlr.median"), adjusted=True,
    )
    return CnvInput(path=table.path, fmt="facets", source="facets", segments=segs, skipped=skipped)


def detect_titan(table: Table) -> bool:
    return table.has("Chromosome", "Start_Position.bp.", "End_Position.bp.", "Copy_Number")


def read_titan(table: Table) -> CnvInput:
    idx = table.col
    segs, skipped = segments_from(
        table, chrom=idx("Chromosome") or 0, start=idx("Start_Position.bp.") or 0,
        end=idx("End_Position.bp.") or 0, cn=idx("Copy_Number"), log2=idx("Median_logR"),
        adjusted=True,
    )
    return CnvInput(path=table.path, fmt="titan", source="titan", segments=segs, skipped=skipped)


def detect_allele_specific(table: Table) -> bool:
    return (
        table.has("nMajor", "nMinor")
        and table.col(*_CHROM) is not None
        and table.col(*_START) is not None
    )


def read_allele_specific(table: Table) -> CnvInput:
    # total copy number = nMajor + nMinor
    segs, skipped = segments_from(
        table, chrom=table.col(*_CHROM) or 0, start=table.col(*_START) or 0,
        end=table.col(*_END) or 0, cn=table.col("nMajor"), extra_cn=table.col("nMinor"),
        adjusted=True,
    )
    return CnvInput(
        path=table.path, fmt="allele-specific", source="allele-specific-cn",
        segments=segs, skipped=skipped,
    )


def detect_bed_cn(table: Table) -> bool:
    return (
        table.col(*_CHROM) is not None
        and table.col(*_START) is not None
        and table.col(*_END) is not None
        and table.col(*_CN) is not None
    )


def read_bed_cn(table: Table) -> CnvInput:
    segs, skipped = segments_from(
        table, chrom=table.col(*_CHROM) or 0, start=table.col(*_START) or 0,
        end=table.col(*_END) or 0, cn=table.col(*_CN), adjusted=True,
    )
    return CnvInput(path=table.path, fmt="bed-cn", source="segment-cn", segments=segs, skipped=skipped)
