"""Copy a VCF's text into a bgzipped file, changing only some record lines.

``annotator.io.vcfout`` decides what a record becomes (``RecordEditor``) and
what the header says; this module moves the bytes:

* ``copy_blocks``: bgzipped input with a tabix index (its .tbi, the one the
  reading pass built, ``annotator.io.bgzfscan``, or htslib's).  The index gives, for
  each annotated position, a virtual offset at or before its record; only
  those records are read.  Compressed blocks holding no changed line (nor
  the header) are copied unchanged; each run of blocks that does is
  re-encoded as one stream, ending on the same block boundary, so what
  follows can again be copied.  The output's index is the input's with
  every offset moved (``TabixIndex.rewritten``), and its SHA-256 is taken
  while writing.  A changed line that crosses a block boundary takes both
  blocks into the re-encoded run.
* ``copy_chunks`` (``annotator.io.textcopy``): plain text, plain gzip or a
  bgzipped file the block copy cannot take (unsorted), larger than
  ``SCAN_ALL_BYTES``, by chunks of text;
* ``copy_lines`` (``annotator.io.vcflines``): any other text VCF (small,
  unsorted bgzip, no index possible, what the chunk copy leaves), line by line.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import logging
import os
import tempfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.io.bgzf import (
    BLOCK_DATA,
    EOF_BLOCK,
    BgzfError,
    BlockReader,
    BlockWriter,
    copy_range,
)
from annotator.io.tabixindex import IndexFormatError, TabixIndex
from annotator.io.textcopy import copy_chunks
from annotator.io.vcfheader import Undeclared, build_header
from annotator.io.vcflines import CopyError, RecordEditor, Written, container, copy_lines, tabix

__all__ = ["CopyError", "RecordEditor", "Written", "container", "copy", "copy_blocks", "copy_lines", "tabix"]

if TYPE_CHECKING:
    import numpy as np

BLOCK_COPY_MIN_BYTES = 1 << 20  # compressed; smaller bgzipped inputs are copied line by line
SCAN_ALL_BYTES = 8 << 20  # compressed inputs this small have every record checked for undeclared tags

log = logging.getLogger(__name__)


def copy(src: Path, dst: Path, editor: RecordEditor, extra: list[str], kind: str,
         built_index: bytes | None = None, hashing: bool = True) -> Written:
    """``built_index``: the input's index made by the pass that read it, if any (decompressed);
    ``hashing``: take the output's SHA-256 (else its digest is None)."""
    # a small file is quicker to copy line by line than to index and copy by blocks
    if kind == "bgzf" and os.path.getsize(src) >= BLOCK_COPY_MIN_BYTES:
        try:
            with _input_index(src, built_index) as index:
                if index is not None:
                    written = copy_blocks(src, dst, index, editor, extra, hashing)
                    if written is not None:
                        return written
        except (IndexFormatError, BgzfError) as e:
            log.info("%s: copying line by line (%s)", src, e)
    # large text: by chunks (small files keep the line copy and its scan of every record's tags)
    if kind in ("text", "gzip", "bgzf") and os.path.getsize(src) > SCAN_ALL_BYTES:
        written = copy_chunks(src, dst, editor, extra, kind, hashing)
        if written is not None:
            return written
    return copy_lines(src, dst, editor, extra, kind, hashing)


@contextlib.contextmanager
def _input_index(src: Path, built: bytes | None) -> Iterator[TabixIndex | None]:
    """The input's .tbi, the one the reading pass built, or one built by htslib in a temporary
    directory (None: unsorted)."""
    tbi = Path(f"{src}.tbi")
    if tbi.is_file() and tbi.stat().st_mtime >= src.stat().st_mtime - 1:
        yield TabixIndex.load(tbi)
        return
    if built is not None:
        yield TabixIndex.parse(built, f"{src} (index built while reading)")
        return
    import pysam

    with tempfile.TemporaryDirectory(prefix="resmark-tbi-") as tmp:
        made = Path(tmp) / "input.tbi"
        try:
            pysam.tabix_index(str(src), preset="vcf", index=str(made), force=True)
        except Exception as e:  # noqa: BLE001 - unsorted or oddly formed: copy line by line
            log.info("%s: no tabix index (%s); copying line by line", src, e)
            yield None
            return
        yield TabixIndex.load(made)


