"""One pass over an unindexed bgzipped VCF (annotator.io.bgzfscan), checked against the
input text itself: the record count is the number of record lines, the digest that of
the file's bytes, every record whose span reaches a region is kept, and reading the
panel regions through the pass gives exactly what the former path (htslib indexing the
whole file) gives.  Anything the pass cannot vouch for (unsorted, malformed, damaged)
makes it give up, and the former path reads the file."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pysam
import pytest

from annotator.io import bgzfscan, regionscan
from annotator.io.vcfin import VcfSource
from annotator.io.vcfmodel import InputRecord

REGIONS = [("chr1", 200_000, 260_000), ("chr1", 700_000, 705_000), ("chr2", 50_000, 90_000),
           ("chr2", 90_500, 91_000), ("chrX", 1_000_000, 1_100_000)]
HEADER = [
    "##fileformat=VCFv4.2",
    *(f"##contig=<ID={c},length=2000000>" for c in ("chr1", "chr2", "chr3", "chrX")),
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="end">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
]


def _records(seed: int, n: int = 12_000) -> list[str]:
    """Sorted record lines over 4 contigs, with long REFs and END= records near region edges."""
    rng = random.Random(seed)
    lines = []
    for chrom in ("chr1", "chr2", "chr3", "chrX"):
        positions = sorted(rng.choices(range(1, 1_500_000), k=n // 4))
        # records that reach a region only through a long REF or END (the start is outside)
        positions += [199_990, 199_000, 49_960, 89_000, 999_500]
        for pos in sorted(positions):
            ref, alt, info = rng.choice("ACGT"), rng.choice("ACGT"), f"DP={rng.randint(5, 999)}"
            if pos in (199_990, 49_960):
                ref = "A" * 60  # ends inside the region
            elif pos in (199_000, 89_000, 999_500):
                alt, info = "<DEL>", f"{info};END={pos + 1_200}"
            lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t{info}\tGT\t0/1\n")
    return lines


def _bgzip(tmp: Path, lines: list[str], header: list[str] = HEADER, name: str = "calls") -> Path:
    text = tmp / f"{name}.vcf"
    text.write_text("\n".join(header) + "\n" + "".join(lines))
    out = tmp / f"{name}.vcf.gz"
    pysam.tabix_compress(str(text), str(out), force=True)
    return out


def _reaches(line: str) -> bool:
    """The truth from the text: does the record's span (REF, or INFO END) overlap a region?"""
    f = line.split("\t")
    pos = int(f[1])
    end = pos + len(f[3]) - 1
    for item in f[7].split(";"):
        if item.startswith("END="):
            end = max(end, int(item[4:]))
    return any(c == f[0] and pos <= e and end >= s for c, s, e in REGIONS)


def _regions(native: str) -> object:
    import numpy as np

    merged = bgzfscan.merged([REGIONS])
    got = merged.get(native)
    return None if got is None else (np.array(got[0]), np.array(got[1]))


@pytest.mark.parametrize("text_bytes", [1_000, 64 << 10, bgzfscan.TEXT_BYTES])
def test_pass_counts_hashes_and_keeps_every_record_near_a_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_bytes: int
) -> None:
    monkeypatch.setattr(bgzfscan, "TEXT_BYTES", text_bytes)  # chunk edges inside lines and blocks
    lines = _records(seed=1)
    path = _bgzip(tmp_path, lines)
    sink = io.BytesIO()
    found = bgzfscan.scan(path, _regions, sink)  # type: ignore[arg-type]
    assert found.records == len(lines)
    assert found.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert found.chroms == ["chr1", "chr2", "chr3", "chrX"]
    out = sink.getvalue().decode()
    assert out.startswith("\n".join(HEADER) + "\n")
    kept = out.splitlines(keepends=True)[len(HEADER):]
    assert found.kept == len(kept)
    assert set(kept) <= set(lines)  # the input's own lines, in its order
    assert kept == [x for x in lines if x in set(kept)]
    truth = [x for x in lines if _reaches(x)]
    assert set(truth) <= set(kept)
    assert any("END=" in x for x in truth) and any(len(x.split("\t")[3]) == 60 for x in truth)


def _read(path: Path, sets: list[list[tuple[str, int, int]]]) -> tuple[list[tuple[int, InputRecord]], int | None, str]:
    source = VcfSource(path)
    try:
        got = list(source.records_in_sets(sets))
        return got, source.total_records, source.sha256()
    finally:
        source.close()


