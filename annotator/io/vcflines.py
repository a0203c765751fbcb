"""Copy a text VCF line by line into a bgzipped file, changing only some record lines.

The path for what ``annotator.io.vcfcopy`` does not copy by blocks: plain text,
plain gzip, unsorted or small bgzipped inputs.  Small inputs (a cohort's panel
VCFs) are read into memory at once; others are streamed twice (the header and
the undeclared tags first, then the copy).  The output is indexed as it is
written (``annotator.io.tabixbuild``: htslib's index), or by htslib afterwards
when a record is one ``tabixbuild`` leaves to it; unsorted records leave the
output unindexed (still valid).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from annotator.io.bgzf import EOF_BLOCK, BlockWriter, compress, is_bgzf
from annotator.io.tabixbuild import TbiBuilder
from annotator.io.vcfheader import Undeclared, build_header

log = logging.getLogger(__name__)

SMALL_INPUT_BYTES = 2 << 20  # inputs this small (on disk) are read into memory at once to copy them


@dataclass(frozen=True)
class Written:
    """What ``write_vcf`` wrote: records copied and the SHA-256 of the files it made."""

    records: int
    # file name -> digest, for provenance without re-reading (None: deliberately not hashed)
    sha256: dict[str, str | None]


class RecordEditor(Protocol):
    """What changes a record line (``annotator.io.vcfout.RecordEditor``)."""

    positions: dict[str, set[int]]  # CHROM as written -> POS of the records to change
    strip_stale: bool

    def edit(self, line: bytes) -> bytes | None: ...


class CopyError(ValueError):
    """The input's bytes are not what its container says (truncated, not BGZF, no header)."""


def container(path: str) -> str:
    """'bgzf', 'gzip', 'bcf' or 'text'."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] == b"\x1f\x8b":
        if is_bgzf(path):
            with gzip.open(path, "rb") as fh:
                magic = fh.read(3)
            return "bcf" if magic == b"BCF" else "bgzf"
        return "gzip"
    return "bcf" if head[:3] == b"BCF" else "text"


def tabix(path: Path) -> None:
    """Index a written output; an unsorted input gives an unindexed (still valid) output."""
    import pysam

    try:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    except Exception as e:  # noqa: BLE001 - unsorted input cannot be indexed; output still valid
        log.info("%s not indexed (%s); sort it with bcftools sort to index", path, e)
        tbi = path.with_name(path.name + ".tbi")
        if tbi.exists():
            tbi.unlink()


def _open_text(src: Path, kind: str) -> IO[bytes]:
    if kind in ("bgzf", "gzip"):
        return gzip.open(src, "rb")  # type: ignore[return-value]
    return open(src, "rb")  # noqa: SIM115 - the caller closes it


def _small_lines(src: Path, kind: str) -> list[bytes] | None:
    """The lines of a small input read at once (as iterating the file gives them), else None.

    A cohort's panel VCFs are a few kB: decompressing each at once and splitting it costs
    a fraction of reading it twice line by line through ``gzip``."""
    if os.path.getsize(src) > SMALL_INPUT_BYTES:
        return None
    try:
        data = src.read_bytes()
        if kind in ("bgzf", "gzip"):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise CopyError(str(e)) from e
    parts = data.split(b"\n")
    lines = [x + b"\n" for x in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def copy_lines(src: Path, dst: Path, editor: RecordEditor, extra: list[str], kind: str,
               hashing: bool = True) -> Written:
    """Line-by-line copy of a text VCF (module docstring); ``hashing``: take the output's SHA-256."""
    header_parts: list[bytes] = []
    small = _small_lines(src, kind)
    try:
        with contextlib.nullcontext(small) if small is not None else _open_text(src, kind) as fh:
            undeclared: Undeclared | None = None
            for line in fh:
                if undeclared is None:
                    if line.startswith(b"#"):
                        header_parts.append(line)
                        if line.startswith(b"#CHROM"):
                            undeclared = Undeclared.of_header(
                                b"".join(header_parts).decode("utf-8", "surrogateescape").split("\n"))
                        continue
                    raise CopyError("no #CHROM header line")
                undeclared.scan(line)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise CopyError(str(e)) from e
    if undeclared is None:
        raise CopyError("no #CHROM header line")
    text, stale = build_header(b"".join(header_parts).decode("utf-8", "surrogateescape"), extra, undeclared)
    editor.strip_stale = stale
    n = 0
    with open(dst, "wb") as out_fh, \
            contextlib.nullcontext(small) if small is not None else _open_text(src, kind) as fh:
        out = BlockWriter(out_fh, hashing=hashing)
        head = text.encode("utf-8", "surrogateescape")
        out.stream(head)
        at = len(head)
        index = TbiBuilder(out.voffset(at))
        for line in _body(fh):
            n += 1
            new = editor.edit(line)
            data = line if new is None else new
            out.stream(data)
            at += len(data)
            index.add(data, out.voffset(at))
        digest = out.finish()
    built = index.build((out.offset - len(EOF_BLOCK)) << 16)
    if built is None:  # records htslib reads its own way (or none): its index, as before
        tabix(dst)
        return Written(n, {dst.name: digest})
    tbi = dst.with_name(dst.name + ".tbi")
    index_bytes = compress(built, level=1)  # as TabixIndex.rewritten
    tbi.write_bytes(index_bytes)
    return Written(n, {dst.name: digest, tbi.name: hashlib.sha256(index_bytes).hexdigest()})


def _body(fh: Iterable[bytes]) -> Iterator[bytes]:
    for line in fh:
        if line.startswith(b"#") or not line.strip():
            continue
        yield line if line.endswith(b"\n") else line + b"\n"