# ---------------------------------------------------------------- reading lines of BGZF


class LineCursor:
    """Lines of a BGZF file from any virtual offset, with the blocks each line spans."""

    def __init__(self, reader: BlockReader) -> None:
        self.reader = reader
        self.coffs: list[int] = []  # blocks in the window, in order
        self.datas: list[bytes] = []
        self.starts: list[int] = []  # offset of each block's text in ``buf``
        self.buf = b""
        self.pos = 0
        self.next_coff = 0
        self._last = 0

    def seek(self, voff: int) -> None:
        coff, u = voff >> 16, voff & 0xFFFF
        self.coffs, self.datas, self.starts, self.buf = [], [], [], b""
        self.next_coff = coff
        self._load()
        self.pos = u

    def tell(self) -> int:
        i = bisect.bisect_right(self.starts, self.pos) - 1
        if i < 0:
            return self.next_coff << 16
        return self.coffs[i] << 16 | (self.pos - self.starts[i])

    def _load(self) -> bool:
        raw = self.reader.raw(self.next_coff)
        if not raw:
            return False
        data = BlockReader.inflate(raw)
        self.coffs.append(self.next_coff)
        self.datas.append(data)
        self.starts.append(len(self.buf))
        self.buf += data
        self.next_coff += len(raw)
        return True

    def _trim(self) -> None:
        # keep the block the next line starts in and those after it
        while len(self.coffs) > 1 and self.starts[1] <= self.pos:
            cut = self.starts[1]
            del self.coffs[0], self.datas[0], self.starts[0]
            self.starts = [s - cut for s in self.starts]
            self.buf = self.buf[cut:]
            self.pos -= cut

    def next_line(self) -> tuple[bytes, int, int, int] | None:
        """(line with its newline, first block, offset in it, last block), or None at the end."""
        self._trim()
        while True:
            end = self.buf.find(b"\n", self.pos)
            if end >= 0:
                break
            if not self._load():
                if self.pos >= len(self.buf):
                    return None
                end = len(self.buf) - 1  # last line without a newline
                break
        i = bisect.bisect_right(self.starts, self.pos) - 1
        j = bisect.bisect_right(self.starts, end) - 1
        line = self.buf[self.pos : end + 1]
        self._last = self.pos
        start_u = self.pos - self.starts[i]
        self.pos = end + 1
        return line, self.coffs[i], start_u, self.coffs[j]

    def unread(self) -> None:
        self.pos = self._last

    def block_at(self, coff: int) -> tuple[bytes, int]:
        """Text of the block at ``coff`` and the offset of the next block (window, else the file)."""
        for i in range(len(self.coffs) - 1, -1, -1):
            if self.coffs[i] == coff:
                after = self.coffs[i + 1] if i + 1 < len(self.coffs) else self.next_coff
                return self.datas[i], after
        raw = self.reader.raw(coff)
        if not raw:
            raise BgzfError(f"no BGZF block at byte {coff}")
        return BlockReader.inflate(raw), coff + len(raw)


# ---------------------------------------------------------------- re-encoded runs


