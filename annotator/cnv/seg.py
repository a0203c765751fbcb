"""SEG files (IGV, DNAcopy, GISTIC input): sample, chrom, start, end, [markers,] log2 mean.

IGV/DNAcopy headers: ``ID chrom loc.start loc.end num.mark seg.mean``; GISTIC:
``Sample Chromosome Start End Num_Probes Segment_Mean``.  The last column is the
segment mean (log2 ratio); coordinates are 1-based.  A file with several
samples needs the sample chosen (the VCF's tumour sample name, else the only one).
"""

from __future__ import annotations

from annotator.cnv.segment import CnvInput, Segment, Table, segment_of
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
    """One pass: segments are kept for the requested sample and for the first one seen."""
    mean = table.col(*_MEAN)
    chrom = table.col(*_CHROM)
    start = table.col(*_START)
    end = table.col(*_END)
    assert mean is not None and chrom is not None and start is not None
    if end is None:
        raise InputError("SEG file without an end column", path=table.path)
    sid = 0 if chrom != 0 else None
    names: dict[str, None] = {}
    kept: dict[str | None, list[Segment]] = {}
    skipped: dict[str | None, int] = {}
    outside: dict[str | None, int] = {}
    for line, f in table.rows:
        name = f[sid] if sid is not None and f else None
        if name not in names:
            names[name] = None  # type: ignore[index]
        # multi-sample files: only the wanted sample and the first one are parsed
        if name != sample and name != next(iter(names)):
            continue
        seg = segment_of(table, f, line, chrom=chrom, start=start, end=end, log2=mean)
        if seg is None:
            skipped[name] = skipped.get(name, 0) + 1
        elif table.keep is None or table.keep(seg.chrom, seg.start, seg.end):
            kept.setdefault(name, []).append(seg)
        else:
            outside[name] = outside.get(name, 0) + 1
    listed = [n for n in names if n is not None]
    chosen: str | None = None
    if len(listed) > 1:
        if sample not in names:
            raise InputError(
                f"{len(listed)} samples in the SEG file and none is named {sample!r} "
                f"(samples: {', '.join(listed[:10])})",
                path=table.path,
            )
        chosen = sample
    elif listed:
        chosen = listed[0]
    key = chosen if sid is not None else None
    return CnvInput(
        path=table.path, fmt="seg", source="seg", segments=tuple(kept.get(key, ())),
        sample=chosen, skipped=skipped.get(key, 0), outside=outside.get(key, 0),
    )
