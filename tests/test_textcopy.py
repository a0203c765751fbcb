"""A large plain-text or plain-gzip VCF copied by chunks (annotator.io.textcopy) gives, once
decompressed, exactly what the line-by-line copy (annotator.io.vcflines.copy_lines) gives:
the same header with the same added declarations (where the undeclared tags are in records
at listed positions: the chunk path looks only there, as the block copy of a large bgzipped
file does), the same records with the same edits;
its index is htslib's index of the written file (pysam.tabix_index, decompressed).  Files
the chunk path cannot vouch for are left to the line copy."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from annotator.io import textcopy, vcfcopy, vcflines

pysam = pytest.importorskip("pysam")

from tests.test_tabixbuild import random_sorted_records  # noqa: E402 - after the skip
from tests.test_vcf_passthrough import _tabix_built  # noqa: E402 - htslib's index of a file

HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
          '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">\n'
          '##INFO=<ID=P,Number=1,Type=String,Description="padding">\n'
          '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")


class _Editor:
    """Adds a tag to the records at chosen positions (as vcfout.RecordEditor does with RESMARK_*)."""

    def __init__(self, positions: dict[str, set[int]], grow: str = "ANN=x") -> None:
        self.positions = positions
        self.strip_stale = False
        self.grow = grow.encode()

    def edit(self, line: bytes) -> bytes | None:
        f = line.split(b"\t")
        # only records at listed positions change (RecordEditor matches them by key), and not all
        if int(f[1]) not in self.positions.get(f[0].decode(), ()) or int(f[1]) % 3 == 0:
            return None
        f[7] = f[7] + b";" + self.grow
        return b"\t".join(f)


def _lines(seed: int) -> tuple[list[str], dict[str, set[int]]]:
    """Sorted records, and the positions of ~2 % of them (those the editor changes)."""
    lines = random_sorted_records(seed, max_chroms=5, sample=True)
    rng = random.Random(seed)
    chosen: dict[str, set[int]] = {}
    for line in lines:
        if rng.random() < 0.02:
            chrom, pos = line.split("\t", 2)[:2]
            chosen.setdefault(chrom, set()).add(int(pos))
    return lines, chosen


def _input(tmp: Path, text: str, kind: str) -> Path:
    src = tmp / ("in.vcf" if kind == "text" else "in.vcf.gz")
    if kind == "bgzf":
        plain = tmp / "plain.vcf"
        plain.write_text(text)
        pysam.tabix_compress(str(plain), str(src), force=True)
    else:
        src.write_bytes(gzip.compress(text.encode(), 1) if kind == "gzip" else text.encode())
    return src


def _both(tmp: Path, src: Path, kind: str, editor: _Editor) -> tuple[bytes, bytes, Path]:
    """(chunk copy decompressed, line copy decompressed, the chunk copy)."""
    fast = tmp / "fast.vcf.gz"
    assert textcopy.copy_chunks(src, fast, editor, ["##extra=1"], kind) is not None
    slow = tmp / "slow.vcf.gz"
    vcflines.copy_lines(src, slow, editor, ["##extra=1"], kind)
    return gzip.decompress(fast.read_bytes()), gzip.decompress(slow.read_bytes()), fast


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", ["text", "gzip", "bgzf"])
def test_chunk_copy_is_the_line_copy_and_indexes_as_htslib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          seed: int, kind: str) -> None:
    monkeypatch.setattr(textcopy, "CHUNK", [5_000, 70_000, 1 << 20, 8 << 20][seed])  # edges anywhere
    lines, chosen = _lines(seed)
    src = _input(tmp_path, HEADER + "".join(lines), kind)
    fast, slow, out = _both(tmp_path, src, kind, _Editor(chosen))
    assert fast == slow
    assert b"ANN=x" in fast or not chosen
    assert gzip.decompress(Path(f"{out}.tbi").read_bytes()) == _tabix_built(out, tmp_path)


def test_edited_records_needing_declarations_remake_the_header(tmp_path: Path) -> None:
    """An edit using a tag the header lacks: the declaration is added (as the line copy adds
    it), the body's blocks move behind the longer header, and the index moves with them."""
    lines, chosen = _lines(7)
    src = _input(tmp_path, HEADER + "".join(lines), "text")

    class _Undeclared(_Editor):
        def edit(self, line: bytes) -> bytes | None:
            return None

    # the undeclared tag is in an input record at a listed position (scanned as the line copy does)
    first_chrom = next(iter(chosen))
    p = min(chosen[first_chrom])
    lines = [x.replace("\tPASS\tDP=", "\tPASS\tNEWTAG=1;DP=", 1) if x.startswith(f"{first_chrom}\t{p}\t")
             else x for x in lines]
    src = _input(tmp_path, HEADER + "".join(lines), "text")
    fast, slow, out = _both(tmp_path, src, "text", _Undeclared(chosen))
    assert fast == slow
    assert b"##INFO=<ID=NEWTAG," in fast
    assert gzip.decompress(Path(f"{out}.tbi").read_bytes()) == _tabix_built(out, tmp_path)