@dataclass
class _Run:
    """Consecutive input blocks re-encoded as one stream, with the edits made inside it."""

    old_start: int  # compressed offset of its first input block
    new_start: int  # and of its first output block
    old_coffs: list[int] = field(default_factory=list)
    old_ustart: list[int] = field(default_factory=list)  # text offset of each input block in the run
    ustart_of: dict[int, int] = field(default_factory=dict)
    old_len: int = 0
    edit_at: array = field(default_factory=lambda: array("q"))  # run text offset of each changed line
    edit_delta: array = field(default_factory=lambda: array("q"))  # cumulative bytes added up to it
    new_coffs: list[int] = field(default_factory=list)
    new_len: int = 0
    old_end: int = 0
    new_end: int = 0
    pending: bytearray = field(default_factory=bytearray)  # new text not yet in a block
    old_text: bytearray = field(default_factory=bytearray)  # input text not yet emitted
    emitted_old: int = 0  # run text offset up to which input text was emitted

    def add_block(self, coff: int, data: bytes, next_coff: int) -> None:
        self.old_coffs.append(coff)
        self.old_ustart.append(self.old_len)
        self.ustart_of[coff] = self.old_len
        self.old_len += len(data)
        self.old_text += data
        self.old_end = next_coff

    def ustart(self, coff: int) -> int:
        return self.ustart_of[coff]

    def replace(self, at: int, old_len: int, new: bytes, out: BlockWriter) -> None:
        self._emit(at - self.emitted_old, out)
        del self.old_text[:old_len]
        self.emitted_old = at + old_len
        total = self.edit_delta[-1] if self.edit_delta else 0
        self.edit_at.append(at)
        self.edit_delta.append(total + len(new) - old_len)
        self._push(new, out)

    def _emit(self, n: int, out: BlockWriter) -> None:
        self._push(bytes(self.old_text[:n]), out)
        del self.old_text[:n]

    def _push(self, text: bytes, out: BlockWriter) -> None:
        self.pending += text
        self.new_len += len(text)
        while len(self.pending) >= BLOCK_DATA:
            self.new_coffs += out.encode(bytes(self.pending[:BLOCK_DATA]))
            del self.pending[:BLOCK_DATA]

    def close(self, out: BlockWriter, next_coff: int) -> None:
        self._emit(len(self.old_text), out)
        self.emitted_old = self.old_len
        if self.pending:
            self.new_coffs += out.encode(bytes(self.pending))
            self.pending.clear()
        self.old_end = next_coff
        self.new_end = out.offset


