"""CNVkit ``.cns`` (segments) and ``.cnr`` (bins): 0-based half-open, log2 and optional cn.

Columns: chromosome, start, end, gene, log2 [, cn, depth, probes, weight ...].
``cn`` is written by ``cnvkit call``; whether that call used ``--purity`` is
not recorded in the file, so with ``--tumor-fraction`` resmark recomputes the
copy number from log2 (see ``thresholds.cn_from_log2``).
"""

from __future__ import annotations

from pathlib import Path

from annotator.cnv.segment import CnvInput, Table, segments_from


def detect(table: Table) -> bool:
    return table.has("chromosome", "start", "end", "gene", "log2")


def read(table: Table) -> CnvInput:
    suffix = Path(table.path).name.lower().removesuffix(".gz")
    bins = suffix.endswith(".cnr") or (
        not suffix.endswith(".cns") and table.col("probes") is None
    )
    idx = table.col
    segs, skipped = segments_from(
        table,
        chrom=idx("chromosome") or 0,
        start=idx("start") or 1,
        end=idx("end") or 2,
        cn=idx("cn"),
        log2=idx("log2"),
        zero_based=True,
    )
    return CnvInput(
        path=table.path,
        fmt="cnvkit-cnr" if bins else "cnvkit-cns",
        source="cnvkit",
        segments=segs,
        bins=bins,
        skipped=skipped,
    )
