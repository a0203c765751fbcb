"""PURPLE somatic copy-number segments (``*.purple.cnv.somatic.tsv``, older ``*.purple.cnv``).

Columns: (#)chromosome, start, end, copyNumber, ...; 1-based inclusive.
``copyNumber`` is PURPLE's purity- and ploidy-fitted absolute copy number, so
``--tumor-fraction`` does not re-scale it.
"""

from __future__ import annotations

from annotator.cnv.segment import CnvInput, Table, segments_from


def detect(table: Table) -> bool:
    return table.has("chromosome", "start", "end", "copyNumber")


def read(table: Table) -> CnvInput:
    idx = table.col
    segs, skipped = segments_from(
        table,
        chrom=idx("chromosome") or 0,
        start=idx("start") or 1,
        end=idx("end") or 2,
        cn=idx("copyNumber"),
        adjusted=True,
    )
    return CnvInput(path=table.path, fmt="purple", source="purple", segments=segs, skipped=skipped)
