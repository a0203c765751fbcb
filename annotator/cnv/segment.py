"""Copy-number input values: segments (or bins) and gene-level entries, plus table reading.

Every reader in this package turns one file format into a ``CnvInput``:
segments with 1-based inclusive coordinates and canonical chromosome names,
each carrying an absolute copy number, a log2 ratio, or both.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core import chromnames
from annotator.errors import InputError
from annotator.io.textinput import TextInput

_MISSING = frozenset(("", ".", "NA", "NaN", "nan", "None", "null", "-"))
MAX_LOG2 = 64.0  # log2 copy ratios above this are not copy numbers (2**1024 overflows)
MIN_CN = -1.0  # fitted copy numbers in [-1, 0) are noise around 0 and read as 0
MAX_CN = 1e6
MAX_POSITION = 2**31 - 1  # longer than any chromosome; larger values are not positions


@dataclass(frozen=True, slots=True)
class Segment:
    chrom: str  # canonical
    start: int  # 1-based inclusive
    end: int
    copy_number: float | None = None  # absolute tumour copy number as the caller gave it
    log2: float | None = None  # log2 ratio against a diploid normal reference
    line: int = 0  # 1-based line in the input (for messages)
    cn_is_adjusted: bool = False  # caller's CN already purity/ploidy fitted (PURPLE, FACETS)

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def text(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class GeneLevel:
    """One gene of a gene-level table: a discrete call and/or an absolute copy number."""

    gene: str
    copy_number: float | None = None
    discrete: int | None = None  # cBioPortal GISTIC-style -2..2
    line: int = 0


@dataclass(frozen=True)
class CnvInput:
    """What one ``--cnv`` file holds, in resmark's terms."""

    path: str
    fmt: str  # cnvkit-cns, cnvkit-cnr, purple, seg, facets, titan, allele-specific, bed-cn, ...
    source: str  # annotation_source of the rows: cnvkit, purple, seg, gene-table, ...
    segments: tuple[Segment, ...] = ()
    genes: tuple[GeneLevel, ...] = ()
    bins: bool = False  # bin-level data (CNVkit .cnr): averaged over a gene, not coverage-checked
    sample: str | None = None
    skipped: int = 0  # data lines that could not be used (non-primary contigs)
    notes: tuple[str, ...] = field(default_factory=tuple)
    sha256: str | None = None  # of the file as read (provenance without a second read)
    # records read but not kept: they overlap none of the regions asked for (``keep``)
    outside: int = 0

    @property
    def n_records(self) -> int:
        return len(self.segments) + len(self.genes) + self.outside


@dataclass(frozen=True)
class Table:
    """A table's header and its data rows, streamed once from a ``TextInput``."""

    path: str
    header: tuple[str, ...]
    rows: Iterable[tuple[int, tuple[str, ...]]]  # (1-based line, fields); one pass only
    source: TextInput | None = None  # the open input: digest once the rows are read
    # only segments for which keep(chrom, start, end) holds are kept (memory of large files)
    keep: Callable[[str, int, int], bool] | None = None
    dropped: list[int] = field(default_factory=lambda: [0])  # count of segments not kept

    def col(self, *names: str) -> int | None:
        """Index of the first header column matching one of ``names`` (case-insensitive)."""
        lowered = [h.lower().lstrip("#") for h in self.header]
        for n in names:
            if n.lower() in lowered:
                return lowered.index(n.lower())
        return None

    def has(self, *names: str) -> bool:
        return all(self.col(n) is not None for n in names)


def open_table(
    source: TextInput, keep: Callable[[str, int, int], bool] | None = None
) -> Table:
    """A tab- (or whitespace-) separated table whose first non-comment line is the header.

    Lines starting with ``##`` or ``@`` are comments; a single ``#`` line is a
    header (PURPLE writes ``#chromosome``).  The rows are read as they are used.
    """
    lines = source.lines()
    header: tuple[str, ...] | None = None
    sep: str | None = "\t"
    for _, line in lines:
        if not line.strip() or line.startswith(("##", "@")):
            continue
        if "\t" not in line:
            sep = None  # whitespace-separated (some SEG exports)
        header = tuple(h.strip().strip('"') for h in line.split(sep))
        break
    if header is None:
        raise InputError("empty table (no header line)", path=source.path)
    return Table(str(source.path), header, _rows(lines, sep), source, keep)


def _rows(
    lines: Iterator[tuple[int, str]], sep: str | None
) -> Iterator[tuple[int, tuple[str, ...]]]:
    for n, line in lines:
        if not line.strip() or line.startswith(("##", "@")):
            continue
        yield n, tuple(f.strip().strip('"') for f in line.split(sep))


def read_table(path: str | Path) -> Table:
    """The whole table in memory (small files and tests; readers stream ``open_table``)."""
    with TextInput(path, what="copy-number table") as src:
        t = open_table(src)
        return Table(t.path, t.header, tuple(t.rows), None)


def number(text: str, table: Table, line: int, column: str) -> float | None:
    """A finite float cell; empty/NA/NaN/. give None, inf and anything unparsable are errors."""
    t = text.strip()
    if t in _MISSING:
        return None
    try:
        v = float(t)
    except ValueError as e:
        raise InputError(
            f"column {column!r}: {_short(t)!r} is not a number", path=table.path,
            where=f"line {line}",
        ) from e
    if math.isnan(v):
        return None
    if math.isinf(v):
        raise InputError(
            f"column {column!r}: {_short(t)!r} is not a finite number", path=table.path,
            where=f"line {line}",
        )
    return v


