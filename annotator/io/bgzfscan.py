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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from annotator.io.bgzf import EOF_BLOCK, HEADER_SIZE, block_size, crc32, inflate_raw

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

READ_BYTES = 8 << 20  # compressed bytes read (and hashed) at a time
TEXT_BYTES = 2 << 20  # decompressed text looked at at a time
_SPAN_TAGS = re.compile(rb"(?:^|[\t;])(?:END|SVLEN)=")
_MAX_DIGITS = 10  # POS < 2^31 (VCF 4.3 section 1.6.1)


class GiveUp(Exception):
    """The file is not what the fast pass can vouch for; the reason is logged."""


Regions = Callable[[str], "tuple[np.ndarray, np.ndarray] | None"]  # native CHROM -> merged starts, ends


@dataclass
class Found:
    """What the pass found: the header, the kept lines, and the whole file's counts."""

    header: bytes = b""
    records: int = 0  # record lines in the file
    chroms: list[str] = field(default_factory=list)  # CHROM names in file order
    kept: int = 0  # lines written to the sink
    sha256: str = ""


def merged(regions: Sequence[Sequence[tuple[str, int, int]]]) -> dict[str, tuple[list[int], list[int]]]:
    """The union of several region sets per chromosome: sorted, non-overlapping (start, end) lists."""
    by_chrom: dict[str, list[tuple[int, int]]] = {}
    for regs in regions:
        for chrom, start, end in regs:
            by_chrom.setdefault(chrom, []).append((start, end))
    out: dict[str, tuple[list[int], list[int]]] = {}
    for chrom, spans in by_chrom.items():
        starts: list[int] = []
        ends: list[int] = []
        for start, end in sorted(spans):
            if ends and start <= ends[-1] + 1:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        out[chrom] = (starts, ends)
    return out


def scan(path: Path, regions: Regions, sink: IO[bytes]) -> Found:
    """Read ``path`` once; write its header and the lines near ``regions`` to ``sink``.

    Raises ``GiveUp`` when the file is not a sorted, well-formed bgzipped
    VCF (module docstring); ``sink`` then holds a partial copy to discard.
    """
    body = _Body(regions, sink)
    sha = hashlib.sha256()
    raw = b""
    last_block = b""
    parts: list[bytes] = []
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
                at += n
                if text:
                    parts.append(text)
                    size += len(text)
                if size >= TEXT_BYTES:
                    carry = body.feed(b"".join([carry, *parts]))
                    parts, size = [], 0
            raw = raw[at:]
            if not data:
                break
    if raw:
        raise GiveUp("the file ends inside a BGZF block (truncated?)")
    if last_block != EOF_BLOCK:
        raise GiveUp("no BGZF end-of-file block (truncated?)")
    rest = b"".join([carry, *parts])
    if rest and not rest.endswith(b"\n"):
        rest += b"\n"  # the last line may lack its newline
    if body.feed(rest):
        raise GiveUp("text after the last newline")
    if not body.found.header:
        raise GiveUp("no #CHROM header line")
    body.found.sha256 = sha.hexdigest()
    return body.found


