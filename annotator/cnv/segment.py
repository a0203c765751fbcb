"""Copy-number input values: segments (or bins) and gene-level entries, plus table reading.

Every reader in this package turns one file format into a ``CnvInput``:
segments with 1-based inclusive coordinates and canonical chromosome names,
each carrying an absolute copy number, a log2 ratio, or both.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core import chromnames
from annotator.errors import InputError


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

    @property
    def n_records(self) -> int:
        return len(self.segments) + len(self.genes)


@dataclass(frozen=True)
class Table:
    path: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (1-based line, fields)
    comments: tuple[str, ...] = ()

    def col(self, *names: str) -> int | None:
        """Index of the first header column matching one of ``names`` (case-insensitive)."""
        lowered = [h.lower().lstrip("#") for h in self.header]
        for n in names:
            if n.lower() in lowered:
                return lowered.index(n.lower())
        return None

    def has(self, *names: str) -> bool:
        return all(self.col(n) is not None for n in names)


def _open_text(path: Path) -> Iterator[str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError("not a UTF-8 text table", path=path) from e
    return iter(text.splitlines())


def read_table(path: str | Path) -> Table:
    """A tab- (or whitespace-) separated table whose first non-comment line is the header.

    Lines starting with ``##`` or ``@`` are comments; a single ``#`` line is a
    header (PURPLE writes ``#chromosome``).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=p)
    if p.is_dir():
        raise InputError("is a directory, not a copy-number table", path=p)
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    comments: list[str] = []
    sep: str | None = "\t"
    for n, line in enumerate(_open_text(p), start=1):
        if not line.strip():
            continue
        if line.startswith(("##", "@")):
            comments.append(line)
            continue
        if header is None:
            if "\t" not in line:
                sep = None  # whitespace-separated (some SEG exports)
            header = tuple(h.strip().strip('"') for h in line.split(sep))
            continue
        rows.append((n, tuple(f.strip().strip('"') for f in line.split(sep))))
    if header is None:
        raise InputError("empty table (no header line)", path=p)
    return Table(str(p), header, tuple(rows), tuple(comments))


def number(text: str, table: Table, line: int, column: str) -> float | None:
    """A float cell; empty/NA/. give None, anything else unparsable is an error."""
    t = text.strip()
    if t in ("", ".", "NA", "NaN", "nan", "None", "null", "-"):
        return None
    try:
        v = float(t)
    except ValueError as e:
        raise InputError(
            f"column {column!r}: {t!r} is not a number", path=table.path, where=f"line {line}"
        ) from e
    return None if math.isnan(v) else v


def position(text: str, table: Table, line: int, column: str) -> int:
    v = number(text, table, line, column)
    if v is None or v < 0 or v != int(v):
        raise InputError(
            f"column {column!r}: {text!r} is not a genome position", path=table.path,
            where=f"line {line}",
        )
    return int(v)


def canonical_chrom(text: str) -> str | None:
    """Canonical name of a primary chromosome (FACETS/SEG write 23/24 for X/Y), else None."""
    t = text.strip()
    if t in ("23", "chr23"):
        t = "X"
    elif t in ("24", "chr24"):
        t = "Y"
    c = chromnames.canonical(t)
    return c if c in chromnames.PRIMARY else None


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
    rows: Sequence[tuple[int, tuple[str, ...]]] | None = None,
) -> tuple[tuple[Segment, ...], int]:
    """Segments from column indexes; returns (segments, lines skipped as non-primary)."""
    out: list[Segment] = []
    skipped = 0
    names = table.header
    for line, f in table.rows if rows is None else rows:
        check_columns(table, f, line)
        c = canonical_chrom(cells(f, chrom))
        if c is None:
            skipped += 1
            continue
        s = position(cells(f, start), table, line, names[start])
        e = position(cells(f, end), table, line, names[end])
        if zero_based:
            s += 1  # 0-based half-open (BED, CNVkit) -> 1-based inclusive
        if e < s:
            raise InputError(
                f"segment end {e} is before its start {s}", path=table.path, where=f"line {line}"
            )
        cn_v = number(cells(f, cn), table, line, names[cn]) if cn is not None else None
        l2_v = number(cells(f, log2), table, line, names[log2]) if log2 is not None else None
        if cn_v is None and l2_v is None:
            skipped += 1
            continue
        if cn_v is not None and cn_v < 0:
            cn_v = 0.0  # fitted copy numbers can dip just below zero
        out.append(Segment(c, s, e, cn_v, l2_v, line, adjusted))
    return tuple(out), skipped
