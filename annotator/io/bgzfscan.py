"""One pass over a sorted bgzipped VCF without index: hash, count, keep what is near the panel.

``annotator.io.regionscan`` reads an unindexed bgzipped VCF in the panel
regions only.  Indexing the whole file with htslib first parses every
record in C, several times the cost of decompressing it.  This pass does
less: it reads the file once in large chunks (the SHA-256 for provenance
is taken on the way), inflates its BGZF blocks (ISA-L when installed,
checking each block's CRC-32 and size), counts the records of each chunk
of text with ``bytes.count`` and looks at CHROM and POS only, with numpy,
over whole chunks: never a Python object per record.

What it keeps is a superset of what a region query would return: every
line whose span may reach a region, the span taken as POS up to POS plus
the line's length (REF can be no longer than its line; a line naming
``END=`` or ``SVLEN=`` may reach any region after its POS).  The caller
writes the kept lines, under the input's own header, to a small file that
htslib indexes and queries exactly as it would the input, so the records,
their order and their numbering are those of a query of the whole file.

On the way it builds the whole file's tabix index, byte for byte htslib's
(``annotator.io.tabixbuild``, fed a chunk of one CHROM at a time: the end
of each line is a virtual offset found from the blocks' layout in the
chunk).  The annotated VCF's block copy needs the input's index; without
this one htslib would index the whole file a second time (3 s of a 5 s run
on 5M records).  A record's REF length is read only for the few lines long
enough to reach past their 16 kb window.  No index is built (htslib makes
it as before) where htslib's indexer reads a record its own way or the
layout is not what the offsets assume: a symbolic ALT, ``END=``/``SVLEN=``
(looked for as for the kept lines: in every chunk when the header declares
them or the first records use them), a carriage return, a NUL byte, an
empty block before the EOF block, a last line without its newline.

The pass checks what that reasoning needs and gives up (``None``: the
caller indexes the whole file with htslib as before) on anything it does
not expect: a block that is not BGZF or fails its CRC, a missing EOF
block, records not grouped by CHROM or not sorted by POS, a POS that is
not a positive number,
blank or ``#`` lines among the records (each record line must start with
CHROM, a tab, POS and a tab; htslib's indexer asks no more of lines off the
regions).  So an unsorted or malformed file
takes the former path with its messages, and no record is lost: the
record count is that of every line of the file, and only lines of no
region are left out of the kept file.
"""

from __future__ import annotations

import hashlib
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from annotator.io import linescan, tabixbuild
from annotator.io.bgzf import EOF_BLOCK, HEADER_SIZE, block_size, crc32, inflate_raw
from annotator.io.linescan import Regions, merged  # noqa: F401 - merged: this module's former name
from annotator.io.tabixbuild import TbiBuilder

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

READ_BYTES = 8 << 20  # compressed bytes read (and hashed) at a time
TEXT_BYTES = 2 << 20  # decompressed text looked at at a time
_SPAN_TAGS = re.compile(rb"(?:^|[\t;])(?:END|SVLEN)=")
# what makes htslib's indexer read a record its own way (annotator.io.tabixbuild): not built then
_INDEX_AS_HTSLIB = (b"<", b"\r", b"\0")


class GiveUp(Exception):
    """The file is not what the fast pass can vouch for; the reason is logged."""




@dataclass
class Found:
    """What the pass found: the header, the kept lines, and the whole file's counts."""

    header: bytes = b""
    records: int = 0  # record lines in the file
    chroms: list[str] = field(default_factory=list)  # CHROM names in file order
    kept: int = 0  # lines written to the sink
    sha256: str = ""
    # the whole file's tabix index (decompressed), built on the way; None: not built (why: logged)
    index: bytes | None = None


