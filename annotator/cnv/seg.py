"""SEG files (IGV, DNAcopy, GISTIC input): sample, chrom, start, end, [markers,] log2 mean.

IGV/DNAcopy headers: ``ID chrom loc.start loc.end num.mark seg.mean``; GISTIC:
``Sample Chromosome Start End Num_Probes Segment_Mean``.  The last column is the
segment mean (log2 ratio); coordinates are 1-based.  A file with several
samples needs the sample chosen (the VCF's tumour sample name, else the only one).
"""

from __future__ import annotations

from annotator.cnv.segment import CnvInput, Table, segments_from
from annotator.errors import InputError

_MEAN = ("seg.mean", "segment_mean", "seg_mean", "log2ratio", "segment.mean", "mean")
_CHROM = ("chrom", "chromosome", "chr")
_START = ("loc.start", "start", "startpos", "start_position")
_END = ("loc.end", "end", "endpos", "end_position")


def detect(table: Table) -> bool:
    return (
        table.col(*_MEAN) is not None
        and table.col(*_CHROM) is not None
        and table.col(*_START) is not None
        and len(table.header) >= 5
    )


def read(table: Table, sample: str | None) -> CnvInput:
    mean = table.col(*_MEAN)
    chrom = table.col(*_CHROM)
    start = table.col(*_START)
    end = table.col(*_END)
    assert mean is not None and chrom is not None and start is not None
    if end is None:
        raise InputError("SEG file without an end column", path=table.path)
    sid = 0 if chrom != 0 else None
    chosen = None
    rows = table.rows
    if sid is not None:
        names = list(dict.fromkeys(f[sid] for _, f in table.rows if f))
        if len(names) > 1:
            if sample not in names:
                raise InputError(
                    f"{len(names)} samples in the SEG file and none is named {sample!r} "
                    f"(samples: {', '.join(names[:10])})",
                    path=table.path,
                )
            chosen = sample
            rows = tuple((n, f) for n, f in table.rows if f and f[sid] == sample)
        elif names:
            chosen = names[0]
    segs, skipped = segments_from(
        table, chrom=chrom, start=start, end=end, log2=mean, rows=rows
    )
    return CnvInput(
        path=table.path, fmt="seg", source="seg", segments=segs, sample=chosen, skipped=skipped
    )
