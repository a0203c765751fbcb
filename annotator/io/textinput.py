"""Side inputs read once: plain, gzip or BGZF text, streamed, size-limited, hashed while read.

Every side input (``--cnv`` tables, ``--sv`` VCFs and fusion tables, sample
sheets) is opened through ``TextInput``:

* the container is told from the first bytes, never from the name (gzip and
  BGZF are decompressed; bzip2, xz, zip, zstd and Unix compress are refused
  by name);
* the file is read once, front to back, so a pipe or process substitution
  (``--cnv <(zcat x.cns.gz)``) works, and the sha256 of the bytes as stored
  is computed on the way (``sha256`` / ``input_file()``), so provenance needs
  no second read;
* lines are split on ``\\n`` only (a form feed or a lone ``\\r`` inside a line
  stays in that line; ``\\r\\n`` endings are accepted) and streamed, so memory
  does not grow with the file;
* limits (``Limits``, stated in docs/robustness.md) stop a runaway input with
  a one-line ``InputError`` naming the file and line: the longest line, the
  largest (decompressed) file, NUL bytes (binary data, ``/dev/zero``);
* a gzip stream cut short, a BGZF file without its end-of-file block, damaged
  compressed data and an empty (0-byte) file are ``InputError`` (exit 1),
  never an ``EOFError`` that the command line would take for Ctrl-C.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from annotator.core.provenance import InputFile
from annotator.errors import InputError

log = logging.getLogger(__name__)

MiB = 1 << 20
_CHUNK = 1 << 20
# BGZF's end-of-file marker: an empty block (SAM/BAM specification, section 4.1.2)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_OTHER_COMPRESSION = (
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x9d", "Unix compress (.Z)"),
)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one side input (docs/robustness.md, "Resource limits")."""

    max_line: int = 1 * MiB  # longest line, bytes after decompression
    max_bytes: int = 256 * MiB  # largest file, bytes after decompression
    max_field: int = 64 * 1024  # longest field of a sample sheet


DEFAULT_LIMITS = Limits()