def scan(path: Path, regions: Regions, sink: IO[bytes], index: bool = True) -> Found:
    """Read ``path`` once; write its header and the lines near ``regions`` to ``sink``.

    ``index``: also build the file's tabix index (``Found.index``; a quarter of the pass).

    Raises ``GiveUp`` when the file is not a sorted, well-formed bgzipped
    VCF (module docstring); ``sink`` then holds a partial copy to discard.
    """
    body = _Body(regions, sink, index)
    sha = hashlib.sha256()
    raw = b""
    base = 0  # offset in the file of raw[0]
    last_block = b""
    parts: list[bytes] = []
    coffs: list[int] = []  # offset in the file of each block in ``parts``
    empty: list[int] = []  # offsets of the blocks holding no text (the EOF block last)
    size = 0
    carry = b""
    with open(path, "rb", buffering=0) as fh:
        while True:
            data = fh.read(READ_BYTES)
            if data:
                sha.update(data)
            raw = raw + data if raw else data
            at = 0
            while len(raw) - at >= HEADER_SIZE:
                n = block_size(raw[at : at + HEADER_SIZE])
                if n is None:
                    raise GiveUp(f"no BGZF block at byte {fh.tell() - len(raw) + at}")
                if len(raw) - at < n:
                    break
                block = memoryview(raw)[at : at + n]
                try:
                    text = inflate_raw(block[HEADER_SIZE:-8])
                except zlib.error as e:
                    raise GiveUp(f"BGZF block at byte {fh.tell() - len(raw) + at} is damaged ({e})") from e
                crc, isize = int.from_bytes(block[-8:-4], "little"), int.from_bytes(block[-4:], "little")
                if len(text) != isize or crc32(text) != crc:
                    raise GiveUp(f"BGZF block at byte {fh.tell() - len(raw) + at} fails its CRC or size check")
                last_block = bytes(block) if n == len(EOF_BLOCK) else b""
                if text:
                    if empty:
                        body.no_index("an empty BGZF block before the end of the file")
                    parts.append(text)
                    coffs.append(base + at)
                    size += len(text)
                else:
                    empty.append(base + at)
                at += n
                if size >= TEXT_BYTES:
                    carry = body.feed(b"".join([carry, *parts]), _layout(carry, parts, coffs, base + at))
                    parts, coffs, size = [], [], 0
            raw = raw[at:]
            base += at
            if not data:
                break
    if raw:
        raise GiveUp("the file ends inside a BGZF block (truncated?)")
    if last_block != EOF_BLOCK:
        raise GiveUp("no BGZF end-of-file block (truncated?)")
    rest = b"".join([carry, *parts])
    layout = _layout(carry, parts, coffs, empty[-1])
    if rest and not rest.endswith(b"\n"):
        rest += b"\n"  # the last line may lack its newline
        body.no_index("the last line has no newline")
    if body.feed(rest, layout):
        raise GiveUp("text after the last newline")
    if not body.found.header:
        raise GiveUp("no #CHROM header line")
    body.found.sha256 = sha.hexdigest()
    if len(empty) > 1:
        body.no_index("an empty BGZF block before the end of the file")
    if body.index is not None:
        # htslib's reader stands at the EOF block after the last line
        body.found.index = body.index.build(empty[-1] << 16)
        if body.found.index is None:
            log.info("%s: records the fast pass cannot index as htslib would: htslib indexes the file", path)
    return body.found


