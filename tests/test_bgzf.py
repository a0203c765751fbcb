"""BGZF blocks (annotator.io.bgzf): ranges copied to a file or to memory give the same
bytes and digest, and blocks written with ISA-L or zlib decode with Python's gzip."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
from pathlib import Path

import pytest

from annotator.io import bgzf


def _data(n: int = 3 << 20) -> bytes:
    return random.Random(7).randbytes(n)


@pytest.mark.parametrize("how", ["file", "in-memory"])
def test_copy_range_copies_and_hashes_exactly(tmp_path: Path, how: str) -> None:
    data = _data()
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    sink: io.BytesIO | None = io.BytesIO() if how == "in-memory" else None
    with open(src, "rb") as fh, (open(tmp_path / "out.bin", "wb") if sink is None else sink) as out_fh:
        out = bgzf.BlockWriter(out_fh)
        out.write_raw(b"head")
        bgzf.copy_range(fh, 1000, 2_500_000, out, chunk=1 << 20)
        out.write_raw(b"middle")
        bgzf.copy_range(fh, 2_999_000, len(data), out)
        bgzf.copy_range(fh, 5, 5, out)  # empty
        out.write_raw(b"tail")
        written = sink.getvalue() if sink is not None else None
        digest, offset = out.sha256.hexdigest(), out.offset
    if written is None:
        written = (tmp_path / "out.bin").read_bytes()
    want = b"head" + data[1000:2_500_000] + b"middle" + data[2_999_000:] + b"tail"
    assert written == want
    assert offset == len(want)
    assert digest == hashlib.sha256(want).hexdigest()


def test_copy_range_past_the_end_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 1000)
    with open(src, "rb") as fh, open(tmp_path / "out.bin", "wb") as out_fh, pytest.raises(bgzf.BgzfError):
        bgzf.copy_range(fh, 0, 2000, bgzf.BlockWriter(out_fh))


@pytest.mark.parametrize("isal", [True, False])
def test_blocks_decode_with_gzip(monkeypatch: pytest.MonkeyPatch, isal: bool) -> None:
    if not isal:
        monkeypatch.setattr(bgzf, "_isal", None)
    text = b"".join(f"chr1\t{i}\t.\tA\tC\t.\tPASS\tDP={i % 97}\n".encode() for i in range(20_000))
    out = io.BytesIO()
    writer = bgzf.BlockWriter(out)
    offsets = writer.encode(text)
    writer.write_raw(bgzf.EOF_BLOCK)
    raw = out.getvalue()
    assert gzip.decompress(raw) == text  # every block a valid gzip member, CRC and size included
    assert len(offsets) == -(-len(text) // bgzf.BLOCK_DATA)
    for i, at in enumerate(offsets):
        block = bgzf.BlockReader(io.BytesIO(raw)).raw(at)
        assert bgzf.BlockReader.inflate(block) == text[i * bgzf.BLOCK_DATA : (i + 1) * bgzf.BLOCK_DATA]
    incompressible = random.Random(3).randbytes(bgzf.BLOCK_DATA)
    assert gzip.decompress(bgzf.encode_block(incompressible)) == incompressible


@pytest.mark.parametrize("isal", [True, False])
def test_damaged_deflate_data_raises_zlib_error(monkeypatch: pytest.MonkeyPatch, isal: bool) -> None:
    import zlib

    if not isal:
        monkeypatch.setattr(bgzf, "_isal", None)
    block = bgzf.encode_block(b"chr1\t1\t.\tA\tC\n" * 500)
    payload = bytes(b ^ 0x5A for b in block[bgzf.HEADER_SIZE : -8])
    with pytest.raises(zlib.error):
        bgzf.inflate_raw(payload)
