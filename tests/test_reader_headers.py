"""Files that callers wrote without a (full) header, and builds told by weak evidence.

Coordinates are PIK3CA c.3140A>G p.H1047R: GRCh38 chr3:179234297, GRCh37
chr3:178952085 (COSMIC / ClinVar VCV000013652), so the truth is independent
of resmark.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.api import AnnotateConfig, annotate
from annotator.reference.buildguess import BuildGuess, fallback_build

RECORD38 = "3\t179234297\t.\tA\tG\t.\tPASS\tDP=15\tGT:AD\t0/1:10,5\n"
CHROM = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"


def _run(tmp_path: Path, name: str, text: str, build: str = "auto"):
    vcf = tmp_path / name
    vcf.write_text(text)
    return annotate(AnnotateConfig(inputs=[vcf], outdir=tmp_path / "out", formats=("tsv",),
                                   build=build))


def _h1047r(result) -> list[str]:
    return [r.hgvsp_short for r in result.rows if r.gene == "PIK3CA"]


def test_no_header_at_all(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    result = _run(tmp_path, "calls.grch38.vcf", RECORD38)
    assert _h1047r(result) == ["p.H1047R"]
    assert result.samples[0].build.name == "GRCh38"
    assert "has no header" in caplog.text and "file name" in caplog.text


def test_chrom_line_without_fileformat(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    result = _run(tmp_path, "calls.vcf", CHROM + RECORD38, build="GRCh38")
    assert _h1047r(result) == ["p.H1047R"]
    assert "no ##fileformat line" in caplog.text


def test_tool_log_lines_before_the_header(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = "00:00:39.673\tReading cancer samples\n00:00:40.001\tdone\n##fileformat=VCFv4.2\n"
    result = _run(tmp_path, "calls.vcf", text + CHROM + RECORD38, build="GRCh38")
    assert _h1047r(result) == ["p.H1047R"]
    assert "2 line(s) before the header" in caplog.text


def test_text_that_is_no_vcf_is_still_refused(tmp_path: Path) -> None:
    from annotator.errors import ResmarkError

    with pytest.raises(ResmarkError, match="not a VCF"):
        _run(tmp_path, "notes.vcf", "hello\tworld\nthis is not a VCF\n")


def _guess(ok37: int, bad37: int, ok38: int, bad38: int) -> BuildGuess:
    return BuildGuess(None, {"GRCh37": ok37 + bad37, "GRCh38": ok38 + bad38},
                      {"GRCh37": bad37, "GRCh38": bad38})


@pytest.mark.parametrize(
    ("guess", "regions", "name", "lines", "expected"),
    [
        (_guess(0, 0, 2, 0), {}, "x.vcf", (), "GRCh38"),  # two matches against none
        (_guess(1, 0, 0, 1), {}, "x.vcf", (), "GRCh37"),  # one match, the other mismatches
        (_guess(0, 0, 1, 0), {}, "x.vcf", (), None),  # one match alone decides nothing
        (_guess(1, 1, 0, 0), {}, "x.vcf", (), None),  # a mismatch spoils it
        (_guess(0, 0, 0, 0), {}, "x.vcf", ("##liftOverChainFile=hg19Tohg38.over.chain.gz",),
         "GRCh38"),
        (_guess(0, 0, 0, 0), {}, "x.vcf", ('##SnpEffCmd="SnpEff -cancer hg19 in.vcf"',), "GRCh37"),
        (_guess(0, 0, 0, 0), {}, "x.vcf", ("##cmd=hg19", "##other=GRCh38"), None),  # both named
        (_guess(0, 0, 0, 0), {}, "T001-BRCA.grch38.vcf.gz", (), "GRCh38"),
        (_guess(0, 0, 0, 0), {}, "s_hg19.vcf", (), "GRCh37"),
        (_guess(0, 0, 0, 0), {}, "hg19_to_hg38.vcf", (), None),
        (_guess(0, 0, 0, 0), {"GRCh37": 3, "GRCh38": 0}, "x.vcf", (), "GRCh37"),
        (_guess(0, 0, 0, 0), {"GRCh37": 1, "GRCh38": 1}, "x.vcf", (), None),
    ],
)
def test_fallback_build(guess, regions, name, lines, expected) -> None:
    build, why = fallback_build(guess, regions, name, lines)
    assert build == expected
    assert bool(why) == (expected is not None)
