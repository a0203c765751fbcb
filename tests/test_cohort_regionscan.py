"""Unindexed inputs read only in the panel regions (annotator.io.regionscan).

Every way of reading must give the same rows and account for every record:
records read + records skipped = records in the file.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pysam
import pytest

from annotator.api import AnnotateConfig, RunContext, annotate_file
from annotator.io import regionscan
from tests.conftest import datapath

SOURCE = datapath("cohort", "P001_T1.vcf.gz")  # 4 hotspot records
EXTRA = "chr3\t100000000\t.\tA\tG\t.\tPASS\tDP=10\tGT:AD:AF:DP\t0/0:40,0:0.000:40\t0/1:5,5:0.500:10\n"


@pytest.fixture(scope="module")
def ctx() -> RunContext:
    from annotator.knowledge import load_panel

    return RunContext(config=AnnotateConfig(inputs=(), outdir="unused"), panel=load_panel(None))


def _text(tmp: Path) -> Path:
    """The fixture plus an intergenic record, as sorted plain text (5 records)."""
    import gzip

    with gzip.open(SOURCE, "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = sorted([line for line in lines if not line.startswith("#")] + [EXTRA],
                  key=lambda x: (x.split("\t")[0], int(x.split("\t")[1])))
    path = tmp / "calls.vcf"
    path.write_text("".join(header + body))
    return path


def _variants(tmp: Path, kind: str) -> Path:
    text = _text(tmp)
    if kind == "text":
        return text
    if kind == "gzip":
        subprocess.run(["gzip", "-k", str(text)], check=True)
        return tmp / "calls.vcf.gz"
    bgz = tmp / "calls.bgz.vcf.gz"
    pysam.tabix_compress(str(text), str(bgz), force=True)
    if kind == "indexed":
        pysam.tabix_index(str(bgz), preset="vcf", force=True)
    if kind == "bcf":
        out = tmp / "calls.bcf"
        with pysam.VariantFile(str(bgz)) as vin, pysam.VariantFile(str(out), "wb", header=vin.header) as vout:
            for rec in vin:
                vout.write(rec)
        return out
    return bgz


def _key(ctx: RunContext, path: Path) -> tuple[list[tuple[str, str | None]], int, int]:
    res = annotate_file(path, ctx)
    rows = sorted((r.variant_key, r.hgvsp_short) for r in res.rows)
    acc = res.accounting
    return rows, acc.records_read, acc.records_read + (acc.off_panel_by_index or 0)


@pytest.mark.parametrize("small", [True, False], ids=["small-file", "large-file-path"])
@pytest.mark.parametrize("kind", ["text", "gzip", "unindexed-bgzf", "bcf"])
def test_unindexed_reads_match_the_indexed_read(
    kind: str, small: bool, ctx: RunContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "gzip" and shutil.which("gzip") is None:
        pytest.skip("gzip not installed")
    (tmp_path / "indexed").mkdir()
    indexed = _key(ctx, _variants(tmp_path / "indexed", "indexed"))
    used: list[str] = []
    for name in ("_checked_records", "_text_records", "_index_on_the_fly", "_near_regions"):
        original = getattr(regionscan, name)

        def spy(*args: object, _name: str = name, _f: object = original) -> object:
            used.append(_name)
            return _f(*args)  # type: ignore[operator]

        monkeypatch.setattr(regionscan, name, spy)
    if not small:
        monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    (tmp_path / kind).mkdir()
    got = _key(ctx, _variants(tmp_path / kind, kind))
    expected_path = {"text": "_text_records", "gzip": "_text_records",
                     "unindexed-bgzf": "_near_regions", "bcf": "_checked_records"}[kind]
    assert used == ["_checked_records" if small else expected_path]
    assert got[0] == indexed[0]
    assert {h for _, h in got[0]} == {"p.H1047R", "p.Y537S", "p.D538G", "p.G12D"}
    assert got[2] == 5  # every record accounted for
    assert indexed[2] == 5


def test_unsorted_bgzip_falls_back_to_the_text_filter(
    ctx: RunContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _text(tmp_path)
    lines = text.read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    shuffled = tmp_path / "unsorted.vcf"
    shuffled.write_text("".join(header + body[::-1]))
    bgz = tmp_path / "unsorted.vcf.gz"
    pysam.tabix_compress(str(shuffled), str(bgz), force=True)
    monkeypatch.setattr(regionscan, "SMALL_FILE", 0)
    rows, _, total = _key(ctx, bgz)
    assert {h for _, h in rows} == {"p.H1047R", "p.Y537S", "p.D538G", "p.G12D"}
    assert total == 5


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("text", "text"), ("gzip", "gzip"), ("unindexed-bgzf", "bgzf"), ("bcf", "bcf")],
)
def test_file_kind(kind: str, expected: str, tmp_path: Path) -> None:
    if kind == "gzip" and shutil.which("gzip") is None:
        pytest.skip("gzip not installed")
    assert regionscan.file_kind(_variants(tmp_path, kind)) == expected
