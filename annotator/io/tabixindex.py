"""Tabix (.tbi) indexes read and rewritten for a re-blocked copy of their file.

The annotated VCF holds the same records in the same order as its bgzipped
input; only the blocks around changed records are re-encoded.  Its index is
therefore the input's index with every virtual offset moved to where the
same byte now sits (``TabixIndex.rewritten``): the bins, chunks and counts
stay as they are, and no pass over the whole output is needed to index it.

Layout (htslib ``tbx.c``/``hts.c``, tabix format of the SAMv1 specification
section 5.2): magic, header, sequence names, then per sequence its bins
(``bin``, chunks of two virtual offsets) and its linear index (one virtual
offset per 16 kb window), then an optional count of unplaced records.  The
pseudo-bin 37450 holds the sequence's first and last offsets and its record
counts (the counts are not offsets and are left alone).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"TBI\x01"
PSEUDO_BIN = 37450
LINEAR_SHIFT = 14
_SLICE = 1 << 16  # offsets moved at a time


class IndexFormatError(ValueError):
    """The file is not a tabix index resmark can read."""


def _inflate_all(data: bytes) -> bytes:
    """All BGZF (or plain gzip) members of ``data``, decompressed."""
    from annotator.io.bgzf import HEADER_SIZE, block_size, inflate_raw

    out = []
    at = 0
    while at < len(data):
        size = block_size(data[at : at + HEADER_SIZE])
        if size is None:  # not BGZF: let gzip find the members
            return gzip.decompress(data)
        out.append(inflate_raw(memoryview(data)[at + HEADER_SIZE : at + size - 8]))
        at += size
    return b"".join(out)


@dataclass(frozen=True)
class _Ref:
    linear_at: int  # byte offset of the linear index in the decompressed index
    n_intv: int
    n_records: int  # mapped records (pseudo-bin), 0 if absent


@dataclass
class TabixIndex:
    raw: bytes  # the decompressed index
    names: list[str]
    refs: dict[str, _Ref]
    offset_at: np.ndarray  # byte positions of every virtual offset field in ``raw``
    n_no_coor: int

    @classmethod
    def load(cls, path: str | Path) -> TabixIndex:
        try:
            raw = _inflate_all(Path(path).read_bytes())
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise IndexFormatError(f"cannot read tabix index {path} ({e})") from e
        return cls.parse(raw, str(path))

    @classmethod
    def parse(cls, raw: bytes, path: str = "index") -> TabixIndex:
        """An index from its decompressed bytes (``path`` names it in messages)."""
        import numpy as np

        if raw[:4] != MAGIC or len(raw) < 36:
            raise IndexFormatError(f"{path} is not a tabix index")
        n_ref = struct.unpack_from("<i", raw, 4)[0]
        l_nm = struct.unpack_from("<i", raw, 32)[0]
        names = [n.decode("utf-8", "replace") for n in raw[36 : 36 + l_nm].split(b"\0")[:n_ref]]
        unpack = struct.unpack_from
        bin_head = struct.Struct("<Ii").unpack_from
        p = 36 + l_nm
        chunk_at: list[int] = []  # start of each run of offsets, and the run's length
        chunk_n: list[int] = []
        refs: dict[str, _Ref] = {}
        linear_at: list[int] = []
        linear_n: list[int] = []
        single_at: list[np.ndarray] = []  # bins of one chunk: where their two offsets start
        try:
            for name in names:
                (n_bin,) = unpack("<i", raw, p)
                p += 4
                n_records = 0
                left = n_bin
                while left:
                    # almost every bin holds one chunk (24 bytes): take each stretch of those at once
                    fit = min(left, (len(raw) - p) // 24)
                    n_chunk = np.ndarray((fit,), dtype="<i4", buffer=raw, offset=p + 4, strides=(24,))
                    other = np.flatnonzero(n_chunk != 1)
                    run = int(other[0]) if len(other) else fit
                    if run:
                        single_at.append(p + 8 + 24 * np.arange(run, dtype=np.int64))
                        p += 24 * run
                        left -= run
                    if not left:
                        break
                    b, nc = bin_head(raw, p)  # a bin of several chunks, or the pseudo-bin
                    if nc < 0:
                        raise IndexFormatError(f"tabix index {path} is damaged (negative chunk count)")
                    p += 8
                    chunk_at.append(p)
                    if b == PSEUDO_BIN:  # first/last offset of the sequence, then two counts
                        chunk_n.append(2)
                        n_records = unpack("<Q", raw, p + 16)[0]
                    else:
                        chunk_n.append(2 * nc)
                    p += 16 * nc
                    left -= 1
                (n_intv,) = unpack("<i", raw, p)
                p += 4
                refs[name] = _Ref(p, n_intv, n_records)
                linear_at.append(p)
                linear_n.append(n_intv)
                p += 8 * n_intv
        except struct.error as e:
            raise IndexFormatError(f"tabix index {path} is truncated") from e
        n_no_coor = unpack("<Q", raw, p)[0] if len(raw) >= p + 8 else 0
        starts = np.concatenate([np.array(chunk_at + linear_at, dtype=np.int64), *single_at])
        counts = np.concatenate([np.array(chunk_n + linear_n, dtype=np.int64),
                                 np.full(sum(len(a) for a in single_at), 2, dtype=np.int64)])
        # field k of a run starting at byte s, the n-th offset overall: s + 8 * (n - first of its run);
        # built in place (fresh temporaries of the index's size cost page faults)
        offset_at = np.arange(int(counts.sum()), dtype=np.int64)
        offset_at *= 8
        offset_at += np.repeat(starts - 8 * (np.cumsum(counts) - counts), counts)
        return cls(raw, names, refs, offset_at, n_no_coor)

    @property
    def n_records(self) -> int:
        return sum(r.n_records for r in self.refs.values()) + self.n_no_coor

    def first_offset(self, chrom: str, pos: int) -> int | None:
        """Virtual offset at or before the first record overlapping 1-based ``pos`` of ``chrom``."""
        ref = self.refs.get(chrom)
        if ref is None or ref.n_intv == 0:
            return None
        window = min((pos - 1) >> LINEAR_SHIFT, ref.n_intv - 1)
        return int(struct.unpack_from("<Q", self.raw, ref.linear_at + 8 * window)[0])

    def rewritten(self, move: Callable[[np.ndarray], np.ndarray]) -> bytes:
        """The index (BGZF-compressed) with every virtual offset ``v`` replaced by ``move(v)``."""
        import numpy as np

        from annotator.io.bgzf import compress

        buf = bytearray(self.raw)
        # offsets sit at any byte alignment: a 64-bit view with a stride of one byte reads and
        # writes each in place; in slices, so that temporaries stay small and are reused
        words = np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
        for i in range(0, len(self.offset_at), _SLICE):
            at = self.offset_at[i : i + _SLICE]
            words[at] = np.asarray(move(words[at]), dtype="<u8")
        # level 1: the index is rewritten on every run and read once per query; size matters less
        return compress(buf, level=1)
