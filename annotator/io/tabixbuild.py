"""A tabix (.tbi) index built while a bgzipped VCF is written, equal to htslib's.

``copy_lines`` writes every record of the annotated VCF itself, so it knows
where each line starts and ends; indexing the written file with htslib
(``pysam.tabix_index``) read it again, compressed a linear index of mostly
repeated offsets with zlib, and ``fdatasync``-ed the index: ~3 ms of CPU and
a disk flush per sample of a cohort.  ``TbiBuilder`` takes each record's
chromosome, POS, REF length and virtual offsets and makes the same index:
htslib's ``hts_idx_push`` / ``hts_idx_finish`` (binning, the merging of small
bins into their parents, the linear index), its tabix header for the ``vcf``
preset, and its bin order, which is the order of htslib's hash table
(``KHash``: klib's ``khash``, integer keys, quadratic probing).  Decompressed,
the bytes equal htslib's (a test compares them with ``pysam.tabix_index`` on
every bundled VCF); only the BGZF compression of the index differs.

Only records whose extent is POS to POS + len(REF) - 1 are built here: a
record with ``END=`` or ``SVLEN=`` in INFO, a symbolic ALT (``<...>``), a
POS that is not a plain positive integer, an empty REF, fewer than 8
columns, a carriage return, or positions beyond the tabix range make
``build`` return None, and the caller indexes the file with htslib as
before; so do unsorted records and a chromosome that resumes after another.
"""

from __future__ import annotations

