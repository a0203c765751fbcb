"""An input's bytes: hashed while they are read, and pipes made readable more than once.

Provenance records the sha256 of every input.  Reading a file a second time
only to hash it doubles the I/O of the largest inputs, and a pipe (``<(zcat
x.vcf.gz)``, ``mkfifo``) cannot be read twice at all.  So:

* ``HashingReader`` wraps a binary file and hashes every byte handed out; the
  reader that scans a text VCF reads through it and keeps the digest;
* ``Spool`` copies a pipe or other non-regular file once into a private
  temporary directory (hashing while copying, streamed in blocks: memory
  stays bounded, disk use is the input's size); everything after reads the
  copy.  The copy is removed when the run ends.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from annotator.errors import InputError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

BLOCK = 1 << 20


def is_regular(path: str | Path) -> bool:
    """True for a regular file (what can be sniffed, seeked and re-read)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


class HashingReader(io.RawIOBase):
    """A raw binary reader over ``raw`` whose bytes feed a sha256 as they pass.

    Wrap it in ``io.BufferedReader`` (``buffered()``) so that line reading
    stays in C; the hash is updated once per block, not per line.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: WriteableBuffer) -> int:
        n = self.raw.readinto(buf)  # type: ignore[attr-defined]
        if n:
            self.sha.update(memoryview(buf)[:n])
            self.size += n
        return int(n or 0)

    def close(self) -> None:
        self.raw.close()
        super().close()

    def finish(self) -> str:
        """Hash whatever the consumer left unread; the digest of the whole file."""
        while True:
            block = self.raw.read(BLOCK)
            if not block:
                break
            self.sha.update(block)
            self.size += len(block)
        return self.sha.hexdigest()


def buffered(reader: HashingReader) -> io.BufferedReader:
    return io.BufferedReader(reader, BLOCK)


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


class Spool:
    """Readable copies of non-regular inputs (pipes, FIFOs), one per path, for one run."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._cleanup: weakref.finalize[..., Spool] | None = None
        self._copies: dict[str, tuple[Path, str]] = {}

    def readable(self, path: str | Path) -> Path:
        """``path`` itself when it is a regular file, else its copy (made on first use)."""
        key = str(path)
        if key in self._copies:
            return self._copies[key][0]
        if is_regular(path) or not Path(path).exists() or Path(path).is_dir():
            return Path(path)
        target = self._workdir() / f"{len(self._copies)}-{Path(path).name or 'input'}"
        h = hashlib.sha256()
        try:
            with open(path, "rb") as src, open(target, "wb") as dst:
                while True:
                    block = src.read(BLOCK)
                    if not block:
                        break
                    h.update(block)
                    dst.write(block)
        except OSError as e:
            raise InputError(f"cannot read ({e.strerror or e})", path=path) from e
        self._copies[key] = (target, h.hexdigest())
        return target

    def renamed(self, path: str | Path, names: tuple[str, ...]) -> Path:
        """A plain-text copy of the VCF ``path`` whose #CHROM line has unique sample names.

        A repeated name gets ``_2``, ``_3``...; records are copied unchanged.
        """
        unique: list[str] = []
        for name in names:
            new, n = name, 1
            while new in unique:
                n += 1
                new = f"{name}_{n}"
            unique.append(new)

        def rename(fh: BinaryIO, dst: BinaryIO) -> None:
            for line in fh:
                if line.startswith(b"#CHROM"):
                    cols = line.rstrip(b"\r\n").split(b"\t")[:9]
                    line = b"\t".join(cols + [n.encode() for n in unique]) + b"\n"
                dst.write(line)

        return self._text_copy(path, "renamed", "rename samples", rename)

    def headed(self, path: str | Path, lines: tuple[str, ...], skip: int = 0) -> Path:
        """A plain-text copy of the VCF ``path`` with ``lines`` put before its first line.

        For files that callers wrote without ``##fileformat`` (or without any
        header) or after ``skip`` lines of a tool's log: htslib refuses them,
        and the records would otherwise be lost.
        """

        def add_header(fh: BinaryIO, dst: BinaryIO) -> None:
            for _ in range(skip):
                fh.readline()
            dst.write("".join(f"{line}\n" for line in lines).encode())
            shutil.copyfileobj(fh, dst, BLOCK)

        return self._text_copy(path, "headed", "add a header", add_header)

    def _text_copy(
        self, path: str | Path, tag: str, why: str, copy: Callable[[BinaryIO, BinaryIO], None]
    ) -> Path:
        """Decompressed copy of ``path`` through ``copy``, hashing the input bytes read."""
        import gzip

        source = self.readable(path)
        target = self._workdir() / f"{len(self._copies)}-{tag}.vcf"
        try:
            with open(source, "rb", buffering=0) as raw:
                head = raw.read(2)
                raw.seek(0)
                hashing = HashingReader(raw)
                fh: BinaryIO = buffered(hashing)
                if head == b"\x1f\x8b":  # a GzipFile reads as a binary file (typeshed: not a BinaryIO)
                    fh = cast(BinaryIO, gzip.GzipFile(fileobj=fh, mode="rb"))
                with fh, open(target, "wb") as dst:
                    copy(fh, dst)
                    digest = hashing.finish()
        except (OSError, EOFError) as e:
            raise InputError(f"cannot copy to {why} ({e})", path=path) from e
        known = self.sha256(path)
        self._copies[str(path)] = (target, known or digest)
        return target

    def sha256(self, path: str | Path) -> str | None:
        """The digest taken while copying ``path``, if it was copied."""
        got = self._copies.get(str(path))
        return got[1] if got else None

    def close(self) -> None:
        self._copies.clear()
        if self._cleanup is not None:
            self._cleanup()  # removes the folder once, now
        self._dir = self._cleanup = None

    def _workdir(self) -> Path:
        """The run's folder of copies, made on first use.  A context that is never
        closed (a cohort worker, a library caller) still removes it when collected
        or at exit, silently (weakref.finalize)."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="resmark-input-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._dir), True)
        return self._dir
