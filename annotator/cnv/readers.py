"""``--cnv FILE``: recognise the format from the header and read it.

Supported: CNVkit .cns/.cnr, PURPLE segments and gene table, SEG (IGV /
DNAcopy / GISTIC), FACETS cncf, TITAN segs, allele-specific (nMajor/nMinor)
tables, BED-like chrom/start/end/copy-number tables, cBioPortal discrete
gene tables and gene + copy-number tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from annotator.cnv import cnvkit, genetable, othersegs, purple, seg
from annotator.cnv.segment import CnvInput, Table, open_table
from annotator.errors import InputError
from annotator.io.textinput import TextInput

FORMATS = (
    "cnvkit-cns", "cnvkit-cnr", "purple", "purple-gene", "seg", "facets", "titan",
    "allele-specific", "bed-cn", "cbioportal-discrete", "gene-cn",
)


def read_cnv(
    path: str | Path,
    sample: str | None = None,
    keep: Callable[[str, int, int], bool] | None = None,
) -> CnvInput:
    """Read one copy-number file; ``sample`` picks a column/ID in multi-sample files.

    The file is read once, streaming (a pipe works), within the limits of
    ``annotator.io.textinput``; ``result.sha256`` is the digest of what was read.
    ``keep(chrom, start, end)``: keep only the segments it accepts (the others are
    counted in ``result.outside``), so a genome-wide bin file costs memory only for
    the regions that are called.
    """
    with TextInput(path, what="copy-number table") as src:
        table = open_table(src, keep)
        result = _read(table, path, sample)
        src.drain()
        outside = result.outside + table.dropped[0]
        result = replace(result, sha256=src.sha256, outside=outside)
    if not result.n_records:
        raise InputError(f"no usable copy-number records in this {result.fmt} file", path=path)
    return result


def _read(table: Table, path: str | Path, sample: str | None) -> CnvInput:
    if cnvkit.detect(table):
        result = cnvkit.read(table)
    elif purple.detect(table):
        result = purple.read(table)
    elif genetable.detect_discrete(table):
        result = genetable.read_discrete(table, sample)
    elif othersegs.detect_facets(table):
        result = othersegs.read_facets(table)
    elif othersegs.detect_titan(table):
        result = othersegs.read_titan(table)
    elif othersegs.detect_allele_specific(table):
        result = othersegs.read_allele_specific(table)
    elif genetable.detect_gene_cn(table) and not othersegs.detect_bed_cn(table):
        result = genetable.read_gene_cn(table)
    elif seg.detect(table):
        result = seg.read(table, sample)
    elif othersegs.detect_bed_cn(table):
        result = othersegs.read_bed_cn(table)
    elif genetable.detect_gene_cn(table):
        result = genetable.read_gene_cn(table)
    else:
        raise InputError(
            "unrecognised copy-number table (header: "
            f"{' '.join(table.header[:8])}); supported: {', '.join(FORMATS)}",
            path=path,
        )
    return result
