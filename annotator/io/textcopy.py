"""Copy a large text VCF into a bgzipped file by chunks of text, not lines.

Plain text, plain gzip, and the bgzipped files the block copy cannot take
(``annotator.io.vcfcopy``: unsorted, an index that cannot be read) are read
as text here.

``annotator.io.vcflines.copy_lines`` handles every line in Python: ~7 us a
line, 36 s for 5M records.  Here the text is read in chunks of several MB;
numpy finds the lines, their CHROM runs and POS (``annotator.io.linescan``);
only the lines at an annotated position become Python objects (edited by
``RecordEditor``, and looked at for undeclared tags, as the block copy of a
bgzipped input does); each chunk goes out as one piece with its few lines
replaced, and the index gets the chunk's records at once
(``TbiBuilder.add_many``).

The header declares the undeclared tags of the edited records, which are
known only at the end.  It is written first as the input's header makes it,
in blocks of its own; when the edited records turn out to need more
declarations (rare), the output is made again: the new header's blocks,
then the body's blocks copied (``bgzf.copy_range``), and the
index has every offset moved by the difference in the header's compressed
size.  Decompressed, the output is what ``copy_lines`` writes for a file of
this size; the compression (ISA-L level 1, ~1.7x faster than the level-6
default for ~5 % more bytes) and the block layout differ.

What the chunk path does not vouch for it leaves to ``copy_lines``
(``copy_chunks`` returns None before the output is made): stale RESMARK_*
declarations (every record is rewritten), blank or ``#`` lines among the
records (``copy_lines`` drops them), carriage returns, a line longer than
``MAX_CARRY``.  Records htslib's indexer reads its own way (symbolic ALT,
``END=``, ``SVLEN=``, unsorted) leave the index to htslib, as in
``copy_lines``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from annotator.io import linescan, tabixbuild
from annotator.io.bgzf import BLOCK_DATA, EOF_BLOCK, BlockWriter, compress, copy_range
from annotator.io.tabixindex import TabixIndex
from annotator.io.vcfheader import Undeclared, build_header
from annotator.io.vcflines import CopyError, RecordEditor, Written, tabix

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

CHUNK = 8 << 20  # text read at a time
MAX_CARRY = 64 << 20  # a line longer than this is left to the line-by-line copy
LEVEL = 1  # BlockWriter level 1: ISA-L's level 1 (zlib's 1 without ISA-L)
_ODD_FIRST = b"#\n\r \t"  # a record line starting so is blank or '#': copy_lines drops it
_SPAN_TAGS = (b"END=", b"SVLEN=")  # with a symbolic ALT: records htslib's indexer reads its own way


def _isal_errors() -> tuple[type[Exception], ...]:
    try:  # ISA-L's reader raises its own error for damaged data (not a zlib.error)
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency
        return ()
    error = getattr(isal_zlib, "error", None)
    return (error,) if isinstance(error, type) and issubclass(error, Exception) else ()


# what a damaged or truncated input raises while it is read
_READ_ERRORS: tuple[type[Exception], ...] = (EOFError, zlib.error, gzip.BadGzipFile, *_isal_errors())


class _LeaveIt(Exception):
    """The chunk path cannot copy this file as ``copy_lines`` would; the reason is logged."""


@contextlib.contextmanager
def _open_text(src: Path, kind: str) -> Iterator[IO[bytes]]:
    if kind == "text":
        with open(src, "rb") as fh:
            yield fh
        return
    try:  # ISA-L's gzip reader: the same format, ~3x faster than zlib's
        from isal import igzip
    except ImportError:  # pragma: no cover - isal is a dependency
        with gzip.open(src, "rb") as gz:
            yield gz  # type: ignore[misc]
        return
    with igzip.open(src, "rb") as gz:
        yield gz


def copy_chunks(src: Path, dst: Path, editor: RecordEditor, extra: list[str], kind: str,
                hashing: bool = True) -> Written | None:
    """The chunk copy (module docstring); None: left to ``copy_lines``, nothing written.

    ``hashing``: take the output's SHA-256."""
    try:
        with _open_text(src, kind) as fh, open(dst, "w+b") as out_fh:
            header = _read_header(fh)
            undeclared = Undeclared.of_header(header.split("\n"))
            first, stale = build_header(header, extra, undeclared)
            if stale:
                raise _LeaveIt("stale RESMARK_* declarations: every record is rewritten")
            out = BlockWriter(out_fh, LEVEL, hashing)
            out.encode(first.encode("utf-8", "surrogateescape"))
            body = _Body(editor, undeclared, out, spans_tags="ID=END," in header or "ID=SVLEN," in header)
            body.read(fh)
            out.seal()
            end = out.offset
            final, _ = build_header(header, extra, undeclared)
            shift = 0
            if final != first:  # the edited records use tags the input's header lacks
                out_fh.flush()
                again = dst.with_name(dst.name + ".tmp")
                try:
                    with open(again, "wb") as again_fh:
                        out = BlockWriter(again_fh, LEVEL, hashing)
                        out.encode(final.encode("utf-8", "surrogateescape"))
                        shift = out.offset - body.begin
                        copy_range(out_fh, body.begin, end, out)
                        out.write_raw(EOF_BLOCK)
                    os.replace(again, dst)
                finally:
                    again.unlink(missing_ok=True)
            else:
                out.write_raw(EOF_BLOCK)
            digest = out.digest()
    except _LeaveIt as e:
        log.info("%s: copied line by line (%s)", src, e)
        dst.unlink(missing_ok=True)
        return None
    except _READ_ERRORS as e:
        raise CopyError(str(e)) from e
    built = body.index.build(end << 16) if body.index is not None else None
    if built is None:  # records htslib reads its own way: its index, as copy_lines leaves it
        tabix(dst)
        return Written(body.records, {dst.name: digest})
    if shift:
        import numpy as np

        moved = np.int64(shift << 16)  # the body's blocks moved with the longer header
        index_bytes = TabixIndex.parse(built, str(dst)).rewritten(
            lambda v: (v.astype(np.int64) + moved).astype(np.uint64))
    else:
        index_bytes = compress(built, level=1)  # as TabixIndex.rewritten
    tbi = dst.with_name(dst.name + ".tbi")
    tbi.write_bytes(index_bytes)
    return Written(body.records, {dst.name: digest, tbi.name: hashlib.sha256(index_bytes).hexdigest()})