@pytest.mark.parametrize("body", [
    "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\r\nchr1\t200\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\r\n",  # CRLF
    "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n\nchr1\t200\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n",  # a blank line
    "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n#note\nchr1\t200\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\n",  # a '#' line
])
def test_what_the_chunk_path_cannot_vouch_for_is_left_to_the_line_copy(tmp_path: Path, body: str) -> None:
    src = _input(tmp_path, HEADER + body, "text")
    dst = tmp_path / "o.vcf.gz"
    assert textcopy.copy_chunks(src, dst, _Editor({"chr1": {100}}), [], "text") is None
    assert not dst.exists()
    # through vcfcopy.copy, the line copy writes it
    written = vcfcopy.copy(src, dst, _Editor({"chr1": {100}}), [], "text")
    assert written.records == 2


def test_symbolic_records_leave_the_index_to_htslib(tmp_path: Path) -> None:
    lines, chosen = _lines(2)
    lines.insert(len(lines) // 2, lines[len(lines) // 2].replace("\tA\t50\t", "\t<DEL>\t50\t", 1))
    src = _input(tmp_path, HEADER + "".join(lines), "text")
    fast, slow, out = _both(tmp_path, src, "text", _Editor(chosen))
    assert fast == slow
    tbi = Path(f"{out}.tbi")
    if tbi.exists():  # htslib indexed it
        assert gzip.decompress(tbi.read_bytes()) == _tabix_built(out, tmp_path)


def test_unsorted_bgzipped_input_is_copied_by_chunks_unindexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """An unsorted bgzipped file cannot be copied by blocks: by chunks, and left unindexed as the
    line copy leaves it (htslib cannot index it)."""
    monkeypatch.setattr(vcfcopy, "SCAN_ALL_BYTES", 0)
    monkeypatch.setattr(vcfcopy, "BLOCK_COPY_MIN_BYTES", 0)
    lines, chosen = _lines(5)
    lines = lines[len(lines) // 2 :] + lines[: len(lines) // 2]  # sorted halves, in the wrong order
    src = _input(tmp_path, HEADER + "".join(lines), "bgzf")
    fast = tmp_path / "fast.vcf.gz"
    written = vcfcopy.copy(src, fast, _Editor(chosen), [], "bgzf")
    slow = tmp_path / "slow.vcf.gz"
    vcflines.copy_lines(src, slow, _Editor(chosen), [], "bgzf")
    assert gzip.decompress(fast.read_bytes()) == gzip.decompress(slow.read_bytes())
    assert written.records == len(lines) and not Path(f"{fast}.tbi").exists()


def test_large_text_inputs_take_the_chunk_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vcfcopy, "SCAN_ALL_BYTES", 0)
    used: list[bool] = []
    real = textcopy.copy_chunks

    def watch(*a: object) -> object:
        used.append(True)
        return real(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(vcfcopy, "copy_chunks", watch)
    lines, chosen = _lines(1)
    src = _input(tmp_path, HEADER + "".join(lines), "text")
    written = vcfcopy.copy(src, tmp_path / "o.vcf.gz", _Editor(chosen), [], "text")
    assert used == [True] and written.records == len(lines) and len(written.sha256) == 2
