"""Checks made before htslib (through cyvcf2) parses a VCF, and htslib log control.

Why this exists: cyvcf2 hands back half-parsed records when htslib fails on a
line whose contig is not declared in the header, and it returns records for
blank lines and ``#`` lines in the body; touching such a record can crash the
process (segmentation fault).  htslib also reads a truncated BGZF file up to the
damage without an error.  So resmark

* sniffs the container (empty, bgzip, plain gzip, BCF, bzip2/xz/zip, text),
* refuses a BGZF file without its end-of-file block (truncated),
* scans text VCFs once (fast, bytes only) for the faults htslib mishandles:
  too few columns, bad POS, bad CHROM, blank and ``#`` lines in the body,
  non-UTF-8 header text; it also lists the contigs used so that they can be
  declared before htslib reads any record,
* turns htslib's own stderr log off while reading and, when htslib does refuse
  something, captures its message once so the user gets it on one line.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from annotator.errors import InputError
from annotator.io.htslog import (  # noqa: F401 - the reader's htslib log names, kept here too
    HTS_LOG_OFF,
    captured_stderr,
    hts_log_level,
    htslib_message,
)
from annotator.io.inputbytes import HashingReader, buffered
from annotator.io.vcfmodel import HtsRecord, HtsVcf

log = logging.getLogger(__name__)

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_FOREIGN = (
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x9d", "Unix compress (.Z)"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_MANDATORY = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
# longest line read (header or record); a longer one is refused, naming file and line,
# so that a file without newlines (or /dev/zero) cannot exhaust memory
MAX_LINE = 32 << 20

# select(chrom as written, pos, length of REF) -> keep the line (region pre-filter)
Select = Callable[[bytes, int, int], bool]


@dataclass(frozen=True)
class Container:
    kind: str  # "text", "gzip" (not BGZF), "bgzf-text", "bgzf-bcf", "bcf" (uncompressed)

    @property
    def text(self) -> bool:
        return self.kind in ("text", "gzip", "bgzf-text")

    @property
    def indexable(self) -> bool:
        return self.kind.startswith("bgzf")


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


def _headerless_vcf(path: Path) -> bool:
    """Data lines without a header, or a tool's log lines before one (the reader,
    ``annotator.io.vcfin``, adds or skips them on a copy and says so)."""
    try:
        with open(path, "rb") as fh:
            for n in range(21):
                line = fh.readline(1 << 20)
                if not line:
                    return False
                if line.startswith(b"#"):
                    return n > 0
                cols = line.split(b"\t")
                if n == 0 and len(cols) >= 8 and cols[1].isdigit():
                    return True
    except OSError:
        return False
    return False


def sniff(path: Path) -> Container:
    """Identify the container from its first bytes; refuse what htslib cannot read."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(64)
            tail = b""
            if size >= len(BGZF_EOF):
                fh.seek(size - len(BGZF_EOF))
                tail = fh.read(len(BGZF_EOF))
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror})", path=path) from e
    if size == 0:
        raise InputError("file is empty (0 bytes)", path=path)
    for magic, name in _FOREIGN:
        if head.startswith(magic):
            raise InputError(
                f"compressed with {name}; resmark reads plain or bgzip-compressed VCF and BCF "
                "(recompress with `bgzip`)",
                path=path,
            )
    if head.startswith(b"\x1f\x8b"):
        bgzf = len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC"
        if bgzf and tail != BGZF_EOF:
            raise InputError(
                "truncated: the bgzip end-of-file block is missing (incomplete copy or "
                "download?); the file cannot be read completely",
                path=path,
            )
        first = _first_decompressed(path)
        if first.startswith(b"BCF\x02") or first.startswith(b"BCF\x04"):
            return Container("bgzf-bcf" if bgzf else "gzip-bcf")
        return Container("bgzf-text" if bgzf else "gzip")
    if head.startswith(b"BCF"):
        return Container("bcf")
    if not head.lstrip(b"\xef\xbb\xbf").startswith(b"#") and not _headerless_vcf(path):
        raise InputError(
            "not a VCF: the first line does not start with '##fileformat=VCFv4.x' or '#CHROM'",
            path=path,
            where="line 1",
        )
    return Container("text")


