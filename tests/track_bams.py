"""Small BAMs with known base counts for the PON and white-cell tests (pysam only).

Reads are 50 bp, single-end, MAPQ 60, base quality 30, all starting at
``start`` so every read covers every position of ``start .. start + 49``.
``alts`` maps a 1-based position to (base, number of reads carrying it).
"""

from __future__ import annotations

from pathlib import Path

from annotator.core.genome import GRCH37, GRCH38

READ_LEN = 50


def write_bam(path: Path, chrom: str, start: int, ref: str, depth: int,
              alts: dict[int, tuple[str, int]] | None = None, build: str = "GRCh38",
              prefix: bool = True, extra_flags: int = 0) -> Path:
    import pysam

    lengths = (GRCH38 if build == "GRCh38" else GRCH37).lengths
    names = [c for c in lengths if c != "chrM"]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": c if prefix else c.removeprefix("chr"), "LN": lengths[c]} for c in names],
              "RG": [{"ID": "rg1", "SM": path.name.split(".")[0]}]}
    tid = names.index(chrom)
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i in range(depth):
            seq = list(ref[:READ_LEN])
            for pos, (base, count) in (alts or {}).items():
                if i < count:
                    seq[pos - start] = base
            a = pysam.AlignedSegment()
            a.query_name = f"r{i}"
            a.query_sequence = "".join(seq)
            a.flag = extra_flags
            a.reference_id = tid
            a.reference_start = start - 1
            a.mapping_quality = 60
            a.cigar = ((0, READ_LEN),)
            a.query_qualities = pysam.qualitystring_to_array("?" * READ_LEN)
            a.set_tag("RG", "rg1")
            out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return path