def _size_text(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB and n % MiB == 0 else f"{n // 1024} KiB"


class TextInput:
    """One side input, opened for a single streaming pass.

    Use as a context manager; ``lines()`` yields ``(line_number, text)`` for
    every line (blank ones included, newline removed), ``peek()`` returns the
    first non-blank line without consuming it.  After the last line
    ``sha256`` holds the digest of the whole file as stored.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        what: str = "file",
        limits: Limits = DEFAULT_LIMITS,
        encoding_errors: str = "strict",
    ) -> None:
        self.path = Path(path)
        self.what = what
        self.limits = limits
        self.encoding_errors = encoding_errors
        self.compression: str | None = None  # None (plain text), "gzip" or "bgzf"
        self.raw_bytes = 0
        self.text_bytes = 0
        self._lines_done = 0
        self._hash = hashlib.sha256()
        self._digest: str | None = None
        self._fh = self._open()
        self._pending: list[tuple[int, str]] = []
        self._stream = self._line_stream()

    # ------------------------------------------------------------ opening

    def _error(self, message: str, where: str | None = None) -> InputError:
        return InputError(message, path=self.path, where=where)

    def _open(self):  # type: ignore[no-untyped-def]  # a binary file object
        p = self.path
        try:
            st = os.stat(p)
        except FileNotFoundError:
            raise self._error(f"{self.what} not found") from None
        except OSError as e:
            raise self._error(f"cannot read {self.what} ({e.strerror})") from e
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise self._error(f"is a directory, not a {self.what}")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            kind = ("character device" if stat.S_ISCHR(mode) else "block device"
                    if stat.S_ISBLK(mode) else "socket" if stat.S_ISSOCK(mode) else "special file")
            raise self._error(f"is a {kind}, not a regular file or pipe")
        if stat.S_ISREG(mode) and st.st_size == 0:
            raise self._error("file is empty (0 bytes)")
        try:
            return open(p, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        except OSError as e:
            raise self._error(f"cannot read {self.what} ({e.strerror})") from e

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> TextInput:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ raw bytes

    def _raw_chunks(self) -> Iterator[bytes]:
        while True:
            try:
                block = self._fh.read(_CHUNK)
            except OSError as e:
                raise self._error(f"cannot read {self.what} ({e.strerror})") from e
            if not block:
                return
            self.raw_bytes += len(block)
            self._hash.update(block)
            yield block

    def _text_chunks(self) -> Iterator[bytes]:
        """Decompressed bytes (or the plain bytes), with container checks."""
        raw = self._raw_chunks()
        first = b""
        for block in raw:
            first += block
            if len(first) >= 18:
                break
        if not first:
            raise self._error("file is empty (0 bytes)")
        for magic, name in _OTHER_COMPRESSION:
            if first.startswith(magic):
                raise self._error(
                    f"compressed with {name}, which resmark does not read; "
                    "decompress it or recompress with gzip/bgzip"
                )
        if not first.startswith(b"\x1f\x8b"):
            yield first
            yield from raw
            return
        self.compression = "bgzf" if _is_bgzf_header(first) else "gzip"
        yield from self._inflate(first, raw)

    def _inflate(self, first: bytes, raw: Iterator[bytes]) -> Iterator[bytes]:
        """Every gzip member in turn (BGZF is a series of members), output bounded per call."""
        limit = self.limits.max_line + 1  # a decompression bomb cannot outgrow this per step
        d = zlib.decompressobj(31)
        in_member = False  # bytes of the current member seen, its end not yet
        members = 0  # complete members so far
        tail = b""  # the last raw bytes, for the BGZF end-of-file check
        block: bytes | None = first
        while block is not None:
            tail = (tail + block)[-len(BGZF_EOF):]
            data = block
            while True:
                try:
                    out = d.decompress(data, limit)
                except zlib.error as e:
                    if not in_member and members:
                        raise self._error(
                            "data after the end of the gzip stream is not gzip "
                            "(damaged or concatenated file)", where=self._line_where(),
                        ) from e
                    raise self._error(
                        f"damaged compressed data ({e})", where=self._line_where()
                    ) from e
                in_member = True
                if out:
                    yield out
                if d.eof:
                    data = d.unused_data
                    d = zlib.decompressobj(31)
                    in_member = False
                    members += 1
                    if not data:
                        break
                    continue
                data = d.unconsumed_tail
                if not data and not out:
                    break
            block = next(raw, None)
        if in_member:
            raise self._error(
                "truncated: the gzip stream ends in the middle (file cut short?)",
                where=self._line_where(),
            )
        if self.compression == "bgzf" and tail != BGZF_EOF:
            raise self._error(
                "truncated: the bgzip end-of-file block is missing (file cut short?)"
            )

    # ------------------------------------------------------------ lines

    def _line_where(self) -> str | None:
        n = self._lines_done
        return f"after line {n}" if n else None

    def _line_stream(self) -> Iterator[tuple[int, str]]:
        max_line = self.limits.max_line
        max_bytes = self.limits.max_bytes
        buf = b""
        n = 0
        for chunk in self._text_chunks():
            self.text_bytes += len(chunk)
            if self.text_bytes > max_bytes:
                raise self._error(
                    f"larger than the {_size_text(max_bytes)} limit for a {self.what} "
                    "(after decompression)", where=f"line {n + 1}",
                )
            if b"\0" in chunk:
                at = n + 1 + (buf + chunk[: chunk.index(b"\0")]).count(b"\n")
                raise self._error(
                    f"binary data (NUL byte), not a text {self.what}", where=f"line {at}"
                )
            buf += chunk
            if b"\n" not in chunk:
                if len(buf) > max_line:
                    raise self._error(
                        f"line longer than the {_size_text(max_line)} limit "
                        f"(is this a text {self.what}?)", where=f"line {n + 1}",
                    )
                continue
            parts = buf.split(b"\n")
            buf = parts.pop()
            for part in parts:
                n += 1
                if len(part) > max_line:
                    raise self._error(
                        f"line longer than the {_size_text(max_line)} limit "
                        f"(is this a text {self.what}?)", where=f"line {n}",
                    )
                yield n, self._decode(part, n)
                self._lines_done = n
            if len(buf) > max_line:
                raise self._error(
                    f"line longer than the {_size_text(max_line)} limit "
                    f"(is this a text {self.what}?)", where=f"line {n + 1}",
                )
        if buf:
            n += 1
            yield n, self._decode(buf, n)
            self._lines_done = n
        self._digest = self._hash.hexdigest()

    def _decode(self, raw: bytes, n: int) -> str:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # UTF-8 byte-order mark (spreadsheet exports)
        try:
            return raw.decode("utf-8", self.encoding_errors)
        except UnicodeDecodeError as e:
            raise self._error(
                f"not UTF-8 text (byte 0x{raw[e.start]:02x} at column {e.start + 1})",
                where=f"line {n}",
            ) from e

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(1-based line number, text)`` for every line, once."""
        while self._pending:
            yield self._pending.pop(0)
        yield from self._stream

    def peek(self) -> str:
        """The first non-blank line (without consuming anything); "" when there is none."""
        for item in self._pending:
            if item[1].strip():
                return item[1]
        for item in self._stream:
            self._pending.append(item)
            if item[1].strip():
                return item[1]
        return ""

    def drain(self) -> None:
        """Read what is left (so that the digest covers the whole file)."""
        for _ in self.lines():
            pass

    @property
    def sha256(self) -> str:
        if self._digest is None:
            self.drain()
        assert self._digest is not None
        return self._digest

    def input_file(self, role: str) -> InputFile:
        """The provenance record of this input, from the digest computed while reading."""
        return InputFile(role, str(self.path), self.sha256)


def _is_bgzf_header(head: bytes) -> bool:
    """gzip member with FEXTRA holding the ``BC`` subfield (SAM spec 4.1)."""
    if len(head) < 18 or head[3] & 4 == 0:
        return False
    xlen = head[10] | head[11] << 8
    extra = head[12: 12 + xlen]
    i = 0
    while i + 4 <= len(extra):
        si1, si2 = extra[i], extra[i + 1]
        slen = extra[i + 2] | extra[i + 3] << 8
        if si1 == 66 and si2 == 67:
            return True
        i += 4 + slen
    return False


def read_lines(
    path: str | Path, *, what: str = "file", limits: Limits = DEFAULT_LIMITS
) -> tuple[list[tuple[int, str]], InputFile]:
    """Every line of a small side input (a sample sheet) and its provenance record."""
    with TextInput(path, what=what, limits=limits) as src:
        lines = list(src.lines())
        return lines, src.input_file(what)
