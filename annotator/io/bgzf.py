"""BGZF blocks (SAM/BAM specification section 4.1) read and written one by one.

The annotated VCF copies the compressed blocks of a bgzipped input that hold
no record it changes, byte for byte, and re-encodes only the blocks that do
(``annotator.io.vcfout``).  This module knows the block layout: an 18-byte
gzip header whose extra field ``BC`` holds the block size, raw-deflate data,
then CRC32 and the uncompressed size.  A virtual offset is
``compressed block offset << 16 | offset inside the uncompressed block``.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import BinaryIO

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
        return zlib.decompress(block[HEADER_SIZE:-8], -15)


def encode_block(data: bytes, level: int = 6) -> bytes:
    """One BGZF block holding ``data`` (at most ``BLOCK_DATA`` bytes)."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = comp.compress(data) + comp.flush()
    if len(payload) + HEADER_SIZE + 8 > 0x10000:  # incompressible: store it
        comp = zlib.compressobj(0, zlib.DEFLATED, -15)
        payload = comp.compress(data) + comp.flush()
    head = HEADER.pack(31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(payload) + HEADER_SIZE + 8 - 1)
    return head + payload + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))


class BlockWriter:
    """Appends blocks to a file, counting compressed bytes and hashing what it writes."""

    def __init__(self, fh: BinaryIO, level: int = 6) -> None:
        self.fh = fh
        self.level = level
        self.offset = 0  # compressed bytes written so far: the next block's offset
        self.sha256 = hashlib.sha256()
        self._pending = bytearray()  # text not yet sealed into a block (streaming writes)

    def write_raw(self, data: bytes | memoryview) -> None:
        """Already-compressed bytes (whole blocks), copied as they are."""
        self.fh.write(data)
        self.sha256.update(data)
        self.offset += len(data)

    def encode(self, text: bytes) -> list[int]:
        """``text`` as fresh blocks of ``BLOCK_DATA`` bytes; returns each block's offset."""
        offsets = []
        for i in range(0, len(text), BLOCK_DATA):
            offsets.append(self.offset)
            self.write_raw(encode_block(text[i : i + BLOCK_DATA], self.level))
        return offsets

    def stream(self, text: bytes) -> None:
        """Text of a file written from start to end; sealed into full blocks as it comes."""
        self._pending += text
        if len(self._pending) >= BLOCK_DATA:
            cut = len(self._pending) - len(self._pending) % BLOCK_DATA
            self.encode(bytes(self._pending[:cut]))
            del self._pending[:cut]

    def finish(self) -> str:
        """Seal streamed text, write the EOF block; returns the file's SHA-256."""
        if self._pending:
            self.encode(bytes(self._pending))
            self._pending.clear()
        self.write_raw(EOF_BLOCK)
        return self.sha256.hexdigest()


def copy_range(src: BinaryIO, start: int, end: int, out: BlockWriter, chunk: int = 1 << 22) -> None:
    """Compressed bytes ``[start, end)`` of ``src`` copied to ``out`` unchanged.

    The input is mapped, not read: the bytes go from the page cache to the
    hash and the output without a copy into Python objects.
    """
    if end <= start:
        return
    import mmap

    try:
        mapped = mmap.mmap(src.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # not mappable (a pipe, an empty file): read it
        mapped = None
    if mapped is None:
        src.seek(start)
        left = end - start
        while left > 0:
            data = src.read(min(chunk, left))
            if not data:
                raise BgzfError(f"file ends inside bytes {start}-{end}")
            out.write_raw(data)
            left -= len(data)
        return
    with mapped:
        if len(mapped) < end:
            raise BgzfError(f"file ends inside bytes {start}-{end}")
        with memoryview(mapped) as view:
            for at in range(start, end, chunk):
                with view[at : min(at + chunk, end)] as part:
                    out.write_raw(part)