def _move(runs: list[_Run], v: np.ndarray) -> np.ndarray:
    """Each input virtual offset -> the output's offset of the same byte."""
    import numpy as np

    coff = (v >> np.uint64(16)).astype(np.int64)
    u = (v & np.uint64(0xFFFF)).astype(np.int64)
    if not runs:
        return v.astype(np.uint64)
    starts = np.array([r.old_start for r in runs], dtype=np.int64)
    ends = np.array([r.old_end for r in runs], dtype=np.int64)
    shift = np.array([r.new_end - r.old_end for r in runs], dtype=np.int64)
    k = np.searchsorted(starts, coff, side="right") - 1
    before = k < 0
    kk = np.maximum(k, 0)
    inside = ~before & (coff < ends[kk])
    # in a copied range: the block moved by what the re-encoded runs before it grew or shrank
    moved = (((coff + shift[kk]) << 16) | u).astype(np.uint64)
    out = np.where(before | inside, v.astype(np.uint64), moved)
    hit = np.nonzero(inside)[0]  # few: the offsets inside re-encoded runs
    order = hit[np.argsort(kk[hit], kind="stable")]
    groups = np.unique(kk[order], return_index=True)
    bounds = [*groups[1].tolist(), len(order)]
    for n, r_i in enumerate(groups[0].tolist()):
        run = runs[r_i]
        sel = order[bounds[n] : bounds[n + 1]]
        bi = np.searchsorted(np.array(run.old_coffs, dtype=np.int64), coff[sel], side="right") - 1
        off = np.array(run.old_ustart, dtype=np.int64)[bi] + u[sel]
        at = np.frombuffer(run.edit_at, dtype=np.int64) if run.edit_at else np.zeros(0, np.int64)
        delta = np.concatenate([[0], np.frombuffer(run.edit_delta, dtype=np.int64)]) if run.edit_delta \
            else np.zeros(1, np.int64)
        off2 = off + delta[np.searchsorted(at, off, side="left")]
        blk = np.minimum(off2 // BLOCK_DATA, max(len(run.new_coffs) - 1, 0))
        new_coffs = np.array(run.new_coffs or [run.new_end], dtype=np.int64)
        inner = (new_coffs[blk] << 16) | (off2 - blk * BLOCK_DATA)
        at_end = off2 >= run.new_len
        out[sel] = np.where(at_end, run.new_end << 16, inner).astype(np.uint64)
    return out


# ---------------------------------------------------------------- the two copiers


def _read_header(cursor: LineCursor) -> tuple[str, int, int]:
    """Header text, the block holding its last byte, and its length in bytes."""
    cursor.seek(0)
    parts: list[bytes] = []
    last = 0
    while True:
        got = cursor.next_line()
        if got is None or not got[0].startswith(b"#"):
            if got is not None:
                cursor.unread()
            break
        parts.append(got[0])
        last = got[3]
        if got[0].startswith(b"#CHROM"):
            break
    text = b"".join(parts)
    if not text.rstrip().split(b"\n")[-1].startswith(b"#CHROM"):
        raise CopyError("no #CHROM header line")
    return text.decode("utf-8", "surrogateescape"), last, len(text)


def _targets(index: TabixIndex, editor: RecordEditor) -> Iterator[tuple[str, int, int]]:
    for chrom in index.names:
        for pos in sorted(editor.positions.get(chrom, ())):
            v = index.first_offset(chrom, pos)
            if v is not None:
                yield chrom, pos, v


def _lines_at(cursor: LineCursor, index: TabixIndex, editor: RecordEditor
              ) -> Iterator[tuple[bytes, int, int, int]]:
    """Every record line at an annotated position, in file order."""
    on = None
    for chrom, pos, v in _targets(index, editor):
        if on != chrom or cursor.tell() < v:
            cursor.seek(v)
            on = chrom
        cb, pb = chrom.encode("latin-1"), pos
        while (got := cursor.next_line()) is not None:
            f = got[0].split(b"\t", 2)
            if len(f) < 3 or f[0] != cb:
                cursor.unread()
                break
            try:
                p = int(f[1])
            except ValueError:
                continue
            if p < pb:
                continue
            if p > pb:
                cursor.unread()
                break
            yield got


def copy_blocks(src: Path, dst: Path, index: TabixIndex, editor: RecordEditor, extra: list[str],
                hashing: bool = True) -> Written | None:
    """Block copy (module docstring); None when the input needs every line rewritten."""
    with open(src, "rb") as fh:
        cursor = LineCursor(BlockReader(fh))
        header, header_last, header_len = _read_header(cursor)
        undeclared = Undeclared.of_header(header.split("\n"))
        if os.path.getsize(src) <= SCAN_ALL_BYTES:
            while (got := cursor.next_line()) is not None:
                undeclared.scan(got[0])
        else:
            for got in _lines_at(cursor, index, editor):
                undeclared.scan(got[0])
        text, stale = build_header(header, extra, undeclared)
        if stale:
            return None
        tbi = dst.with_name(dst.name + ".tbi")
        with open(dst, "wb") as out_fh, open(src, "rb") as raw_fh:
            # re-encoded runs at ISA-L's fastest level (~1.7x level 3's speed, ~5 % larger
            # blocks): they are few (21 of the 5M WGS file's 11,362 blocks), the rest is copied
            out = BlockWriter(out_fh, level=1, hashing=hashing)
            runs: list[_Run] = []
            run = _Run(0, 0)
            _extend(run, cursor, header_last)
            run.replace(0, header_len, text.encode("utf-8", "surrogateescape"), out)
            for line, first, start_u, last in _lines_at(cursor, index, editor):
                new = editor.edit(line)
                if new is None:
                    continue
                if first >= run.old_end:  # a gap of unchanged blocks: copy them as they are
                    run.close(out, run.old_end)
                    runs.append(run)
                    copy_range(raw_fh, run.old_end, first, out)
                    run = _Run(first, out.offset, old_end=first)
                _extend(run, cursor, last)
                run.replace(run.ustart(first) + start_u, len(line), new, out)
            run.close(out, run.old_end)
            runs.append(run)
            size = os.path.getsize(src)
            copy_range(raw_fh, run.old_end, size, out)
            raw_fh.seek(max(0, size - len(EOF_BLOCK)))
            if raw_fh.read() != EOF_BLOCK:
                out.write_raw(EOF_BLOCK)
            digest = out.digest()
        index_bytes = index.rewritten(lambda v: _move(runs, v))
        tbi.write_bytes(index_bytes)
    return Written(index.n_records, {dst.name: digest, tbi.name: hashlib.sha256(index_bytes).hexdigest()})


def _extend(run: _Run, cursor: LineCursor, last: int) -> None:
    """Take the input blocks after the run's last one, up to ``last``, into the run."""
    while run.old_end <= last:
        data, after = cursor.block_at(run.old_end)
        run.add_block(run.old_end, data, after)