def log2_ratio(text: str, table: Table, line: int, column: str) -> float | None:
    """A log2 copy ratio: finite and at most ``MAX_LOG2`` (2**1024 overflows a float)."""
    v = number(text, table, line, column)
    if v is not None and v > MAX_LOG2:
        raise InputError(
            f"column {column!r}: log2 ratio {_short(text)} is out of range (at most {MAX_LOG2:g}, "
            f"a {2**MAX_LOG2:.0e}-fold copy ratio)", path=table.path, where=f"line {line}",
        )
    return v


def copy_number(text: str, table: Table, line: int, column: str) -> float | None:
    """An absolute copy number: finite, not below ``MIN_CN`` (fit noise up to it is clipped to 0)."""
    v = number(text, table, line, column)
    if v is None:
        return None
    if v < MIN_CN:
        raise InputError(
            f"column {column!r}: copy number {_short(text)} is negative", path=table.path,
            where=f"line {line}",
        )
    if v > MAX_CN:
        raise InputError(
            f"column {column!r}: copy number {_short(text)} is out of range (at most {MAX_CN:g})",
            path=table.path, where=f"line {line}",
        )
    return max(0.0, v)  # fitted copy numbers can dip just below zero


def _short(text: str) -> str:
    return text.strip()[:40]


def position(text: str, table: Table, line: int, column: str) -> int:
    v = number(text, table, line, column)
    if v is None or v < 0 or v != int(v) or v > MAX_POSITION:
        raise InputError(
            f"column {column!r}: {_short(text)!r} is not a genome position", path=table.path,
            where=f"line {line}",
        )
    return int(v)


def overlap_filter(spans: Iterable[tuple[str, int, int]]) -> Callable[[str, int, int], bool]:
    """``keep(chrom, start, end)``: does the segment overlap one of ``spans`` (1-based)?"""
    import bisect

    merged: dict[str, list[tuple[int, int]]] = {}
    for chrom, start, end in sorted(spans):
        ivs = merged.setdefault(chrom, [])
        if ivs and start <= ivs[-1][1] + 1:
            ivs[-1] = (ivs[-1][0], max(ivs[-1][1], end))
        else:
            ivs.append((start, end))
    starts = {c: [s for s, _ in ivs] for c, ivs in merged.items()}

    def keep(chrom: str, start: int, end: int) -> bool:
        ivs = merged.get(chrom)
        if not ivs:
            return False
        i = bisect.bisect_right(starts[chrom], end) - 1
        return i >= 0 and ivs[i][1] >= start

    return keep


def canonical_chrom(text: str) -> str | None:
    """Canonical name of a primary chromosome (FACETS/SEG write 23/24 for X/Y), else None."""
    t = text.strip()
    if t in ("23", "chr23"):
        t = "X"
    elif t in ("24", "chr24"):
        t = "Y"
    c = chromnames.canonical(t)
    return sys.intern(c) if c in chromnames.PRIMARY else None  # one string per name


def cells(fields: Sequence[str], idx: int | None) -> str:
    if idx is None or idx >= len(fields):
        return ""
    return fields[idx]


def check_columns(table: Table, fields: Sequence[str], line: int) -> None:
    if len(fields) < len(table.header) - 1:
        raise InputError(
            f"{len(fields)} columns where the header has {len(table.header)}",
            path=table.path, where=f"line {line}",
        )


def segments_from(
    table: Table,
    *,
    chrom: int,
    start: int,
    end: int,
    cn: int | None = None,
    log2: int | None = None,
    zero_based: bool = False,
    adjusted: bool = False,
    rows: Iterable[tuple[int, tuple[str, ...]]] | None = None,
    extra_cn: int | None = None,
) -> tuple[tuple[Segment, ...], int]:
    """Segments from column indexes; returns (segments, lines skipped as non-primary).

    ``extra_cn``: a second copy-number column added to ``cn`` (nMinor to nMajor).
    """
    out: list[Segment] = []
    skipped = 0
    keep = table.keep
    for line, f in table.rows if rows is None else rows:
        seg = segment_of(table, f, line, chrom=chrom, start=start, end=end, cn=cn, log2=log2,
                         zero_based=zero_based, adjusted=adjusted, extra_cn=extra_cn)
        if seg is None:
            skipped += 1
        elif keep is None or keep(seg.chrom, seg.start, seg.end):
            out.append(seg)
        else:
            table.dropped[0] += 1
    return tuple(out), skipped


def segment_of(
    table: Table,
    f: Sequence[str],
    line: int,
    *,
    chrom: int,
    start: int,
    end: int,
    cn: int | None = None,
    log2: int | None = None,
    zero_based: bool = False,
    adjusted: bool = False,
    extra_cn: int | None = None,
) -> Segment | None:
    """One row as a segment; None for a non-primary contig or a row without a value."""
    names = table.header
    check_columns(table, f, line)
    c = canonical_chrom(cells(f, chrom))
    if c is None:
        return None
    s = position(cells(f, start), table, line, names[start])
    e = position(cells(f, end), table, line, names[end])
    if zero_based:
        s += 1  # 0-based half-open (BED, CNVkit) -> 1-based inclusive
    if e < s:
        raise InputError(
            f"segment end {e} is before its start {s}", path=table.path, where=f"line {line}"
        )
    cn_v = copy_number(cells(f, cn), table, line, names[cn]) if cn is not None else None
    if extra_cn is not None and cn_v is not None:
        more = copy_number(cells(f, extra_cn), table, line, names[extra_cn])
        cn_v += more or 0.0
    l2_v = log2_ratio(cells(f, log2), table, line, names[log2]) if log2 is not None else None
    if cn_v is None and l2_v is None:
        return None
    return Segment(c, s, e, cn_v, l2_v, line, adjusted)
