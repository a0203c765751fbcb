"""VCFs that callers wrote without a full header: what to add, what to skip.

htslib refuses a text VCF whose first line is not ``##fileformat``; callers'
own test suites ship files that start at ``#CHROM``, at another ``##`` line,
with data lines only, or after a few lines of the tool's log.  The reader
(``annotator.io.vcfin``) reads such a file from a copy with the missing lines
added (``annotator.io.inputbytes.Spool.headed``) and says so in a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

# a few lines of a tool's log before the header are skipped; more means it is no VCF
LEAD_LINES = 20


def missing_header(path: Path) -> tuple[tuple[str, ...], int]:
    """(header lines to add, leading lines to drop) for a text VCF htslib would refuse.

    Real files from callers' test suites lack ``##fileformat`` (the first line is
    another ``##`` line or ``#CHROM``), lack the whole header (data lines only),
    or start with a few lines of a tool's log before the header.  ``((), 0)``
    when nothing is missing or the file does not look like a VCF at all.
    """
    lines = _first_lines(path, LEAD_LINES + 1)
    if not lines:
        return (), 0
    lines[0] = lines[0].lstrip("\ufeff")
    skip = next((n for n, line in enumerate(lines) if line.startswith("#")), None)
    if skip is None or skip == 0:
        skip = 0
    first = lines[skip]
    fileformat = "##fileformat=VCFv4.2"
    if first.startswith("##fileformat"):
        return (), skip
    if first.startswith("#"):
        return (fileformat,), skip
    cols = first.rstrip("\r\n").split("\t")
    if len(cols) < 8 or not cols[1].isdigit():
        return (), 0
    chrom = "\t".join(("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"))
    if len(cols) > 9:
        names = ["SAMPLE"] if len(cols) == 10 else [f"SAMPLE{i}" for i in range(1, len(cols) - 8)]
        chrom += "\tFORMAT\t" + "\t".join(names)
    return (fileformat, chrom), 0


def _first_lines(path: Path, n: int) -> list[str]:
    import gzip

    opener: Callable[..., IO[str]] = gzip.open if path.suffix == ".gz" else open
    out: list[str] = []
    try:
        with opener(path, "rt", errors="replace") as fh:
            for _ in range(n):
                line = fh.readline(1 << 20)
                if not line:
                    break
                out.append(line)
    except (OSError, EOFError):
        return []
    return out
