"""Find the lines of the requested genes in a gigabyte GTF/GFF3 without a Python loop per line.

The file is read in 8 MB blocks; one regular expression finds the lines that
name a requested gene symbol (``gene_name "X"``, ``gene "X"``, ``gene_name=X``,
``gene=X``), another the ``gene`` lines, whose order is checked (a contig that
comes back after another, or a gene starting before the previous one: the file
is not sorted).  Only matching lines are decoded and handed on, numbered.  A
plain file is hashed on the way (sha256 of exactly the bytes read).

Ensembl's GFF3 names the symbol on gene lines only (transcripts and exons link
by ``Parent=``): ``needs_parent_links`` tells the caller to read such a file
line by line instead.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import IO

from annotator.errors import ReferenceError_

BLOCK = 8 << 20
# gene, transcript and mRNA lines: their contigs must come in blocks, gene starts in order
# (exon lines are trusted to follow their transcript: one regex scan keeps a GB file fast)
_STRUCTURE = re.compile(rb"\t(gene|transcript|mRNA)\t(\d+)\t")


def contig_again(path: str | Path | None, seqid: bytes, current: bytes | None, line: int) -> ReferenceError_:
    """The error for a contig whose lines resume after another contig's (unsorted file)."""
    return ReferenceError_(
        f"not sorted: contig {seqid.decode()} appears again after "
        f"{(current or b'').decode()} (sort it: see docs/reference.md)",
        path=path, where=f"line {line}",
    )


def open_binary(path: Path) -> tuple[IO[bytes], bool]:
    """The file's (decompressed) bytes and whether it is gzip/bgzip compressed."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    fh: IO[bytes] = gzip.open(path, "rb") if compressed else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
    return fh, compressed


def needs_parent_links(head: bytes) -> bool:
    """True for a GFF3 whose exon lines carry no gene symbol (Ensembl GFF3)."""
    for line in head.split(b"\n"):
        cols = line.split(b"\t")
        if len(cols) == 9 and cols[2] == b"exon":
            attrs = cols[8]
            return b"=" in attrs.split(b";")[0] and not re.search(rb"(?:^|;)\s*gene(?:_name)?=", attrs)
    return False


_KEYS = (b'gene_name "', b'gene "', b"gene_name=", b"gene=")


def symbol_key(head: bytes) -> bytes:
    """The attribute that names the gene symbol in this file (GENCODE/Ensembl, RefSeq GTF, GFF3)."""
    for line in head.split(b"\n"):
        cols = line.split(b"\t")
        if len(cols) == 9 and cols[2] in (b"exon", b"CDS", b"transcript", b"mRNA"):
            for key in _KEYS:
                i = cols[8].find(key)
                if i == 0 or (i > 0 and cols[8][i - 1 : i] in (b" ", b";")):
                    return key
    return _KEYS[0]


def _symbol_pattern(key: bytes, wanted: Collection[str]) -> re.Pattern[bytes]:
    # a literal prefix lets the regex engine skip ahead quickly (no per-position attempts)
    names = b"|".join(re.escape(g.encode()) for g in sorted(wanted, key=len, reverse=True))
    end = rb'"' if key.endswith(b'"') else rb"(?=[;\r\n]|$)"
    return re.compile(re.escape(key) + rb"(?:" + names + rb")" + end, re.M)


class Scanner:
    """One pass over ``path``: numbered lines of ``wanted`` genes, with order and truncation checks."""

    def __init__(self, path: Path, on_contig: Callable[[str, int], None], key: bytes) -> None:
        self.path = path
        self.key = key
        self.on_contig = on_contig
        self.digest: str | None = None
        self.last_line = 0

    def lines(self, wanted: Collection[str]) -> Iterator[tuple[int, str]]:
        pattern = _symbol_pattern(self.key, wanted)
        fh, compressed = open_binary(self.path)
        hasher = None if compressed else hashlib.sha256()
        seen: set[bytes] = set()
        current: bytes | None = None
        last_start = 0
        base = 0  # lines before the current block
        carry = b""
        complete = True
        try:
            with fh:
                while True:
                    try:
                        data = fh.read(BLOCK)
                    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                        n = base + carry.count(b"\n") + 1
                        raise ReferenceError_(f"truncated or corrupt compressed file ({exc})",
                                              path=self.path, where=f"line {n}") from exc
                    if hasher is not None:
                        hasher.update(data)
                    block = carry + data
                    if data:
                        cut = block.rfind(b"\n") + 1
                        block, carry = block[:cut], block[cut:]
                    else:
                        carry = b""
                        if block and not block.startswith(b"#") and block.count(b"\t") < 8:
                            raise ReferenceError_("truncated: the last line is cut short",
                                                  path=self.path, where=f"line {base + 1}")
                    fasta = block.find(b"\n##FASTA")
                    if fasta >= 0:
                        block, complete = block[: fasta + 1], False
                    for m in _STRUCTURE.finditer(block):
                        ls = block.rfind(b"\n", 0, m.start()) + 1
                        tab = block.find(b"\t", ls)
                        if block.find(b"\t", tab + 1) != m.start():
                            continue  # the word sits in another column (source, attributes)
                        seqid = block[ls:tab]
                        if seqid != current:
                            n = base + block.count(b"\n", 0, ls) + 1
                            if seqid in seen:
                                raise contig_again(self.path, seqid, current, n)
                            seen.add(seqid)
                            current, last_start = seqid, 0
                            self.on_contig(seqid.decode(), n)
                        if m.group(1) == b"gene":
                            start = int(m.group(2))
                            if start < last_start:
                                n = base + block.count(b"\n", 0, ls) + 1
                                raise ReferenceError_(
                                    f"not sorted: gene at {seqid.decode()}:{start} comes after one "
                                    f"at {last_start}", path=self.path, where=f"line {n}",
                                )
                            last_start = start
                    yield from self._matches(pattern, block, base)
                    base += block.count(b"\n")
                    if not data or not complete:
                        if carry:  # a last line without newline
                            base += 1
                            yield from self._matches(pattern, carry, base - 1)
                        break
        finally:
            self.last_line = base
        if hasher is not None and complete:
            self.digest = hasher.hexdigest()

    @staticmethod
    def _matches(pattern: re.Pattern[bytes], block: bytes, base: int) -> Iterator[tuple[int, str]]:
        pos = 0
        n = base
        last_line_start = -1
        for m in pattern.finditer(block):
            s = block.rfind(b"\n", 0, m.start()) + 1
            if s == last_line_start:
                continue  # the same line names the gene twice (gene_id / gene_name)
            last_line_start = s
            n += block.count(b"\n", pos, s)
            pos = s
            e = block.find(b"\n", s)
            line = block[s : e if e >= 0 else len(block)]
            if line.startswith(b"#"):
                continue
            yield n + 1, line.rstrip(b"\r").decode("utf-8", "replace")