class _Body:
    """Chunks of whole lines: the header first, then records grouped by CHROM."""

    def __init__(self, regions: Regions, sink: IO[bytes]) -> None:
        self.regions = regions
        self.sink = sink
        self.found = Found()
        self.head = b""  # header text while it is incomplete
        self.chrom: bytes | None = None
        self.last_pos = 0
        self.seen: set[bytes] = set()
        self.spans_tags = False  # whether END=/SVLEN= must be looked for in records
        self.checked_tags = False

    def feed(self, text: bytes) -> bytes:
        """Look at the whole lines of ``text``; returns the incomplete last line."""
        import numpy as np

        cut = text.rfind(b"\n") + 1
        rest = text[cut:]
        if not self.found.header:
            text = self._header(text[:cut])
            cut = len(text)
            if self.found.header:
                self.spans_tags = self.spans_tags or _declares_span_tags(self.found.header)
        if not cut:
            return rest
        if not self.checked_tags:  # undeclared END=/SVLEN=: looked for in the first records
            self.checked_tags = True
            self.spans_tags = self.spans_tags or text.find(b"END=", 0, cut) >= 0 \
                or text.find(b"SVLEN=", 0, cut) >= 0
        arr = np.frombuffer(text, dtype=np.uint8, count=cut)
        ends = np.flatnonzero(arr == 10)  # the newline of each line
        starts = np.empty(len(ends), dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
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
        same = np.ones(len(starts) - first, dtype=bool)
        for k, c in enumerate(chrom + b"\t"):
            same &= arr[np.minimum(starts[first:] + k, len(arr) - 1)] == c
        n = len(same) if bool(same.all()) else int(np.argmin(same))
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
        spans = self.regions(chrom.decode("utf-8", "surrogateescape"))
        if spans is not None:
            self._keep(lines, spans, pos, line_starts, line_ends)
        return first + n

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
        j = np.searchsorted(r_start, reach, side="right") - 1
        near = (j >= 0) & (r_end[np.maximum(j, 0)] >= pos)
        for i in np.flatnonzero(near).tolist():
            self.sink.write(lines[starts[i] : ends[i] + 1])
            self.found.kept += 1


def _declares_span_tags(header: bytes) -> bool:
    return b"##INFO=<ID=END," in header or b"##INFO=<ID=SVLEN," in header


def _shown(chrom: bytes) -> str:
    return chrom.decode("utf-8", "replace")[:40]


def _positions(text: bytes, cut: int, at: np.ndarray) -> np.ndarray:
    """The decimal number starting at each offset ``at`` of ``text[:cut]`` and ending at a tab.

    Eight bytes at a time (one unaligned 64-bit load per line, digits summed
    in the word: the "SWAR" parse); ``_positions_bytewise`` where a line is
    too short for that.
    """
    import numpy as np

    if len(at) == 0 or int(at.max()) + 16 > cut:
        return _positions_bytewise(np.frombuffer(text, dtype=np.uint8, count=cut), at)
    u = np.uint64
    words = np.ndarray((cut - 7,), dtype="<u8", buffer=text, strides=(1,))
    x = words[at] ^ u(0x3030303030303030)  # a digit's byte becomes its value 0-9
    length = _digits(x)
    if bool((length == 0).any()):
        raise GiveUp("a POS that is not a number")
    short = length < 8
    term = np.where(short, (x >> (u(8) * length.astype(u))) & u(0xFF), u(9 ^ 0x30))
    if not bool((term == u(9 ^ 0x30)).all()):  # the byte after the digits: a tab
        raise GiveUp("a POS that is not a number")
    keep = np.where(short, (u(1) << (u(8) * length.astype(u))) - u(1), u(0xFFFFFFFFFFFFFFFF))
    value = _eight_digits((x & keep) << (u(8) * (u(8) - length.astype(u)))).astype(np.int64)
    long_ = np.flatnonzero(~short)
    if len(long_):  # 9 or 10 digits: the next word holds the rest and the tab
        y = words[at[long_] + 8] ^ u(0x3030303030303030)
        more = _digits(y)
        if bool((more > 2).any()):
            raise GiveUp("a POS of more than 10 digits")
        if not bool((((y >> (u(8) * more.astype(u))) & u(0xFF)) == u(9 ^ 0x30)).all()):
            raise GiveUp("a POS that is not a number")
        tail = np.where(more >= 1, y & u(0xFF), u(0)).astype(np.int64)
        tail = np.where(more == 2, tail * 10 + ((y >> u(8)) & u(0xFF)).astype(np.int64), tail)
        value[long_] = value[long_] * np.where(more == 2, 100, np.where(more == 1, 10, 1)) + tail
    if bool((value <= 0).any()):
        raise GiveUp("POS 0 (a telomere record)")
    return value


def _digits(x: np.ndarray) -> np.ndarray:
    """Leading bytes of each word (XOR 0x30) that are digits, 0-8."""
    import numpy as np

    u = np.uint64
    # a byte's high bit is set where it is >= 10; a carry only leaves a byte already flagged
    flags = ((x + u(0x7676767676767676)) | x) & u(0x8080808080808080)
    below = (flags - u(1)) & ~flags  # the bits under the lowest flag: 7 + 8 * digits (64 if none)
    count = getattr(np, "bitwise_count", None)  # numpy >= 2.0
    if count is not None:
        return (count(below) // 8).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):  # log2(0) where no flag: replaced by 8
        n = (np.log2((below + u(1)).astype(np.float64)) - 7) // 8
    return np.where(flags == 0, 8, n).astype(np.int64)


def _eight_digits(x: np.ndarray) -> np.ndarray:
    """Eight digit values (first byte most significant) summed into one number."""
    import numpy as np

    u = np.uint64
    x = ((x & u(0x0F0F0F0F0F0F0F0F)) * u(2561)) >> u(8)
    x = ((x & u(0x00FF00FF00FF00FF)) * u(6553601)) >> u(16)
    return ((x & u(0x0000FFFF0000FFFF)) * u(42949672960001)) >> u(32)


def _positions_bytewise(arr: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``_positions`` one byte column at a time (lines shorter than 16 bytes from POS on)."""
    import numpy as np

    top = len(arr) - 1
    value = np.zeros(len(at), dtype=np.int64)
    alive = np.ones(len(at), dtype=bool)
    for k in range(_MAX_DIGITS + 1):
        c = arr[np.minimum(at + k, top)]
        digit = c - np.uint8(48)
        is_digit = digit <= 9
        if k == 0 and not bool(is_digit.all()):
            raise GiveUp("a POS that is not a number")
        ended = alive & ~is_digit
        if bool(ended.any()) and not bool((c[ended] == 9).all()):
            raise GiveUp("a POS that is not a number")
        alive &= is_digit
        if not alive.any():
            break
        if k == _MAX_DIGITS:
            raise GiveUp("a POS of more than 10 digits")
        value = np.where(alive, value * 10 + digit, value)
    if bool((value <= 0).any()):
        raise GiveUp("POS 0 (a telomere record)")
    return value
