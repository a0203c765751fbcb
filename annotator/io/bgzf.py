"""BGZF blocks (SAM/BAM specification section 4.1) read and written one by one.

The annotated VCF copies the compressed blocks of a bgzipped input that hold
no record it changes, byte for byte, and re-encodes only the blocks that do
(``annotator.io.vcfout``).  This module knows the block layout: an 18-byte
gzip header whose extra field ``BC`` holds the block size, raw-deflate data,
then CRC32 and the uncompressed size.  A virtual offset is
``compressed block offset << 16 | offset inside the uncompressed block``.

Deflate is ISA-L's (``isal``) when installed, zlib's otherwise: the same
format, several times faster (the blocks decode with any gzip reader; their
compressed bytes differ from bgzip's, their text does not).  Unchanged
ranges are copied, and hashed on the way, through one small buffer (``copy_range``).
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

try:  # ISA-L: the same deflate format, several times faster than zlib (optional)
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    _isal = None  # type: ignore[assignment]

# bgzip's uncompressed payload per block: the largest that always fits 64 KiB compressed
BLOCK_DATA = 0xFF00
HEADER = struct.Struct("<4BI2BH2BHH")  # ID1 ID2 CM FLG MTIME XFL OS XLEN SI1 SI2 SLEN BSIZE
HEADER_SIZE = HEADER.size  # 18
# the empty block bgzip writes last; htslib warns when it is missing
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_MAGIC = b"\x1f\x8b\x08\x04"


class BgzfError(ValueError):
    """Not a BGZF block where one should be (truncated or plain gzip)."""


def is_bgzf(path: str) -> bool:
    """True when the file starts with a BGZF block (a plain gzip file does not)."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER_SIZE)
    return block_size(head) is not None


def block_size(head: bytes) -> int | None:
    if len(head) < HEADER_SIZE or head[:4] != _MAGIC:
        return None
    f = HEADER.unpack(head)
    if f[7] != 6 or f[8] != 66 or f[9] != 67 or f[10] != 2:  # XLEN 6, "BC", SLEN 2
        return None
    return int(f[11]) + 1


