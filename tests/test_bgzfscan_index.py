"""The tabix index the one-pass reader of an unindexed bgzipped VCF builds on its way
(annotator.io.bgzfscan ``Found.index``) equals htslib's index of the same file
(``pysam.tabix_index``, decompressed), on files bgzipped by htslib with chunk edges
anywhere; where the pass cannot vouch for htslib's reading (symbolic alleles, END=,
carriage returns, a missing final newline, empty blocks) it builds none.  The annotated
VCF of an unindexed input is then written without indexing the input again, and its
index is htslib's index of the written file."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from annotator.io import bgzfscan

pysam = pytest.importorskip("pysam")

from tests.test_tabixbuild import random_sorted_records  # noqa: E402 - after the skip
from tests.test_vcf_passthrough import _tabix_built  # noqa: E402 - htslib's index of a file

np = pytest.importorskip("numpy")

HEADER = ("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
          "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")


def _regions(native: str) -> object:
    return (np.array([1_000_000]), np.array([1_100_000])) if native == "chr1" else None


def _lines(seed: int) -> list[str]:
    return random_sorted_records(seed, max_chroms=6, max_records=5000, sample=True)


def _bgzip(tmp: Path, text: str, name: str = "calls") -> Path:
    plain = tmp / f"{name}.vcf"
    plain.write_text(text, newline="")
    out = tmp / f"{name}.vcf.gz"
    pysam.tabix_compress(str(plain), str(out), force=True)
    return out


def _scan(path: Path) -> bgzfscan.Found:
    return bgzfscan.scan(path, _regions, io.BytesIO())  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("text_bytes", [3_000, 200_000, bgzfscan.TEXT_BYTES])
def test_index_built_while_reading_is_htslibs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              seed: int, text_bytes: int) -> None:
    monkeypatch.setattr(bgzfscan, "TEXT_BYTES", text_bytes)
    path = _bgzip(tmp_path, HEADER + "".join(_lines(seed)))
    found = _scan(path)
    assert found.index is not None
    assert found.index == _tabix_built(path, tmp_path)


def test_external_vcfs_index_as_htslib(shared_dir: Path, tmp_path: Path) -> None:
    """Real callers' bgzipped VCFs (../shared/external): where the pass builds an index, it is htslib's."""
    files = sorted(p for p in (shared_dir / "external" / "vcf").rglob("*.vcf.gz") if bgzfscan_ok(p))
    built = 0
    for path in files:
        try:
            found = _scan(path)
        except bgzfscan.GiveUp:
            continue
        if found.index is None:
            continue
        built += 1
        assert found.index == _tabix_built(path, tmp_path), path.name
    assert built >= 3


def bgzfscan_ok(path: Path) -> bool:
    from annotator.io.regionscan import file_kind

    return file_kind(path) == "bgzf"


@pytest.mark.parametrize("record", [
    "chr1\t100\t.\tA\t<DEL>\t.\tPASS\tSVLEN=-500\tGT\t0/1\n",
    "chr1\t100\t.\tA\tT\t.\tPASS\tEND=900\tGT\t0/1\n",
    "chr1\t100\t.\tA\t<*>\t.\tPASS\t.\tGT\t0/1\n",
])
def test_records_htslib_reads_its_own_way_build_no_index(tmp_path: Path, record: str) -> None:
    text = HEADER + "chr1\t50\t.\tC\tG\t.\tPASS\t.\tGT\t0/1\n" + record + "chr1\t2000\t.\tC\tG\t.\tPASS\t.\tGT\t0/1\n"
    assert _scan(_bgzip(tmp_path, text)).index is None


@pytest.mark.parametrize("variant", ["crlf", "no-final-newline", "empty-block"])
def test_files_the_pass_cannot_vouch_for_build_no_index(tmp_path: Path, variant: str) -> None:
    lines = _lines(3)
    text = HEADER + "".join(lines)
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "no-final-newline":
        text = text.rstrip("\n")
    path = _bgzip(tmp_path, text)
    if variant == "empty-block":  # an empty block among the data blocks (htslib's reader stops there)
        from annotator.io.bgzf import EOF_BLOCK, block_size

        data = path.read_bytes()
        first = block_size(data[:18])
        assert first is not None and first < len(data) - len(EOF_BLOCK)
        path.write_bytes(data[:first] + EOF_BLOCK + data[first:])
    assert _scan(path).index is None


def test_annotated_vcf_of_an_unindexed_input_needs_no_second_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The block copy uses the index built while reading: htslib never indexes the input, and
    the annotated VCF's index is htslib's index of the annotated VCF."""
    from annotator.api import AnnotateConfig, annotate
    from annotator.io import regionscan, vcfcopy

    repo = Path(__file__).resolve().parent.parent
    demo = repo / "test_vcfs" / "demo" / "demo_tumour.grch38.vcf.gz"
    (tmp_path / "in").mkdir()
    # the demo's small variants (its symbolic records are indexed by htslib's own rules), no .tbi
    demo_text = gzip.decompress(demo.read_bytes()).decode()
    kept = [x for x in demo_text.splitlines(keepends=True) if x.startswith("#") or "<" not in x.split("\t")[4]]
    src = _bgzip(tmp_path / "in", "".join(kept), "tumour")
    monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    monkeypatch.setattr(vcfcopy, "BLOCK_COPY_MIN_BYTES", 0)
    indexed: list[str] = []
    real = pysam.tabix_index

    def watch(path: str, *a: object, **k: object) -> object:
        indexed.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(pysam, "tabix_index", watch)
    annotate(AnnotateConfig(inputs=[str(src)], outdir=str(tmp_path / "out"), formats=("vcf",)))
    assert not any(Path(p).resolve() == src.resolve() for p in indexed)
    (vcf,) = (tmp_path / "out").glob("*.resmark.vcf.gz")
    ours = gzip.decompress(Path(f"{vcf}.tbi").read_bytes())
    monkeypatch.setattr(pysam, "tabix_index", real)
    assert ours == _tabix_built(vcf, tmp_path)
    # the same records as the demo, annotated
    body = [x for x in gzip.decompress(vcf.read_bytes()).decode().splitlines() if not x.startswith("#")]
    assert len(body) == sum(not x.startswith("#") for x in kept)
    assert any("RESMARK" in x for x in body)


def test_no_index_unless_asked(tmp_path: Path) -> None:
    path = _bgzip(tmp_path, HEADER + "".join(_lines(1)))
    assert bgzfscan.scan(path, _regions, io.BytesIO(), index=False).index is None  # type: ignore[arg-type]
    assert _scan(path).index is not None
