"""Small inputs are read at once: the copy is the one streaming line by line makes."""

from __future__ import annotations

import gzip

import pytest

from annotator.io import vcflines

HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


class _Mark:
    positions: dict[str, set[int]] = {}
    strip_stale = False

    def edit(self, line: bytes) -> bytes | None:
        return line.replace(b"\tPASS\t", b"\tPASS\tX=1;") if b"\t200\t" in line else None


@pytest.mark.parametrize("kind", ["text", "gzip"])
def test_small_input_read_at_once_copies_as_streaming(kind, tmp_path, monkeypatch):
    # a lone carriage return inside a line, a blank line, no newline at the end
    body = ("chr1\t100\t.\tA\tT\t.\tPASS\tNOTE=a\rb\n\nchr1\t200\t.\tC\tG\t.\tPASS\tDP=3\n"
            "chr2\t5\t.\tG\tA\t.\tq10\tDP=1")
    src = tmp_path / ("in.vcf.gz" if kind == "gzip" else "in.vcf")
    data = (HEADER + body).encode()
    src.write_bytes(gzip.compress(data) if kind == "gzip" else data)
    outs = []
    for limit in (1 << 20, -1):  # read at once, then streamed
        monkeypatch.setattr(vcflines, "SMALL_INPUT_BYTES", limit)
        dst = tmp_path / f"out{limit}.vcf.gz"
        written = vcflines.copy_lines(src, dst, _Mark(), ["##extra=1"], kind)
        outs.append((gzip.decompress(dst.read_bytes()), written.records))
    assert outs[0] == outs[1]
    assert outs[0][1] == 3 and b"X=1;DP=3" in outs[0][0] and b"a\rb" in outs[0][0]


def test_damaged_small_gzip_is_a_copy_error(tmp_path):
    src = tmp_path / "in.vcf.gz"
    src.write_bytes(gzip.compress((HEADER + "chr1\t1\t.\tA\tT\t.\tPASS\t.\n").encode())[:-12])
    with pytest.raises(vcflines.CopyError):
        vcflines.copy_lines(src, tmp_path / "o.vcf.gz", _Mark(), [], "gzip")
