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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from annotator.errors import InputError
from annotator.io import textscan
from annotator.io.htslog import (  # noqa: F401 - the reader's htslib log names, kept here too
    HTS_LOG_OFF,
    captured_stderr,
    hts_log_level,
    htslib_message,
)
from annotator.io.inputbytes import HashingReader, buffered
from annotator.io.textscan import LineChecker, RegionSelect, Scan, Select  # noqa: F401 - names of this module
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
# longest line read (header or record); a longer one is refused, naming file and line,
# so that a file without newlines (or /dev/zero) cannot exhaust memory
MAX_LINE = 32 << 20


@dataclass(frozen=True)
class Container:
    kind: str  # "text", "gzip" (not BGZF), "bgzf-text", "bgzf-bcf", "bcf" (uncompressed)

    @property
    def text(self) -> bool:
        return self.kind in ("text", "gzip", "bgzf-text")

    @property
    def indexable(self) -> bool:
        return self.kind.startswith("bgzf")


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
    file (``Scan.sha256``).  The rules are ``textscan.LineChecker``'s; a
    full scan applies them through ``textscan.scan`` (numpy first).
    ``declared`` (the header's contigs) is not needed by the checks.
    """
    checker = LineChecker(path, MAX_LINE, header_only, select, sink)
    try:
        if not header_only:
            return textscan.scan(path, container.kind != "text", checker)
        with _open_text(path, container) as (fh, _):
            while True:
                raw = fh.readline(MAX_LINE + 1)
                if not raw or checker.line(raw):
                    break
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise InputError(
            f"truncated or damaged compressed data after line {checker.lineno} ({e})", path=path
        ) from e
    except OSError as e:
        raise InputError(f"read error after line {checker.lineno} ({e.strerror or e})", path=path) from e
    return checker.end()


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