def _first_decompressed(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(8)
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(f"damaged gzip data at the start of the file ({e})", path=path) from e


@contextlib.contextmanager
def _open_text(path: Path, container: Container) -> Iterator[tuple[IO[bytes], HashingReader]]:
    with open(path, "rb", buffering=0) as raw:
        hashing = HashingReader(raw)
        fh: IO[bytes] = buffered(hashing)
        if container.kind != "text":
            fh = gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[assignment]
        with fh:
            yield fh, hashing


def scan_text(
    path: Path,
    container: Container,
    declared: set[str],
    header_only: bool = False,
    *,
    select: Select | None = None,
    sink: IO[bytes] | None = None,
) -> Scan:
    """One pass over a text VCF (plain or gzip) checking what htslib mishandles.

    With ``sink``, header lines and the record lines ``select`` keeps are
    written to it (the region pre-filter of ``annotator.io.regionscan``), so
    the checks and the filter share one read.  A full scan also hashes the
    file (``Scan.sha256``).
    """
    scan = Scan()
    seen: set[bytes] = set()
    declared_b = {c.encode() for c in declared}
    last_chrom: bytes | None = None
    last_pos = -1
    done_chroms: set[bytes] = set()
    lineno = 0
    in_header = True
    try:
        with _open_text(path, container) as (fh, hashing):
            while True:
                raw = fh.readline(MAX_LINE + 1)
                if not raw:
                    break
                lineno += 1
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    raise InputError(
                        f"line longer than {MAX_LINE >> 20} MiB (no line break; is this a VCF?)",
                        path=path, where=f"line {lineno}",
                    )
                line = raw.rstrip(b"\r\n")
                if in_header:
                    if line.startswith(b"#CHROM"):
                        scan.samples = _check_chrom_line(path, lineno, line)
                        scan.header_lines = lineno
                        scan.n_columns = line.count(b"\t") + 1
                        in_header = False
                        if header_only:
                            return scan
                    elif not line.startswith(b"#") and line.strip():
                        raise InputError(
                            "record before the #CHROM header line (header missing or damaged)",
                            path=path, where=f"line {lineno}",
                        )
                    if sink is not None:
                        sink.write(_as_text(line))
                    continue
                i = scan.records
                scan.records += 1
                if not line.strip():
                    scan.skip.add(i)
                    continue
                if line.startswith(b"#"):
                    raise InputError(
                        "header or comment line ('#') after the first record", path=path,
                        where=f"line {lineno}",
                    )
                chrom, pos, ref_len = _check_record(path, lineno, line, declared_b)
                if sink is not None and select is not None and select(chrom, pos, ref_len):
                    scan.kept += 1
                    sink.write(_as_text(line))
                if chrom not in seen:
                    seen.add(chrom)
                    scan.chroms[chrom.decode("utf-8", "replace")] = lineno
                if scan.sorted:
                    if chrom == last_chrom:
                        if pos < last_pos:
                            scan.sorted, scan.unsorted_at = False, lineno
                    elif chrom in done_chroms:
                        scan.sorted, scan.unsorted_at = False, lineno
                    else:
                        if last_chrom is not None:
                            done_chroms.add(last_chrom)
                        last_chrom = chrom
                    last_pos = pos
            scan.sha256 = hashing.finish()
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise InputError(
            f"truncated or damaged compressed data after line {lineno} ({e})", path=path
        ) from e
    except OSError as e:
        raise InputError(f"read error after line {lineno} ({e.strerror or e})", path=path) from e
    if in_header:
        raise InputError("no #CHROM header line; is this a VCF?", path=path)
    return scan


def _as_text(line: bytes) -> bytes:
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


def _check_record(
    path: Path, lineno: int, line: bytes, declared: set[bytes]
) -> tuple[bytes, int, int]:
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
        raise InputError(
            f"POS {_show(pos_b)} is not a whole number", path=path, where=where
        )
    ref = cols[3].split(b"\t", 1)[0]
    if not ref:
        raise InputError("REF is empty", path=path, where=where)
    return chrom, int(pos_b), len(ref)


def _show(b: bytes) -> str:
    return repr(b[:40].decode("utf-8", "replace"))


# -- safe iteration ----------------------------------------------------------------------


def read_line(path: Path, container: Container, lineno: int) -> bytes | None:
    """Line ``lineno`` (1-based) of a text VCF, for error messages."""
    try:
        with _open_text(path, container) as (fh, _):
            for n in range(1, lineno + 1):
                raw = fh.readline(MAX_LINE + 1)
                if not raw:
                    break
                if n == lineno:
                    return bytes(raw.rstrip(b"\r\n"))
    except (OSError, EOFError, zlib.error):
        return None
    return None


def diagnose(vcf: HtsVcf, text: bytes | None) -> str | None:
    """htslib's own complaint about one record line (its log is captured, not printed)."""
    if text is None:
        return None
    import cyvcf2

    captured: list[str] = []
    old = hts_log_level(3)  # HTS_LOG_WARNING
    try:
        with tempfile.TemporaryDirectory(prefix="resmark-diag-") as tmp:
            one = Path(tmp) / "line.vcf"
            header = (vcf.raw_header or "").encode("utf-8", "replace")
            one.write_bytes(header + text + b"\n")
            with captured_stderr(captured):
                again = cyvcf2.VCF(str(one), lazy=True)
                try:
                    # the record may be half-built: it is dropped without being looked at
                    next(iter(again))
                except Exception:  # noqa: BLE001, S110 - only htslib's log matters here
                    pass
                finally:
                    again.close()
    except Exception:  # noqa: BLE001, S110 - a diagnosis must never hide the real error
        pass
    finally:
        if old is not None:
            hts_log_level(old)
    return htslib_message(captured)


class SafeVcf:
    """A ``cyvcf2.VCF`` whose iteration never hands out a record htslib could not build.

    After ``scan`` is set, records made from blank body lines are dropped
    without being touched (cyvcf2 crashes on them), and a parse failure
    becomes an ``InputError`` naming the line and htslib's complaint.
    """

    def __init__(self, vcf: HtsVcf, path: Path, container: Container) -> None:
        self._vcf = vcf
        self.path = path
        self.container = container
        self.scan: Scan | None = None
        self.raw = 0  # body records consumed from htslib
        self.last_line: int | None = None

    def __getattr__(self, name: str) -> Any:  # a proxy: whatever the cyvcf2.VCF has
        return getattr(self._vcf, name)

    def __call__(self, region: str) -> Iterator[HtsRecord]:
        return self._vcf(region)

    def __iter__(self) -> SafeVcf:
        return self

    def __next__(self) -> HtsRecord:
        scan = self.scan
        while True:
            i = self.raw
            if scan is not None and i >= scan.records:
                raise StopIteration
            try:
                v = next(self._vcf)
            except StopIteration:
                raise
            except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
                self.raw += 1
                if scan is not None and i in scan.skip:
                    continue
                raise self._error(i, e) from e
            self.raw += 1
            if scan is not None and i in scan.skip:
                continue
            self.last_line = scan.line_of(i) if scan is not None else None
            return v

    def _error(self, i: int, e: BaseException) -> InputError:
        if self.scan is None:
            detail = " ".join(str(e).split()) or type(e).__name__
            return InputError(
                f"htslib cannot read this record ({detail})", path=self.path, where=f"record {i + 1}"
            )
        lineno = self.scan.line_of(i)
        why = diagnose(self._vcf, read_line(self.path, self.container, lineno))
        return InputError(
            f"htslib cannot parse this record: {why or ' '.join(str(e).split())}",
            path=self.path, where=f"line {lineno}",
        )
