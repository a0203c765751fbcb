"""The structural checks of a text VCF (plain or gzip), made in one pass over whole chunks.

``annotator.io.vcfcheck.scan_text`` checks every line of a text VCF for
the faults htslib mishandles (module docstring there) and, for
``annotator.io.regionscan``, writes the lines near the panel to a small
file; the SHA-256 for provenance is taken in the same read.  The rules for
one line are ``LineChecker.line``.  Calling it for each of 5M lines costs
several times what ``bcftools view -T`` spends on the whole file, so
``scan`` reads the file in large chunks and looks at every line with numpy
first (``annotator.io.linescan``): a record line that starts with a CHROM,
has at least 8 tab-separated columns, a POS of 1 to 10 digits and a
non-empty REF (all the checks of ``LineChecker.line`` would pass) is only
counted, grouped with the lines of its CHROM for the sort check, and
tested against the regions as a number.  Only the other lines (header,
blank, ``#``, anything odd) and the lines near a region go through
``LineChecker.line`` or its filter, one at a time, in file order: the
records kept, the counts, the line numbers and the first fault with its
message are those of a line-by-line pass.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from annotator.errors import InputError
from annotator.io import linescan
from annotator.io.inputbytes import HashingReader, buffered
from annotator.io.linescan import Regions

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

READ_BYTES = 4 << 20  # plain text read (and hashed) at a time
# gzip: GzipFile's own read size, so that a damaged or truncated file fails after the same
# line as a line-by-line read (the data inflated before the fault is the same)
GZIP_PIECE = 8192
_MANDATORY = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
_ODD_FIRST = b"# \t\n\r\x0b\x0c"  # a record line starting so: blank, '#' or no CHROM
ODD_SHARE = 8  # a chunk with more than 1 odd line in this many is checked line by line

# select(chrom as written, pos, length of REF) -> keep the line (region pre-filter)
Select = Callable[[bytes, int, int], bool]


class RegionSelect:
    """A ``Select`` that also gives its regions as arrays, so most lines are tested in numpy.

    ``regions(native CHROM)`` must cover every line ``select`` keeps (the
    merged union of the sets ``select`` tests); lines numpy finds near a
    region are then asked ``select`` itself.
    """

    def __init__(self, select: Select, regions: Regions) -> None:
        self.select = select
        self.regions = regions

    def __call__(self, chrom: bytes, pos: int, ref_len: int) -> bool:
        return self.select(chrom, pos, ref_len)


@dataclass
class Scan:
    """What the structural scan of a text VCF found."""

    header_lines: int = 0  # lines up to and including #CHROM
    n_columns: int = 0
    records: int = 0  # body lines (htslib makes one record of each, blank ones included)
    skip: set[int] = field(default_factory=set)  # body line indexes that are blank or '#'
    chroms: dict[str, int] = field(default_factory=dict)  # name -> first line, in order of use
    sorted: bool = True
    unsorted_at: int | None = None  # line number of the first out-of-order record
    samples: tuple[str, ...] = ()  # names in the #CHROM line, as written
    kept: int = 0  # records the ``select`` of the scan kept
    sha256: str | None = None  # of the file's bytes, when the scan read all of them

    def line_of(self, raw_index: int) -> int:
        return self.header_lines + raw_index + 1


class LineChecker:
    """The checks of one pass, line by line: ``line`` takes the lines in file order."""

    def __init__(self, path: Path, max_line: int, header_only: bool = False,
                 select: Select | None = None, sink: IO[bytes] | None = None) -> None:
        self.path = path
        self.max_line = max_line
        self.header_only = header_only
        self.select = select
        self.sink = sink
        self.scan = Scan()
        self.seen: set[bytes] = set()
        self.last_chrom: bytes | None = None
        self.last_pos = -1
        self.done_chroms: set[bytes] = set()
        self.lineno = 0
        self.in_header = True

    def fresh(self) -> LineChecker:
        """A checker of the same pass that has seen no line yet."""
        return LineChecker(self.path, self.max_line, self.header_only, self.select, self.sink)

    def too_long(self) -> InputError:
        return InputError(f"line longer than {self.max_line >> 20} MiB (no line break; is this a VCF?)",
                          path=self.path, where=f"line {self.lineno}")

    def line(self, raw: bytes) -> bool:
        """Check the next line (as ``readline`` returns it); True once a header-only scan is done."""
        self.lineno += 1
        lineno = self.lineno
        if len(raw) > self.max_line and not raw.endswith(b"\n"):
            raise self.too_long()
        line = raw.rstrip(b"\r\n")
        scan = self.scan
        if self.in_header:
            if line.startswith(b"#CHROM"):
                scan.samples = _check_chrom_line(self.path, lineno, line)
                scan.header_lines = lineno
                scan.n_columns = line.count(b"\t") + 1
                self.in_header = False
                if self.header_only:
                    return True
            elif not line.startswith(b"#") and line.strip():
                raise InputError("record before the #CHROM header line (header missing or damaged)",
                                 path=self.path, where=f"line {lineno}")
            if self.sink is not None:
                self.sink.write(as_text(line))
            return False
        i = scan.records
        scan.records += 1
        if not line.strip():
            scan.skip.add(i)
            return False
        if line.startswith(b"#"):
            raise InputError("header or comment line ('#') after the first record", path=self.path,
                             where=f"line {lineno}")
        chrom, pos, ref_len = check_record(self.path, lineno, line)
        if self.sink is not None and self.select is not None and self.select(chrom, pos, ref_len):
            scan.kept += 1
            self.sink.write(as_text(line))
        self.new_chrom(chrom, lineno)
        if scan.sorted:
            self._order(chrom, pos, lineno)
        return False

    def new_chrom(self, chrom: bytes, lineno: int) -> None:
        if chrom not in self.seen:
            self.seen.add(chrom)
            self.scan.chroms[chrom.decode("utf-8", "replace")] = lineno

    def _order(self, chrom: bytes, pos: int, lineno: int) -> bool:
        """Follow the sort order; False (and ``unsorted_at`` set) at the first record out of it."""
        if chrom == self.last_chrom:
            if pos < self.last_pos:
                return self._unsorted(lineno)
        elif chrom in self.done_chroms:
            return self._unsorted(lineno)
        else:
            if self.last_chrom is not None:
                self.done_chroms.add(self.last_chrom)
            self.last_chrom = chrom
        self.last_pos = pos
        return True

    def _unsorted(self, lineno: int) -> bool:
        self.scan.sorted, self.scan.unsorted_at = False, lineno
        return False

    def run(self, chrom: bytes, pos: np.ndarray) -> None:
        """Records ``lineno + 1`` on, all of ``chrom``, at ``pos``, that pass every check of ``line``."""
        import numpy as np

        first = self.lineno + 1
        self.new_chrom(chrom, first)
        if self.scan.sorted and self._order(chrom, int(pos[0]), first) and len(pos) > 1:
            down = np.flatnonzero(pos[1:] < pos[:-1])
            if len(down):
                self._unsorted(first + 1 + int(down[0]))
            else:
                self.last_pos = int(pos[-1])
        self.lineno += len(pos)
        self.scan.records += len(pos)

    def keep(self, chrom: bytes, pos: int, ref_len: int, line: bytes) -> None:
        """The region filter of ``line`` for a record line whose checks numpy made."""
        if self.sink is not None and self.select is not None and self.select(chrom, pos, ref_len):
            self.scan.kept += 1
            self.sink.write(as_text(line.rstrip(b"\r\n")))

    def end(self) -> Scan:
        if self.in_header:
            raise InputError("no #CHROM header line; is this a VCF?", path=self.path)
        return self.scan


def as_text(line: bytes) -> bytes:
    """A line as the pre-filtered VCF holds it: UTF-8 (bad bytes replaced), one newline."""
    if line.isascii():
        return line + b"\n"
    return line.decode("utf-8", "replace").encode("utf-8") + b"\n"


def _check_chrom_line(path: Path, lineno: int, line: bytes) -> tuple[str, ...]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"the #CHROM line (sample names) is not valid UTF-8 (byte 0x{line[e.start]:02x} at "
            f"column {e.start + 1}); re-encode the header as UTF-8",
            path=path, where=f"line {lineno}",
        ) from e
    cols = text.split("\t")
    if tuple(c.upper() for c in cols[:8]) != _MANDATORY:
        shown = " ".join(cols[:9])[:120]
        raise InputError(
            f"the #CHROM line must start with the 8 tab-separated columns {' '.join(_MANDATORY)} "
            f"(found {shown!r})",
            path=path, where=f"line {lineno}",
        )
    if len(cols) > 8 and cols[8] != "FORMAT":
        raise InputError(
            f"column 9 of the #CHROM line must be FORMAT, not {cols[8][:40]!r}",
            path=path, where=f"line {lineno}",
        )
    return tuple(cols[9:])


def check_record(path: Path, lineno: int, line: bytes) -> tuple[bytes, int, int]:
    cols = line.split(b"\t", 3)
    where = f"line {lineno}"
    if len(cols) < 4 or line.count(b"\t") < 7:
        n = line.count(b"\t") + 1
        hint = " (are the columns separated by spaces instead of tabs?)" if b" " in line else ""
        raise InputError(
            f"{n} tab-separated column(s); a VCF record needs at least 8{hint}", path=path, where=where
        )
    chrom, pos_b = cols[0], cols[1]
    if not chrom.strip():
        raise InputError("CHROM is empty", path=path, where=where)
    if not pos_b.isdigit():
        raise InputError(f"POS {_show(pos_b)} is not a whole number", path=path, where=where)
    ref = cols[3].split(b"\t", 1)[0]
    if not ref:
        raise InputError("REF is empty", path=path, where=where)
    return chrom, int(pos_b), len(ref)


def _show(b: bytes) -> str:
    return repr(b[:40].decode("utf-8", "replace"))


# -- the pass over whole chunks ----------------------------------------------------------


def scan(path: Path, compressed: bool, checker: LineChecker) -> Scan:
    """Feed every line of ``path`` to ``checker`` (numpy first, module docstring); hash the file.

    A read or decompression error is raised after the lines read before
    it were checked, so ``checker.lineno`` names the last good line.  gzip
    is inflated by ISA-L (``isal``, several times faster than zlib) when
    installed; on any fault that pass is dropped and the file read again
    through the standard library's ``gzip``, whose errors (and the line
    they follow) are the ones reported.
    """
    if not compressed:
        return _scan_plain(path, checker)
    sink = checker.sink
    if _fast_gzip() is not None and (sink is None or sink.seekable()):
        start = sink.tell() if sink is not None else 0
        try:
            return _scan_gzip(path, checker.fresh(), fast=True)
        except Exception as e:  # noqa: BLE001 - any fault: read again, the slow way, for its message
            log.debug("%s: reading again with the gzip module (%s)", path, e)
            if sink is not None:
                sink.seek(start)
                sink.truncate()
    return _scan_gzip(path, checker, fast=False)


def _fast_gzip() -> type[gzip.GzipFile] | None:
    try:
        from isal import igzip
    except ImportError:  # pragma: no cover - isal is a dependency; the gzip module is the fallback
        return None
    return igzip.GzipFile


def _scan_plain(path: Path, checker: LineChecker) -> Scan:
    sha = hashlib.sha256()
    with open(path, "rb", buffering=0) as raw:

        def piece() -> bytes:
            data = raw.read(READ_BYTES)
            sha.update(data)
            return data

        _Chunks(checker).read(piece, 0)
    found = checker.end()
    found.sha256 = sha.hexdigest()
    return found


def _scan_gzip(path: Path, checker: LineChecker, fast: bool) -> Scan:
    with open(path, "rb", buffering=0) as raw:
        hashing = HashingReader(raw)
        opener = _fast_gzip() if fast else None
        if opener is not None:
            with opener(fileobj=buffered(hashing), mode="rb") as gz:
                _Chunks(checker).read(lambda: gz.read(READ_BYTES), 0)
        else:
            with gzip.GzipFile(fileobj=buffered(hashing), mode="rb") as slow:
                _Chunks(checker).read(lambda: slow.read1(GZIP_PIECE), READ_BYTES)
        digest = hashing.finish()
    found = checker.end()
    found.sha256 = digest
    return found


class _Chunks:
    """Whole lines handed on by chunks; what follows the last newline waits for the next piece."""

    def __init__(self, checker: LineChecker) -> None:
        self.checker = checker
        select = checker.select
        self.regions = select.regions if isinstance(select, RegionSelect) else None
        self.names: dict[bytes, str] = {}
        self.lut = bytes(1 if b in _ODD_FIRST else 0 for b in range(256))

    def read(self, piece: Callable[[], bytes], gather: int) -> None:
        """Read ``piece()`` until it returns b"", looking at whole lines every ``gather`` bytes."""
        parts: list[bytes] = []
        size = 0
        while True:
            try:
                data = piece()
            except Exception:
                self._lines(b"".join(parts), final=False)  # the lines before the fault count
                raise
            if data:
                parts.append(data)
                size += len(data)
                if size < gather:
                    continue
            text = b"".join(parts)
            if not data:
                self._lines(text, final=True)
                return
            carry = self._lines(text, final=False)
            parts, size = ([carry], len(carry)) if carry else ([], 0)

    def _lines(self, text: bytes, final: bool) -> bytes:
        """Check the whole lines of ``text``; returns the rest (all of it when ``final``)."""
        cut = text.rfind(b"\n") + 1
        if final and cut < len(text):
            text, cut = text + b"\n", len(text) + 1  # the last line may lack its newline
        ck = self.checker
        if len(text) - cut > ck.max_line:
            self._lines(text[:cut], final=False)
            ck.lineno += 1
            raise ck.too_long()
        at = 0
        while ck.in_header and at < cut:
            end = text.index(b"\n", at)
            if end - at > ck.max_line:
                ck.lineno += 1
                raise ck.too_long()
            if ck.line(text[at : end + 1]):
                return b""
            at = end + 1
        if at < cut:
            self._body(text, at, cut)
        return text[cut:]

    def _body(self, text: bytes, begin: int, cut: int) -> None:
        """Record lines ``text[begin:cut]``: numpy's checks, then runs of one CHROM."""
        import numpy as np

        ck = self.checker
        arr = np.frombuffer(text, dtype=np.uint8, count=cut)
        starts, ends = linescan.line_bounds(arr, begin)
        n = len(starts)
        tabs = np.flatnonzero(arr[begin:] == 9)
        tabs += begin
        tabs = np.concatenate([tabs, np.full(8, cut, dtype=tabs.dtype)])  # so that tab k of any line exists
        first_tab = np.searchsorted(tabs, starts)
        ok = np.searchsorted(tabs, ends) - first_tab >= 7  # 8 columns or more
        ok &= np.frombuffer(self.lut, dtype=np.uint8)[arr[starts]] == 0
        ok &= ends - starts <= ck.max_line
        ref_start, ref_end = tabs[first_tab + 2], tabs[first_tab + 3]
        ok &= ref_end - ref_start > 1  # REF not empty
        chrom_end = np.where(ok, tabs[first_tab], starts)
        pos, pos_ok = linescan.positions(text, cut, chrom_end + 1)
        ok &= pos_ok
        odd = np.flatnonzero(~ok)
        if len(odd) * ODD_SHARE > n:
            odd = np.arange(n)  # mostly odd lines: line by line is as fast
        ref_len = ref_end - ref_start - 1
        i = 0
        for o in [*odd.tolist(), n]:
            while i < o:  # plain lines i .. o-1
                chrom = text[int(starts[i]) : int(chrom_end[i])]
                m = linescan.run_length(arr, starts[i:o], chrom + b"\t")
                self._run(text, chrom, starts[i : i + m], ends[i : i + m], pos[i : i + m],
                          ref_len[i : i + m])
                i += m
            if o < n:
                s, e = int(starts[o]), int(ends[o])
                if e - s > ck.max_line:
                    ck.lineno += 1
                    raise ck.too_long()
                ck.line(text[s : e + 1])
                i = o + 1

    def _run(self, text: bytes, chrom: bytes, starts: np.ndarray, ends: np.ndarray, pos: np.ndarray,
             ref_len: np.ndarray) -> None:
        """Checked record lines of one CHROM: counted, sort order followed, the near ones filtered."""
        import numpy as np

        ck = self.checker
        near: list[int] = []
        if ck.sink is not None and ck.select is not None:
            if self.regions is None:
                near = list(range(len(pos)))
            else:
                name = self.names.get(chrom)
                if name is None:
                    name = self.names[chrom] = chrom.decode("utf-8", "replace")
                spans = self.regions(name)
                if spans is not None:
                    reach = pos + np.maximum(ref_len - 1, 0)
                    near = np.flatnonzero(linescan.near(spans, pos, reach)).tolist()
        ck.run(chrom, pos)
        for k in near:
            ck.keep(chrom, int(pos[k]), int(ref_len[k]), text[int(starts[k]) : int(ends[k])])