class BlockReader:
    """Random access to the blocks of a BGZF file by compressed offset."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def raw(self, coff: int) -> bytes:
        """The compressed block at ``coff`` (b"" at end of file)."""
        self.fh.seek(coff)
        head = self.fh.read(HEADER_SIZE)
        if not head:
            return b""
        size = block_size(head)
        if size is None:
            raise BgzfError(f"no BGZF block at byte {coff}")
        rest = self.fh.read(size - HEADER_SIZE)
        if len(rest) != size - HEADER_SIZE:
            raise BgzfError(f"BGZF block at byte {coff} is truncated")
        return head + rest

    @staticmethod
    def inflate(block: bytes) -> bytes:
        return inflate_raw(memoryview(block)[HEADER_SIZE:-8])


def inflate_raw(data: bytes | memoryview) -> bytes:
    """Raw-deflate ``data`` (a block's payload) decompressed."""
    if _isal is not None:
        try:
            return bytes(_isal.decompress(data, -15))
        except Exception as e:  # noqa: BLE001 - IsalError, not a zlib.error subclass: callers catch zlib's
            raise zlib.error(str(e)) from e
    return zlib.decompress(data, -15)


def crc32(data: bytes | bytearray | memoryview) -> int:
    return int(_isal.crc32(data) if _isal is not None else zlib.crc32(data)) & 0xFFFFFFFF


def _deflate(data: bytes | bytearray | memoryview, level: int) -> bytes:
    if _isal is not None and level > 0:
        # ISA-L levels 0-3; 3 is within ~15 % of zlib's 6 in size at several times the speed
        return bytes(_isal.compress(data, 1 if level <= 3 else 3, -15))
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def encode_block(data: bytes | bytearray | memoryview, level: int = 6) -> bytes:
    """One BGZF block holding ``data`` (at most ``BLOCK_DATA`` bytes)."""
    payload = _deflate(data, level)
    if len(payload) + HEADER_SIZE + 8 > 0x10000:  # incompressible: store it
        payload = _deflate(data, 0)
    head = HEADER.pack(31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(payload) + HEADER_SIZE + 8 - 1)
    return head + payload + struct.pack("<II", crc32(data), len(data))


def compress(data: bytes | bytearray, level: int = 6) -> bytes:
    """``data`` as a whole BGZF file (blocks, then the EOF block)."""
    buf = io.BytesIO()
    writer = BlockWriter(buf, level)
    writer.encode(data)
    writer.write_raw(EOF_BLOCK)
    return buf.getvalue()


class BlockWriter:
    """Appends blocks to a file, counting compressed bytes and hashing what it writes."""

    def __init__(self, fh: BinaryIO, level: int = 6, hashing: bool = True) -> None:
        self.fh = fh
        self.level = level
        self.offset = 0  # compressed bytes written so far: the next block's offset
        # None: the caller records no digest of this file (``digest``)
        self.sha256 = hashlib.sha256() if hashing else None
        self._pending = bytearray()  # text not yet sealed into a block (streaming writes)
        self.starts: list[int] = []  # offset of each block ``encode`` wrote, in order

    def write_raw(self, data: bytes | memoryview) -> None:
        """Already-compressed bytes (whole blocks), copied as they are."""
        self.fh.write(data)
        if self.sha256 is not None:
            self.sha256.update(data)
        self.offset += len(data)

    def digest(self) -> str | None:
        """SHA-256 of what was written (None when not hashing)."""
        return self.sha256.hexdigest() if self.sha256 is not None else None

    def encode(self, text: bytes | bytearray | memoryview) -> list[int]:
        """``text`` as fresh blocks of ``BLOCK_DATA`` bytes; returns each block's offset."""
        offsets = []
        for i in range(0, len(text), BLOCK_DATA):
            offsets.append(self.offset)
            self.write_raw(encode_block(text[i : i + BLOCK_DATA], self.level))
        self.starts += offsets
        return offsets

    def voffset(self, at: int) -> int:
        """Virtual offset of byte ``at`` of the text given to ``stream`` (at most all of it so far).

        Blocks hold ``BLOCK_DATA`` bytes each; the text not yet sealed goes into the next
        block, which starts at ``offset``.  Like htslib's ``bgzf_tell``, the end of a block
        is the start of the next one.
        """
        k, within = divmod(at, BLOCK_DATA)
        return ((self.starts[k] if k < len(self.starts) else self.offset) << 16) | within

    def stream(self, text: bytes | bytearray | memoryview) -> None:
        """Text of a file written from start to end; sealed into full blocks as it comes.

        Whole blocks are encoded from ``text`` itself (no copy of a large piece); only
        what is left for the next block is kept."""
        view = memoryview(text)
        if self._pending:
            need = BLOCK_DATA - len(self._pending)
            self._pending += view[:need]
            if len(view) < need:
                return
            self.encode(bytes(self._pending))
            self._pending.clear()
            view = view[need:]
        full = len(view) - len(view) % BLOCK_DATA
        if full:
            self.encode(view[:full])
        self._pending += view[full:]

    def seal(self) -> None:
        """Streamed text not yet in a block into one."""
        if self._pending:
            self.encode(bytes(self._pending))
            self._pending.clear()

    def finish(self) -> str | None:
        """Seal streamed text, write the EOF block; returns the file's SHA-256 (``digest``)."""
        self.seal()
        self.write_raw(EOF_BLOCK)
        return self.digest()


def copy_range(src: BinaryIO, start: int, end: int, out: BlockWriter, chunk: int = 1 << 18) -> None:
    """Compressed bytes ``[start, end)`` of ``src`` copied to ``out`` unchanged (and hashed, if it hashes).

    Each chunk is read into one reused buffer, hashed from it and written from it.  The
    buffer stays in the CPU's cache, so the bytes leave memory once: ``os.copy_file_range``
    then a second read for the hash took ~0.02 s more CPU for 148 MB (0.146 s against
    0.128 s on ext4), and no file system can reflink these ranges (BGZF blocks do not start
    on its block boundaries).  A small buffer is also hashed faster than a large one or a
    memory map (page faults).
    """
    if end <= start:
        return
    buf = bytearray(min(chunk, end - start))
    with memoryview(buf) as view:
        for _, n in _read_chunks(src, start, end, buf):
            out.write_raw(view[:n])


def _read_chunks(src: BinaryIO, start: int, end: int, buf: bytearray) -> Iterator[tuple[int, int]]:
    """(offset, length) of each chunk of ``[start, end)`` read into ``buf``."""
    src.seek(start)
    at = start
    with memoryview(buf) as view:
        while at < end:
            n = src.readinto(view[: min(len(buf), end - at)])  # type: ignore[attr-defined]
            if not n:
                raise BgzfError(f"file ends inside bytes {start}-{end}")
            yield at, n
            at += n
