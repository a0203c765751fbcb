"""Whole chunks of VCF text looked at with numpy: line bounds, CHROM runs, POS, region overlap.

Both one-pass readers of unindexed input use these: ``annotator.io.bgzfscan``
(bgzipped files) and ``annotator.io.textscan`` (plain text and plain gzip).
Each function works on a chunk of whole lines held in one ``bytes`` and
makes no Python object per line; the callers decide what a line that does
not fit (a POS that is not a number, a line of another CHROM) means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAX_DIGITS = 10  # POS < 2^31 (VCF 4.3 section 1.6.1)

Regions = Callable[[str], "tuple[np.ndarray, np.ndarray] | None"]  # native CHROM -> merged starts, ends


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


def line_bounds(arr: np.ndarray, begin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and newline offset of each line of ``arr[begin:]`` (which ends with a newline)."""
    import numpy as np

    ends = np.flatnonzero(arr[begin:] == 10)
    if begin:
        ends += begin
    starts = np.empty(len(ends), dtype=np.int64)
    if len(ends):
        starts[0] = begin
        starts[1:] = ends[:-1] + 1
    return starts, ends


def run_length(arr: np.ndarray, starts: np.ndarray, prefix: bytes) -> int:
    """How many of the lines starting at ``starts`` begin with ``prefix`` (CHROM and its tab), in a row.

    Looked at in growing windows, so that a chunk holding many short runs
    (many small contigs) costs about its length, not its length per run.
    """
    import numpy as np

    top = len(arr) - 1
    n = len(starts)
    done = 0
    window = 256
    while done < n:
        at = starts[done : done + window]
        same = np.ones(len(at), dtype=bool)
        for k, c in enumerate(prefix):
            same &= arr[np.minimum(at + k, top)] == c
        if not bool(same.all()):
            return done + int(np.argmin(same))
        done += len(at)
        window *= 8
    return n


def near(spans: tuple[np.ndarray, np.ndarray], pos: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Whether each span ``pos``-``reach`` overlaps one of the merged regions ``spans``."""
    import numpy as np

    r_start, r_end = spans
    j = np.searchsorted(r_start, reach, side="right") - 1
    return (j >= 0) & (r_end[np.maximum(j, 0)] >= pos)


def positions(text: bytes | bytearray, cut: int, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The decimal number starting at each offset ``at`` of ``text[:cut]``, and where it is a POS.

    ``ok`` is true where 1 to 10 digits are followed by a tab and the value
    is positive.  Eight bytes at a time (one unaligned 64-bit load per line,
    digits summed in the word: the "SWAR" parse); byte by byte for offsets
    too close to the end of the text for that.
    """
    import numpy as np

    wide = at + 16 <= cut
    if len(at) and bool(wide.all()):
        return _positions_swar(text, cut, at)
    arr = np.frombuffer(text, dtype=np.uint8, count=cut)
    if not bool(wide.any()):
        return _positions_bytewise(arr, at)
    value = np.zeros(len(at), dtype=np.int64)
    ok = np.zeros(len(at), dtype=bool)
    value[wide], ok[wide] = _positions_swar(text, cut, at[wide])
    value[~wide], ok[~wide] = _positions_bytewise(arr, at[~wide])
    return value, ok


def _positions_swar(text: bytes | bytearray, cut: int, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    u = np.uint64
    words = np.ndarray((cut - 7,), dtype="<u8", buffer=text, strides=(1,))
    x = words[at] ^ u(0x3030303030303030)  # a digit's byte becomes its value 0-9
    length = _digits(x)
    short = length < 8
    shift = u(8) * length.astype(u)
    term = np.where(short, (x >> np.where(short, shift, u(0))) & u(0xFF), u(9 ^ 0x30))
    ok = (length > 0) & (term == u(9 ^ 0x30))  # the byte after the digits: a tab
    keep = np.where(short, (u(1) << np.where(short, shift, u(0))) - u(1), u(0xFFFFFFFFFFFFFFFF))
    value = _eight_digits((x & keep) << (u(64) - shift)).astype(np.int64)
    value[length == 0] = 0
    long_ = np.flatnonzero(~short)
    if len(long_):  # 9 or 10 digits: the next word holds the rest and the tab
        y = words[at[long_] + 8] ^ u(0x3030303030303030)
        more = _digits(y)
        fits = more <= 2
        after = (y >> (u(8) * np.minimum(more, 2).astype(u))) & u(0xFF)
        ok[long_] &= fits & (after == u(9 ^ 0x30))
        tail = np.where(more >= 1, y & u(0xFF), u(0)).astype(np.int64)
        tail = np.where(more == 2, tail * 10 + ((y >> u(8)) & u(0xFF)).astype(np.int64), tail)
        value[long_] = value[long_] * np.where(more == 2, 100, np.where(more == 1, 10, 1)) + tail
    ok &= value > 0
    return value, ok


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


def _positions_bytewise(arr: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``positions`` one byte column at a time (offsets near the end of the text)."""
    import numpy as np

    top = len(arr) - 1
    value = np.zeros(len(at), dtype=np.int64)
    alive = np.ones(len(at), dtype=bool)
    ok = np.ones(len(at), dtype=bool)
    for k in range(MAX_DIGITS + 1):
        c = arr[np.minimum(at + k, top)]
        digit = c.astype(np.int64) - 48
        is_digit = (digit >= 0) & (digit <= 9)
        if k == 0:
            ok &= is_digit
        ended = alive & ~is_digit
        ok &= ~ended | (c == 9)
        alive &= is_digit
        if k == MAX_DIGITS:
            ok &= ~alive  # more than 10 digits
        elif bool(alive.any()):
            value = np.where(alive, value * 10 + digit, value)
        else:
            break
    ok &= value > 0
    return value, ok