import bisect
import re
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MIN_SHIFT = 14  # tabix: 16 kb linear windows, 5 levels of bins
N_LVLS = 5
N_BINS = ((1 << (3 * N_LVLS + 3)) - 1) // 7  # 37449
_FIRST_BIN = tuple(((1 << (3 * lvl)) - 1) // 7 for lvl in range(N_LVLS + 1))  # first bin per level: 0, 1, 9, 73, 585, 4681
META_BIN = N_BINS + 1  # the pseudo-bin: the sequence's first/last offsets and record counts
MAX_POS = 1 << (MIN_SHIFT + 3 * N_LVLS)
MIN_MARKER_DIST = 0x10000
UNSET = 0xFFFFFFFF
# tbx_conf_vcf: preset TBX_VCF, columns seq 1, begin 2, end 0, meta char '#', no skipped lines
_VCF_CONF = (2, 1, 2, 0, ord("#"), 0)
_POS = re.compile(rb"[1-9][0-9]*\Z")
_U64 = struct.Struct("<Q").pack
_ONE_CHUNK = struct.Struct("<IiQQ").pack


def reg2bin(beg: int, end: int) -> int:
    """htslib ``hts_reg2bin`` for 0-based [beg, end)."""
    end -= 1
    if beg >> MIN_SHIFT == end >> MIN_SHIFT:  # most records: one 16 kb bin of the deepest level
        return _FIRST_BIN[N_LVLS] + (beg >> MIN_SHIFT)
    s, t = MIN_SHIFT, N_BINS
    for lvl in range(N_LVLS, 0, -1):
        t -= 1 << (3 * lvl)
        if beg >> s == end >> s:
            return t + (beg >> s)
        s += 3
    return 0


class KHash:
    """klib ``khash`` with integer keys (bin -> chunk list), as htslib stores an index's bins.

    Only what the index needs: put, get, delete, and iteration in bucket order.
    """

    def __init__(self) -> None:
        self.n_buckets = self.size = self.n_occupied = self.upper_bound = 0
        self.keys: list[int] = []
        self.vals: list[list[list[int]]] = []
        self.empty: list[bool] = []
        self.deleted: list[bool] = []
        self._at: dict[int, int] = {}  # key -> bucket of the live keys (lookups without probing)

    def _resize(self, new_n: int) -> None:
        new_n = max(4, 1 << (new_n - 1).bit_length()) if new_n > 1 else 4
        if self.size >= int(new_n * 0.77 + 0.5):
            return  # requested size too small
        new_empty = [True] * new_n
        if self.n_buckets < new_n:
            grow = new_n - self.n_buckets
            self.keys += [0] * grow
            self.vals += [[] for _ in range(grow)]
        mask = new_n - 1
        for j in range(self.n_buckets):
            if self.empty[j] or self.deleted[j]:
                continue
            key, val = self.keys[j], self.vals[j]
            self.deleted[j] = True
            while True:  # klib's kick-out rehash, in place
                i, step = key & mask, 0
                while not new_empty[i]:
                    step += 1
                    i = (i + step) & mask
                new_empty[i] = False
                if i < self.n_buckets and not (self.empty[i] or self.deleted[i]):
                    self.keys[i], key = key, self.keys[i]
                    self.vals[i], val = val, self.vals[i]
                    self.deleted[i] = True
                else:
                    self.keys[i], self.vals[i] = key, val
                    break
        if self.n_buckets > new_n:
            del self.keys[new_n:], self.vals[new_n:]
        self.empty = new_empty
        self.deleted = [False] * new_n
        self.n_buckets = new_n
        self._at = {self.keys[i]: i for i in range(new_n) if not new_empty[i]}
        self.n_occupied = self.size
        self.upper_bound = int(new_n * 0.77 + 0.5)

    def put(self, key: int) -> list[list[int]]:
        """The value at ``key`` (a new empty list when absent)."""
        if self.n_occupied >= self.upper_bound:  # even when the key is present, as klib
            self._resize(self.n_buckets - 1 if self.n_buckets > self.size << 1 else self.n_buckets + 1)
        found = self._at.get(key)
        if found is not None:
            return self.vals[found]
        mask = self.n_buckets - 1
        x = site = self.n_buckets
        i = key & mask
        if self.empty[i]:
            x = i
        else:
            last, step = i, 0
            while not self.empty[i] and (self.deleted[i] or self.keys[i] != key):
                if self.deleted[i]:
                    site = i
                step += 1
                i = (i + step) & mask
                if i == last:
                    x = site
                    break
            if x == self.n_buckets:
                x = site if self.empty[i] and site != self.n_buckets else i
        if self.empty[x]:
            self.n_occupied += 1
        self.keys[x], self.vals[x] = key, []
        self.empty[x] = self.deleted[x] = False
        self.size += 1
        self._at[key] = x
        return self.vals[x]

    def get(self, key: int) -> int | None:
        """The bucket holding ``key``, None when absent."""
        return self._at.get(key)

    def delete(self, bucket: int) -> None:
        if not (self.empty[bucket] or self.deleted[bucket]):
            self.deleted[bucket] = True
            self.size -= 1
            del self._at[self.keys[bucket]]

    def live(self) -> list[int]:
        """Buckets holding a key, in bucket order (htslib's iteration order)."""
        return sorted(self._at.values())


@dataclass
class _Ref:
    bins: KHash = field(default_factory=KHash)
    windows: dict[int, int] = field(default_factory=dict)  # linear window -> first offset
    n_intv: int = 0
    built: bytes = b""  # its part of the index, once its records are all in (then bins are freed)


class TbiBuilder:
    """Records pushed in file order (``add``), then ``build`` -> the .tbi's decompressed bytes."""

    def __init__(self, first_offset: int) -> None:
        self.ok = True  # False: a record htslib would index differently, or not at all
        self.names: list[bytes] = []
        self._refs: dict[bytes, _Ref] = {}
        self._ref: _Ref | None = None  # the chromosome being read
        self._chrom = b""
        self._save_ref: _Ref | None = None
        self._save_bin = self._last_bin = UNSET
        self._save_off = self._last_off = self._off_beg = first_offset
        self._last_coor = -1
        self._n_mapped = 0

    def add(self, line: bytes, end_offset: int) -> None:
        """One record line (with or without its newline) ending at virtual offset ``end_offset``."""
        if not self.ok:
            return
        cols = line.split(b"\t", 8)
        if (len(cols) < 8 or not cols[0] or not cols[3] or _POS.match(cols[1]) is None
                or b"<" in cols[4] or b"END=" in cols[7] or b"SVLEN=" in cols[7]
                or b"\r" in line or b"\0" in line):
            self.ok = False
            return
        beg = int(cols[1]) - 1
        end = beg + len(cols[3])
        if end > MAX_POS:
            self.ok = False
            return
        self._push(cols[0], beg, end, end_offset)

    def add_many(self, chrom: bytes, beg: np.ndarray, end: np.ndarray, end_offsets: np.ndarray) -> None:
        """Records of one CHROM in file order at once, as ``add`` of each line would index them.

        ``beg``/``end``: each record's 0-based extent (end exclusive); ``end_offsets``: the
        virtual offset where its line ends.  The caller checks what ``add`` checks in the
        line (columns, symbolic ALT, ``END=``/``SVLEN=``, POS written as a plain number).
        Bins, windows and chunks are found with numpy; Python runs once per chunk (a change
        of bin: ~1 in 25 records of a WGS file), where htslib's hash table is filled.
        """
        import numpy as np

        n = len(beg)
        if not self.ok or not n:
            return
        ref = self._enter(chrom, int(beg[0]))
        if ref is None:
            return
        if (n > 1 and bool(np.any(beg[1:] < beg[:-1]))) or int(end.max()) > MAX_POS \
                or bool(np.any(end <= beg)) or int(beg[0]) < 0:
            self.ok = False
            return
        starts = np.empty(n, dtype=np.int64)  # each record's start: where the line before it ended
        starts[0] = self._last_off
        starts[1:] = end_offsets[:-1]
        first, last = beg >> MIN_SHIFT, (end - 1) >> MIN_SHIFT
        bins = _FIRST_BIN[N_LVLS] + first
        wide = np.flatnonzero(first != last)  # few: records reaching past their 16 kb window
        win, off = first, starts
        if len(wide):
            for i in wide.tolist():
                bins[i] = reg2bin(int(beg[i]), int(end[i]))
            span = (last[wide] - first[wide] + 1)
            extra = np.repeat(first[wide], span) + (np.arange(int(span.sum()))
                                                     - np.repeat(np.cumsum(span) - span, span))
            win = np.concatenate([first, extra])
            off = np.concatenate([starts, np.repeat(starts[wide], span)])
        # each window's first offset: that of the first record touching it (offsets grow)
        order = np.lexsort((off, win))
        w_sorted = win[order]
        keep = np.flatnonzero(np.concatenate([[True], w_sorted[1:] != w_sorted[:-1]]))
        windows = ref.windows
        for w, o in zip(w_sorted[keep].tolist(), off[order][keep].tolist(), strict=True):
            windows.setdefault(w, o)
        ref.n_intv = max(ref.n_intv, int(last.max()) + 1)
        prev = np.empty(n, dtype=np.int64)
        prev[0] = self._last_bin
        prev[1:] = bins[:-1]
        base = self._n_mapped
        change = np.flatnonzero(bins != prev)
        at, offs, new = change.tolist(), starts[change].tolist(), bins[change].tolist()
        k = 0
        if at and at[0] == 0:  # the bin of the first record changed: maybe a new chromosome, as ``_push``
            self._last_off = offs[0]
            self._new_bin(ref, new[0])
            base = self._n_mapped  # 0 when a chromosome began: its records are counted from here
            k = 1
        # the other changes of bin, within this chromosome: ``_new_bin`` without its checks
        put = ref.bins.put
        save_bin, save_off = self._save_bin, self._save_off
        for start, b in zip(offs[k:], new[k:], strict=True):
            put(save_bin).append([save_off, start])
            save_bin, save_off = b, start
        self._save_bin = self._last_bin = save_bin
        self._save_off = save_off
        self._save_ref = ref
        self._n_mapped = base + n
        self._last_off = int(end_offsets[-1])
        self._last_coor = int(beg[-1])

    def _enter(self, chrom: bytes, beg: int) -> _Ref | None:
        """The sequence a record of ``chrom`` at ``beg`` goes to (None: htslib would refuse it)."""
        ref = self._ref
        if ref is None or chrom != self._chrom:
            if chrom in self._refs:  # "chromosome blocks not continuous"
                self.ok = False
                return None
            ref = self._ref = self._refs[chrom] = _Ref()
            self._chrom = chrom
            self.names.append(chrom)
            self._last_bin = UNSET
        elif self._last_coor > beg:  # unsorted
            self.ok = False
            return None
        return ref

    def _push(self, chrom: bytes, beg: int, end: int, offset: int) -> None:
        """htslib ``hts_idx_push`` for a mapped record."""
        ref = self._enter(chrom, beg)
        if ref is None:
            return
        first, last = beg >> MIN_SHIFT, (end - 1) >> MIN_SHIFT
        windows = ref.windows
        if first == last:  # most records: one window, one bin of the deepest level
            if first not in windows:
                windows[first] = self._last_off
            b = _FIRST_BIN[N_LVLS] + first
        else:
            for w in range(first, last + 1):
                windows.setdefault(w, self._last_off)
            b = reg2bin(beg, end)
        if last >= ref.n_intv:
            ref.n_intv = last + 1
        if self._last_bin != b:
            self._new_bin(ref, b)
        self._n_mapped += 1
        self._last_off = offset
        self._last_coor = beg

    def _new_bin(self, ref: _Ref, b: int) -> None:
        """The record starts another chunk: the last one goes to its bin (htslib order)."""
        if self._save_bin != UNSET:
            assert self._save_ref is not None
            self._save_ref.bins.put(self._save_bin).append([self._save_off, self._last_off])
            if self._last_bin == UNSET:  # a new chromosome: close the last one's pseudo-bin
                # one put per chunk, as htslib: a put may grow the table, which orders the bins
                self._save_ref.bins.put(META_BIN).append([self._off_beg, self._last_off])
                self._save_ref.bins.put(META_BIN).append([self._n_mapped, 0])
                self._n_mapped = 0
                self._off_beg = self._last_off
                _close(self._save_ref)  # complete: a whole genome's bins are not held at once
        self._save_off = self._last_off
        self._save_bin = self._last_bin = b
        self._save_ref = ref

    def build(self, final_offset: int) -> bytes | None:
        """The decompressed index (htslib ``hts_idx_finish`` + ``hts_idx_save``); None: use htslib.

        ``final_offset``: where htslib's reader stands after the last line, the start of
        the block after the last data block (the EOF block).
        """
        if not self.ok or self._save_ref is None:
            return None
        self._save_ref.bins.put(self._save_bin).append([self._save_off, final_offset])
        self._save_ref.bins.put(META_BIN).append([self._off_beg, final_offset])
        self._save_ref.bins.put(META_BIN).append([self._n_mapped, 0])
        _close(self._save_ref)
        names = b"".join(n + b"\0" for n in self.names)
        out = [b"TBI\x01", struct.pack("<i6ii", len(self.names), *_VCF_CONF, len(names)), names]
        out += [self._refs[name].built for name in self.names]
        out.append(struct.pack("<Q", 0))  # records without coordinates
        return b"".join(out)


def _close(ref: _Ref) -> None:
    """A sequence's bins and linear index as the .tbi stores them (htslib ``hts_idx_save``)."""
    _compress_binning(ref.bins)
    live = ref.bins.live()
    out = [struct.pack("<i", len(live))]
    keys, vals = ref.bins.keys, ref.bins.vals
    for k in live:
        chunks = vals[k]
        if len(chunks) == 1:  # most bins
            out.append(_ONE_CHUNK(keys[k], 1, *chunks[0]))
        else:
            out.append(struct.pack(f"<Ii{2 * len(chunks)}Q", keys[k], len(chunks),
                                   *(x for c in chunks for x in c)))
    out.append(struct.pack("<i", ref.n_intv))
    out.append(_linear(ref))
    ref.built = b"".join(out)
    ref.bins, ref.windows = KHash(), {}


def extents(text: bytes | bytearray, pos: np.ndarray, starts: np.ndarray, ends: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray] | None:
    """0-based extent (begin, end exclusive) of the record lines ``text[starts:ends]`` of POS ``pos``.

    For ``add_many``.  REF is read only for the lines long enough to reach past their
    16 kb window (REF is no longer than its line): elsewhere any REF gives the same
    bin and windows as a 1-base one.  None: a line of those has fewer than 8 columns
    or no REF (``add`` refuses such lines).
    """
    import numpy as np

    beg = pos - 1
    end = beg + 1
    for i in np.flatnonzero(((beg + (ends - starts) - 1) >> MIN_SHIFT) != (beg >> MIN_SHIFT)).tolist():
        cols = text[int(starts[i]) : int(ends[i])].split(b"\t", 8)
        if len(cols) < 8 or not cols[3]:
            return None
        end[i] = beg[i] + len(cols[3])
    return beg, end


def _linear(ref: _Ref) -> bytes:
    """The linear index: each window's first offset, a window without records taking the next one's.

    A panel record on every chromosome makes ~10^5 windows, nearly all empty: each run of
    windows that take the same offset is one repeated 8-byte value (the last window always
    holds a record)."""
    out = []
    prev = -1
    for w in sorted(ref.windows):
        out.append(_U64(ref.windows[w]) * (w - prev))
        prev = w
    return b"".join(out)


def _parent(b: int) -> int:
    return (b - 1) >> 3



def _level(b: int) -> int:
    return bisect.bisect_right(_FIRST_BIN, b) - 1


def _compress_binning(bins: KHash) -> None:
    """htslib ``compress_binning``: a bin whose chunks span < 64 KiB of compressed file joins
    its parent (when the parent exists), level by level; then each bin's chunks that start in
    the block where the previous one ends are merged.

    htslib's pass for level l also looks again at the deeper bins left in place: nothing
    joins a parent then (no bin is added, and a bin's chunks are final after its own
    pass) and their chunks are in order already, so each bin is looked at once, in its
    level's pass, in htslib's (bucket) order.
    """
    by_level: list[list[int]] = [[] for _ in range(N_LVLS + 1)]
    for k in bins.live():
        key = bins.keys[k]
        if key < N_BINS:
            by_level[_level(key)].append(k)
    for lvl in range(N_LVLS, 0, -1):
        for k in by_level[lvl]:
            chunks = bins.vals[k]
            if lvl < N_LVLS and len(chunks) > 1:
                chunks.sort(key=lambda c: c[0])
            if (chunks[-1][1] >> 16) - (chunks[0][0] >> 16) < MIN_MARKER_DIST:
                kp = bins.get(_parent(bins.keys[k]))
                if kp is None:
                    continue
                bins.vals[kp].extend(chunks)
                bins.delete(k)
    k0 = bins.get(0)
    if k0 is not None:
        bins.vals[k0].sort(key=lambda c: c[0])
    for k in bins.live():
        if bins.keys[k] >= N_BINS:
            continue
        chunks = bins.vals[k]
        merged = [chunks[0]]
        for c in chunks[1:]:
            if merged[-1][1] >> 16 >= c[0] >> 16:
                merged[-1][1] = max(merged[-1][1], c[1])
            else:
                merged.append(c)
        bins.vals[k] = merged