def _read_header(fh: IO[bytes]) -> str:
    parts = []
    while True:
        line = fh.readline()
        if not line or not line.startswith(b"#"):
            raise CopyError("no #CHROM header line")
        parts.append(line)
        if line.startswith(b"#CHROM"):
            return b"".join(parts).decode("utf-8", "surrogateescape")


class _Body:
    """Record lines from the end of the header on: edited, blocked and indexed a chunk at a time."""

    def __init__(self, editor: RecordEditor, undeclared: Undeclared, out: BlockWriter,
                 spans_tags: bool) -> None:
        # END=/SVLEN= are looked for in every chunk only when the header declares them, else in
        # the first (as bgzfscan does): a search for them costs more than the rest of the pass
        self.spans_tags = spans_tags
        self._first = True
        self.editor = editor
        self.undeclared = undeclared
        self.out = out
        self.begin = out.offset  # where the body's first block starts (after the header's)
        self._first_block = len(out.starts)
        self.index: tabixbuild.TbiBuilder | None = tabixbuild.TbiBuilder(self.begin << 16)
        self.records = 0
        self.written = 0  # body text given to ``out``
        self._wanted: dict[bytes, np.ndarray | None] = {}

    def read(self, fh: IO[bytes]) -> None:
        # one buffer, reused: the unfinished last line moves to its front, the next read follows
        buf = bytearray(CHUNK)
        have = 0
        while True:
            if have == len(buf):
                if len(buf) >= MAX_CARRY:
                    raise _LeaveIt(f"a line longer than {MAX_CARRY >> 20} MiB")
                buf.extend(bytes(len(buf)))
            with memoryview(buf) as view:
                got = fh.readinto(view[have:])  # type: ignore[attr-defined]
            if not got:
                if have:
                    self._chunk(bytes(buf[:have]) + (b"" if buf[have - 1] == 10 else b"\n"))
                return
            have += got
            cut = buf.rfind(b"\n", 0, have) + 1
            if cut:
                self._chunk(buf, cut)
                buf[: have - cut] = buf[cut:have]
                have -= cut

    def _no_index(self, why: str) -> None:
        if self.index is not None:
            log.info("the annotated VCF is indexed by htslib (%s)", why)
        self.index = None

    def _chunk(self, text: bytes | bytearray, cut: int | None = None) -> None:
        """The lines of ``text[:cut]``: edited, written, indexed."""
        import numpy as np

        cut = len(text) if cut is None else cut
        if text.find(b"\r", 0, cut) >= 0:
            raise _LeaveIt("carriage returns")
        arr = np.frombuffer(text, dtype=np.uint8, count=cut)
        starts, ends = linescan.line_bounds(arr)
        if bool(np.isin(arr[starts], np.frombuffer(_ODD_FIRST, dtype=np.uint8)).any()):
            raise _LeaveIt("a blank or '#' line among the records")
        if self.index is not None and (text.find(b"<", 0, cut) >= 0 or (
                (self.spans_tags or self._first) and any(text.find(x, 0, cut) >= 0 for x in _SPAN_TAGS))):
            self._no_index("a symbolic ALT, END= or SVLEN=")
        self._first = False
        runs = []  # (CHROM, first line, line count, POS of each)
        edits: list[tuple[int, int, bytes]] = []  # (line number, start, new text)
        first = 0
        while first < len(starts):
            at = int(starts[first])
            tab = text.find(b"\t", at, int(ends[first]))
            if tab <= at:
                raise _LeaveIt("a record line without CHROM")
            chrom = bytes(text[at:tab])
            n = linescan.run_length(arr, starts[first:], chrom + b"\t")
            pos, ok = linescan.positions(text, cut, starts[first : first + n] + len(chrom) + 1)
            if not bool(ok.all()):
                self._no_index("a POS that is not a plain number")
            runs.append((chrom, first, n, pos))
            wanted = self._wanted_at(chrom)
            if wanted is not None:
                for i in (first + np.flatnonzero(np.isin(pos, wanted))).tolist():
                    line = bytes(text[int(starts[i]) : int(ends[i]) + 1])
                    self.undeclared.scan(line)
                    new = self.editor.edit(line)
                    if new is not None:
                        edits.append((i, int(starts[i]), new))
            first += n
        delta = self._write(text, cut, edits, starts, ends)
        self.records += len(starts)
        if self.index is not None:
            self._add_to_index(text, runs, starts, ends, delta)
        self.written += cut + (int(delta[-1]) if len(delta) else 0)

    def _wanted_at(self, chrom: bytes) -> np.ndarray | None:
        import numpy as np

        if chrom not in self._wanted:
            got = self.editor.positions.get(chrom.decode("utf-8", "surrogateescape"))
            self._wanted[chrom] = np.array(sorted(got), dtype=np.int64) if got else None
        return self._wanted[chrom]

    def _write(self, text: bytes | bytearray, cut: int, edits: list[tuple[int, int, bytes]],
               starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """``text[:cut]`` with its edited lines replaced, to ``out``; returns how far each line's end moved."""
        import numpy as np

        with memoryview(text) as view:
            at = 0
            grew = np.zeros(len(starts) if edits else 0, dtype=np.int64)
            for i, start, new in edits:  # between edits, the input's text as it is
                self.out.stream(view[at:start])
                self.out.stream(new)
                at = int(ends[i]) + 1
                grew[i] = len(new) - (at - start)
            self.out.stream(view[at:cut])
        return np.cumsum(grew)

    def _add_to_index(self, text: bytes | bytearray, runs: list[tuple[bytes, int, int, np.ndarray]], starts: np.ndarray,
                      ends: np.ndarray, delta: np.ndarray) -> None:
        import numpy as np

        assert self.index is not None
        at = self.written + ends + 1  # where each line ends in the body's text
        if len(delta):
            at += delta
        block = at // BLOCK_DATA
        coffs = np.array(self.out.starts[self._first_block :], dtype=np.int64)  # the body's blocks
        # the block after the last full one is the one being filled: it starts at ``out.offset``
        coff = np.where(block < len(coffs), coffs[np.minimum(block, max(len(coffs) - 1, 0))]
                        if len(coffs) else 0, self.out.offset)
        voff = (coff << 16) | (at - block * BLOCK_DATA)
        for chrom, first, n, pos in runs:
            s, e = starts[first : first + n], ends[first : first + n]
            extent = tabixbuild.extents(text, pos, s, e)
            if extent is None:
                self._no_index("a record of fewer than 8 columns or without REF")
                return
            self.index.add_many(chrom, *extent, voff[first : first + n])
            if not self.index.ok:
                self._no_index("records htslib's indexer would refuse (unsorted?)")
                return