def test_region_reads_equal_the_former_whole_file_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    lines = _records(seed=2)
    path = _bgzip(tmp_path, lines)
    other = [("chr2", 60_000, 95_000), ("chr3", 1, 400_000)]  # a second, overlapping region set
    used = _watch_the_pass(monkeypatch)
    fast = _read(path, [REGIONS, other])
    assert used == [True]
    monkeypatch.setattr(regionscan, "_near_regions", lambda *a: None)
    former = _read(path, [REGIONS, other])
    assert fast == former
    records, total, digest = fast
    assert total == len(lines)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    truth = {(x.split("\t")[0], int(x.split("\t")[1]), x.split("\t")[3]) for x in lines if _reaches(x)}
    assert {(r.chrom, r.pos, r.ref) for k, r in records if k == 0} == truth


def _watch_the_pass(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each read: True when the one pass read the file (it did not give up)."""
    used: list[bool] = []
    real = regionscan._near_regions

    def near(*a: object) -> object:
        got = real(*a)  # type: ignore[arg-type]
        used.append(got is not None)
        return got

    monkeypatch.setattr(regionscan, "_near_regions", near)
    return used


def _gives_up(tmp_path: Path, lines: list[str], header: list[str] = HEADER) -> str:
    path = _bgzip(tmp_path, lines, header)
    with pytest.raises(bgzfscan.GiveUp) as e:
        bgzfscan.scan(path, _regions, io.BytesIO())  # type: ignore[arg-type]
    return str(e.value)


def test_unsorted_inside_one_chunk_gives_up(tmp_path: Path) -> None:
    lines = _records(seed=3)
    # a record inside a region moved among records far from any, in the same chunk: the
    # chunk's first and last lines alone would not show it, and the record would be lost
    inside = next(i for i, x in enumerate(lines) if x.startswith("chr1\t") and 220_000 < int(x.split("\t")[1]) < 250_000)
    far = next(i for i, x in enumerate(lines) if x.startswith("chr1\t") and int(x.split("\t")[1]) > 1_200_000)
    lines.insert(far, lines.pop(inside))
    assert "not sorted" in _gives_up(tmp_path, lines)


def test_interleaved_chromosomes_give_up(tmp_path: Path) -> None:
    lines = _records(seed=4)
    chr2 = next(i for i, x in enumerate(lines) if x.startswith("chr2\t"))
    lines.insert(chr2 + 50, lines[10])  # a chr1 record among the chr2 records
    assert "not together" in _gives_up(tmp_path, lines)


@pytest.mark.parametrize("bad", ["\n", "# a comment\n", "chr1\tx12\t.\tA\tC\t.\tPASS\t.\tGT\t0/1\n",
                                 "chr1\t0\t.\tA\tC\t.\tPASS\t.\tGT\t0/1\n"])
def test_malformed_record_lines_give_up(tmp_path: Path, bad: str) -> None:
    lines = _records(seed=5, n=400)
    lines.insert(37, bad)
    _gives_up(tmp_path, lines)


def test_damaged_files_give_up(tmp_path: Path) -> None:
    path = _bgzip(tmp_path, _records(seed=6, n=4_000))
    data = path.read_bytes()
    truncated = tmp_path / "truncated.vcf.gz"
    truncated.write_bytes(data[: len(data) - 28])  # no EOF block
    corrupt = tmp_path / "corrupt.vcf.gz"
    crc_at = len(data) - 28 - 8  # the last data block's CRC-32, before the EOF block
    corrupt.write_bytes(data[:crc_at] + bytes([data[crc_at] ^ 1]) + data[crc_at + 1:])
    damaged = tmp_path / "damaged.vcf.gz"  # deflate data of a block garbled
    damaged.write_bytes(data[:100] + bytes(b ^ 0x5A for b in data[100:400]) + data[400:])
    for p in (truncated, corrupt, damaged):
        with pytest.raises(bgzfscan.GiveUp):
            bgzfscan.scan(p, _regions, io.BytesIO())  # type: ignore[arg-type]


def test_unsorted_file_still_accounts_for_every_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    lines = _records(seed=7, n=2_000)
    moved = lines.pop(10)
    lines.insert(300, moved)
    path = _bgzip(tmp_path, lines)
    records, total, _ = _read(path, [REGIONS])
    assert total == len(lines)
    truth = {(x.split("\t")[0], int(x.split("\t")[1])) for x in lines
             if any(c == x.split("\t")[0] and s <= int(x.split("\t")[1]) <= e for c, s, e in REGIONS)}
    assert truth <= {(r.chrom, r.pos) for _, r in records}


def test_undeclared_end_is_looked_for(tmp_path: Path) -> None:
    """END= used in the records but not declared: found in the first chunk, then honoured."""
    header = [h for h in HEADER if "ID=END" not in h]
    lines = _records(seed=8)
    path = _bgzip(tmp_path, lines, header)
    sink = io.BytesIO()
    bgzfscan.scan(path, _regions, sink)  # type: ignore[arg-type]
    kept = set(sink.getvalue().decode().splitlines(keepends=True))
    assert {x for x in lines if _reaches(x)} <= kept


@pytest.mark.parametrize("variant", ["crlf", "no-final-newline", "header-only", "one-record", "nc-names"])
def test_edge_files_read_as_the_former_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str) -> None:
    monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    monkeypatch.setattr(bgzfscan, "TEXT_BYTES", 4_000)
    lines = _records(seed=9, n=3_000)
    header = HEADER
    if variant == "header-only":
        lines = []
    elif variant == "one-record":
        lines = [x for x in lines if _reaches(x)][:1]
    elif variant == "nc-names":  # RefSeq accessions as CHROM: the regions' names are canonical
        names = {"chr1": "NC_000001.11", "chr2": "NC_000002.12", "chr3": "NC_000003.12", "chrX": "NC_000023.11"}
        lines = [names[x.split("\t", 1)[0]] + "\t" + x.split("\t", 1)[1] for x in lines]
        header = [h.replace("ID=chr1,", "ID=NC_000001.11,").replace("ID=chr2,", "ID=NC_000002.12,")
                  .replace("ID=chr3,", "ID=NC_000003.12,").replace("ID=chrX,", "ID=NC_000023.11,") for h in HEADER]
    path = _bgzip(tmp_path, lines, header)
    if variant == "crlf":
        text = (tmp_path / "calls.vcf").read_text().replace("\n", "\r\n")
        (tmp_path / "calls.vcf").write_text(text, newline="")
        pysam.tabix_compress(str(tmp_path / "calls.vcf"), str(path), force=True)
    elif variant == "no-final-newline":
        (tmp_path / "calls.vcf").write_text((tmp_path / "calls.vcf").read_text().rstrip("\n"))
        pysam.tabix_compress(str(tmp_path / "calls.vcf"), str(path), force=True)
    used = _watch_the_pass(monkeypatch)
    fast = _read(path, [REGIONS])
    monkeypatch.setattr(regionscan, "_near_regions", lambda *a: None)
    former = _read(path, [REGIONS])
    assert used == [True] and fast == former
    assert fast[1] == len(lines)
    if lines and variant != "one-record":
        assert fast[0]  # some records in the regions


def test_external_vcfs_read_as_the_former_path(shared_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Real callers' bgzipped VCFs (../shared/external), forced through the large-file paths."""
    import gzip

    from annotator.annotation.pipeline import PanelRegions
    from annotator.knowledge import load_panel
    from annotator.reference import load_reference

    monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    sets = []
    for build in ("GRCh38", "GRCh37"):
        ref = load_reference(build)
        genes = set(load_panel(None).gene_symbols())
        sets.append(PanelRegions.build((r.chrom, r.start, r.end, r.gene)
                                       for r in ref.gene_regions(extra_genes=genes)).query_regions())
    files = sorted(p for p in (shared_dir / "external" / "vcf").rglob("*.vcf.gz")
                   if regionscan.file_kind(p) == "bgzf")
    assert files
    read_by_the_pass = opened = 0
    original = regionscan._near_regions
    for path in files:
        copy = tmp_path / path.name  # no index beside it
        copy.write_bytes(path.read_bytes())
        monkeypatch.setattr(regionscan, "_near_regions", original)
        used = _watch_the_pass(monkeypatch)
        try:
            fast = _read(copy, sets)
        except Exception as e:  # noqa: BLE001 - the former path must fail alike
            monkeypatch.setattr(regionscan, "_near_regions", lambda *a: None)
            with pytest.raises(type(e)):
                _read(copy, sets)
            continue  # e.g. several samples and none named the tumour: refused when opened
        opened += 1
        monkeypatch.setattr(regionscan, "_near_regions", lambda *a: None)
        assert fast == _read(copy, sets), path
        with gzip.open(path, "rt", errors="replace") as fh:
            body = [x for x in fh if not x.startswith("#") and x.strip()]
        assert fast[1] == len(body), path
        read_by_the_pass += used == [True]
    assert opened >= len(files) // 2
    assert read_by_the_pass == opened  # real callers' files are sorted and well formed