def _layout(carry: bytes, parts: list[bytes], coffs: list[int], next_coff: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each block's text starts in ``carry + parts``, and the block's offset in the file.

    The last entry is the end of the text and the block after it: a line ending there
    ends, as htslib's ``bgzf_tell`` says, at the start of the next block."""
    import numpy as np

    starts = np.empty(len(parts) + 1, dtype=np.int64)
    starts[0] = len(carry)
    np.cumsum([len(p) for p in parts], out=starts[1:])
    starts[1:] += len(carry)
    return starts, np.array([*coffs, next_coff], dtype=np.int64)


class _Body:
    """Chunks of whole lines: the header first, then records grouped by CHROM."""

    def __init__(self, regions: Regions, sink: IO[bytes], index: bool = True) -> None:
        self.regions = regions
        self.sink = sink
        self.found = Found()
        self.head = b""  # header text while it is incomplete
        self.chrom: bytes | None = None
        self.last_pos = 0
        self.seen: set[bytes] = set()
        self.spans_tags = False  # whether END=/SVLEN= must be looked for in records
        self.checked_tags = False
        self.index: TbiBuilder | None = None  # the whole file's index, while it can be built
        self.index_off = not index  # not asked for, or given up
        self._layout: tuple[np.ndarray, np.ndarray] | None = None
        self._shift = 0  # where the records of the chunk being read start in its layout

    def no_index(self, why: str) -> None:
        if not self.index_off:
            log.info("no index from the fast pass (%s): htslib indexes the file", why)
        self.index_off = True
        self.index = None

    def feed(self, text: bytes, layout: tuple[np.ndarray, np.ndarray]) -> bytes:
        """Look at the whole lines of ``text`` (its blocks: ``layout``); returns the incomplete last line."""
        import numpy as np

        cut = text.rfind(b"\n") + 1
        rest = text[cut:]
        self._layout, self._shift = layout, 0
        if not self.found.header:
            body = self._header(text[:cut])
            self._shift = cut - len(body)
            text, cut = body, len(body)
            if self.found.header:
                self.spans_tags = self.spans_tags or _declares_span_tags(self.found.header)
                if not self.index_off:
                    self.index = TbiBuilder(int(self._voffsets(np.array([0]))[0]))
        if not cut:
            return rest
        if self.index is not None and (any(text.find(x, 0, cut) >= 0 for x in _INDEX_AS_HTSLIB) or (
                (self.spans_tags or not self.checked_tags)
                and (text.find(b"END=", 0, cut) >= 0 or text.find(b"SVLEN=", 0, cut) >= 0))):
            # END=/SVLEN= only where the header declares them or the first records use them
            # (as for the kept lines): a search for them costs more than the rest of the pass
            self.no_index("a symbolic ALT, END=, SVLEN=, a carriage return or a NUL byte")
        if not self.checked_tags:  # undeclared END=/SVLEN=: looked for in the first records
            self.checked_tags = True
            self.spans_tags = self.spans_tags or text.find(b"END=", 0, cut) >= 0 \
                or text.find(b"SVLEN=", 0, cut) >= 0
        arr = np.frombuffer(text, dtype=np.uint8, count=cut)
        starts, ends = linescan.line_bounds(arr)
        first = 0
        while first < len(ends):
            first = self._one_chrom(text, arr, starts, ends, first)
        self.found.records += len(ends)
        return rest

    def _header(self, lines: bytes) -> bytes:
        text = self.head + lines
        at = 0 if text.startswith(b"#CHROM") else text.find(b"\n#CHROM") + 1
        if at == 0 and not text.startswith(b"#CHROM"):
            if text and not text.startswith(b"#"):
                raise GiveUp("records before a #CHROM header line")
            self.head = text
            return b""
        end = text.index(b"\n", at) + 1
        header = text[:end]
        if not all(x.startswith(b"#") for x in header.split(b"\n")[:-1]):
            raise GiveUp("header lines not starting with #")
        self.found.header = header
        self.head = b""
        self.sink.write(header)
        return text[end:]

    def _one_chrom(self, lines: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                   first: int) -> int:
        """Look at the lines from ``first`` on that share its CHROM; returns the next line's number."""
        import numpy as np

        at = int(starts[first])
        tab = lines.find(b"\t", at, at + 1024)
        chrom = lines[at:tab]
        if tab <= at or b"\n" in chrom or chrom.startswith(b"#"):
            raise GiveUp("a record line without CHROM and POS (a blank or # line among the records?)")
        # lines of this CHROM: each starts with CHROM and a tab
        n = linescan.run_length(arr, starts[first:], chrom + b"\t")
        if chrom != self.chrom:
            if chrom in self.seen:
                raise GiveUp(f"records of CHROM {_shown(chrom)} are not together (the file is not sorted)")
            self.seen.add(chrom)
            self.found.chroms.append(chrom.decode("utf-8", "surrogateescape"))
            self.chrom, self.last_pos = chrom, 0
        line_starts, line_ends = starts[first : first + n], ends[first : first + n]
        pos = _positions(lines, len(arr), line_starts + len(chrom) + 1)
        if int(pos[0]) < self.last_pos or (n > 1 and bool(np.any(pos[1:] < pos[:-1]))):
            raise GiveUp(f"records of CHROM {_shown(chrom)} are not sorted by POS")
        self.last_pos = int(pos[-1])
        if self.index is not None:
            self._add_to_index(lines, chrom, pos, line_starts, line_ends)
        spans = self.regions(chrom.decode("utf-8", "surrogateescape"))
        if spans is not None:
            self._keep(lines, spans, pos, line_starts, line_ends)
        return first + n

    def _voffsets(self, at: np.ndarray) -> np.ndarray:
        """Virtual offsets of the records' text offsets ``at`` (htslib's: a block's end is the next's start)."""
        import numpy as np

        assert self._layout is not None
        starts, coffs = self._layout
        at = at + self._shift
        k = np.searchsorted(starts, at, side="right") - 1
        return (coffs[k] << 16) | (at - starts[k])

    def _add_to_index(self, lines: bytes, chrom: bytes, pos: np.ndarray, starts: np.ndarray,
                      ends: np.ndarray) -> None:
        """The lines of one CHROM into the index: their extent (POS to POS + len(REF) - 1:
        no END=/SVLEN=, see ``feed``) and where each ends."""
        assert self.index is not None
        extent = tabixbuild.extents(lines, pos, starts, ends)
        if extent is None:
            self.no_index("a record of fewer than 8 columns or without REF")
            return
        self.index.add_many(chrom, *extent, self._voffsets(ends + 1))
        if not self.index.ok:
            self.no_index("records htslib's indexer would refuse")

    def _keep(self, lines: bytes, spans: tuple[np.ndarray, np.ndarray], pos: np.ndarray,
              starts: np.ndarray, ends: np.ndarray) -> None:
        """Write the lines whose span may reach a region."""
        import numpy as np

        r_start, r_end = spans
        reach = pos + (ends - starts)  # REF is no longer than its line
        lo, hi = int(starts[0]), int(ends[-1]) + 1
        # END= or SVLEN= may carry a record past its line's length: only lines before a region matter
        if self.spans_tags and int(pos[0]) < int(r_start[-1]) and (lines.find(b"END=", lo, hi) >= 0
                                               or lines.find(b"SVLEN=", lo, hi) >= 0):
            tagged = [m.start() for m in _SPAN_TAGS.finditer(lines, lo, hi)]
            if tagged:
                reach[np.searchsorted(ends, np.array(tagged, dtype=np.int64))] = np.iinfo(np.int64).max
        for i in np.flatnonzero(linescan.near(spans, pos, reach)).tolist():
            self.sink.write(lines[starts[i] : ends[i] + 1])
            self.found.kept += 1


def _declares_span_tags(header: bytes) -> bool:
    return b"##INFO=<ID=END," in header or b"##INFO=<ID=SVLEN," in header


def _shown(chrom: bytes) -> str:
    return chrom.decode("utf-8", "replace")[:40]


def _positions(text: bytes, cut: int, at: np.ndarray) -> np.ndarray:
    """POS of each line whose POS starts at ``at``; gives up on any that is not a positive number."""
    value, ok = linescan.positions(text, cut, at)
    if not bool(ok.all()):
        raise GiveUp("a POS that is not a number of 1 to 10 digits, or POS 0 (a telomere record)")
    return value
