"""Copy-number input formats: each reader on a tiny fixture, and the real HCC2218 files."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.cnv.genecall import call_genes
from annotator.cnv.readers import read_cnv
from annotator.cnv.segment import read_table
from annotator.errors import InputError
from annotator.reference import load_reference
from tests.conftest import datapath

HCC2218 = ("external", "vcf", "umccr_vcf_stuff", "data", "cnv", "hcc2218")


def _calls(path: Path, build: str = "GRCh38", **kw: object) -> dict[str, object]:
    ref = load_reference(build)
    regions = [(g.gene, g.chrom, g.start, g.end) for g in ref.gene_regions()]
    exons = {g: t.exons for g, t in ref.transcripts.items()}
    cnv = read_cnv(path, kw.pop("sample", None))  # type: ignore[arg-type]
    return {c.gene: c for c in call_genes(cnv, regions, exons, **kw)}  # type: ignore[arg-type]


def test_cnvkit_cns_is_zero_based_and_skips_alt_contigs() -> None:
    cnv = read_cnv(datapath("cnv", "erbb2_amp.grch38.cns"))
    assert cnv.fmt == "cnvkit-cns" and cnv.source == "cnvkit" and not cnv.bins
    first = cnv.segments[0]
    assert (first.chrom, first.start, first.end) == ("chr7", 90000001, 95000000)
    assert cnv.skipped == 1  # chr1_KI270706v1_random


def test_cnvkit_cns_gene_calls() -> None:
    calls = _calls(datapath("cnv", "erbb2_amp.grch38.cns"))
    assert calls["ERBB2"].call == "amplification"  # type: ignore[attr-defined]
    assert calls["ERBB2"].copy_number == 15  # type: ignore[attr-defined]
    assert calls["PTEN"].call == "loss"  # type: ignore[attr-defined]
    assert calls["RB1"].call == "deep_deletion"  # type: ignore[attr-defined]
    assert calls["CCNE1"].call == "neutral"  # type: ignore[attr-defined]


def test_cnvkit_cnr_bins_are_averaged_over_the_gene() -> None:
    cnv = read_cnv(datapath("cnv", "erbb2_bins.grch38.cnr"))
    assert cnv.fmt == "cnvkit-cnr" and cnv.bins
    calls = _calls(datapath("cnv", "erbb2_bins.grch38.cnr"))
    erbb2 = calls["ERBB2"]
    assert erbb2.call == "amplification"  # type: ignore[attr-defined]
    assert 2.85 < erbb2.log2 < 2.95  # type: ignore[attr-defined]


def test_purple_segments() -> None:
    cnv = read_cnv(datapath("cnv", "purple.cnv.somatic.grch38.tsv"))
    assert cnv.fmt == "purple" and all(s.cn_is_adjusted for s in cnv.segments)
    calls = _calls(datapath("cnv", "purple.cnv.somatic.grch38.tsv"))
    assert calls["ERBB2"].call == "amplification"  # type: ignore[attr-defined]
    assert calls["ERBB2"].copy_number == pytest.approx(18.4)  # type: ignore[attr-defined]
    # a homozygous deletion inside a PTEN intron removes no exon: no deep deletion
    assert calls["PTEN"].call == "neutral"  # type: ignore[attr-defined]


def test_seg_multi_sample_needs_the_sample() -> None:
    path = datapath("cnv", "two_samples.grch38.seg")
    with pytest.raises(InputError, match="2 samples"):
        read_cnv(path, "nobody")
    s1 = _calls(path, sample="S1")
    s2 = _calls(path, sample="S2")
    assert s1["FGFR1"].call == "amplification" and s1["CCNE1"].call == "neutral"  # type: ignore[attr-defined]
    assert s2["FGFR1"].call == "neutral" and s2["CCNE1"].call == "amplification"  # type: ignore[attr-defined]


def test_cbioportal_discrete_and_gene_cn_tables() -> None:
    d = read_cnv(datapath("cnv", "cbioportal_discrete.tsv"), "S1")
    assert d.fmt == "cbioportal-discrete" and d.sample == "S1"
    assert {g.gene: g.discrete for g in d.genes}["RB1"] == -2
    g = read_cnv(datapath("cnv", "gene_cn.tsv"))
    assert g.fmt == "gene-cn"
    assert {x.gene: x.copy_number for x in g.genes}["FGFR1"] == 9.5


def test_unknown_table_is_a_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "x.tsv"
    p.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="unrecognised copy-number table"):
        read_cnv(p)


def test_bad_number_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.cns"
    p.write_text("chromosome\tstart\tend\tgene\tlog2\tprobes\nchr17\t1\t100\tX\tabc\t3\n")
    with pytest.raises(InputError, match="line 2"):
        read_cnv(p)


# -- real files (../shared) ---------------------------------------------------------
def _truth_cn(shared: Path, chrom: str, pos: int) -> float:
    table = read_table(shared.joinpath(*HCC2218, "HCC2218_truthset_cnv_bcbio.tsv"))
    for _, f in table.rows:
        if f[0] == chrom and int(f[1]) <= pos <= int(f[2]):
            return float(f[3])
    raise AssertionError("position not in the truth set")


def test_hcc2218_cnvkit_erbb2_amplification_agrees_with_truth(shared_dir: Path) -> None:
    # ERBB2 GRCh37 chr17:37,856,317-37,884,911 (MANE NM_004448.4); the truth set is GRCh37
    truth = _truth_cn(shared_dir, "17", 37_870_000)
    assert truth == 17
    calls = _calls(shared_dir.joinpath(*HCC2218, "HCC2218_cnvkit-call.cns"), "GRCh37")
    erbb2 = calls["ERBB2"]
    assert erbb2.call == "amplification"  # type: ignore[attr-defined]
    assert abs(erbb2.copy_number - truth) <= 2  # type: ignore[attr-defined]
    assert erbb2.fraction == 1.0  # type: ignore[attr-defined]


def test_hcc2218_facets_erbb2_amplification_agrees_with_truth(shared_dir: Path) -> None:
    calls = _calls(shared_dir.joinpath(*HCC2218, "HCC2218_facets_cncf.tsv"), "GRCh37")
    assert calls["ERBB2"].call == "amplification"  # type: ignore[attr-defined]
    assert abs(calls["ERBB2"].copy_number - 17) <= 2  # type: ignore[attr-defined]


def test_hcc2218_purple_table_is_read_and_reports_what_it_holds(shared_dir: Path) -> None:
    """The PURPLE table in the corpus has no ERBB2 amplicon: its segment
    17:34,965,001-46,493,000 spans ERBB2 at copy number 0.71, while the truth set
    (and CNVkit, FACETS) give 17 copies.  resmark must report the table as it is."""
    path = shared_dir.joinpath(*HCC2218, "HCC2218_purple.cnv.tsv")
    cnv = read_cnv(path)
    assert cnv.fmt == "purple" and len(cnv.segments) == 73
    raw = [s for s in cnv.segments if s.chrom == "chr17" and s.start <= 37_856_317 <= s.end]
    assert len(raw) == 1 and raw[0].copy_number == pytest.approx(0.7142, abs=1e-3)
    calls = _calls(path, "GRCh37")
    assert calls["ERBB2"].copy_number == pytest.approx(raw[0].copy_number)  # type: ignore[attr-defined]
    assert calls["ERBB2"].call != "amplification"  # type: ignore[attr-defined]
    # where PURPLE does see the chr17 amplicons its copy number matches the truth set
    amp = [s for s in cnv.segments if s.chrom == "chr17" and s.start == 46_493_001]
    assert abs(amp[0].copy_number - _truth_cn(shared_dir, "17", 46_500_000)) < 1.0  # type: ignore[operator]


def test_hcc2218_titan_and_truth_files_are_read(shared_dir: Path) -> None:
    titan = read_cnv(shared_dir.joinpath(*HCC2218, "HCC2218_titan.segs.tsv"))
    assert titan.fmt == "titan" and len(titan.segments) == 117
    truth = read_cnv(shared_dir.joinpath(*HCC2218, "HCC2218_truthset_cnv_bcbio.tsv"))
    assert truth.fmt == "bed-cn" and len(truth.segments) == 111


def test_pcgr_allele_specific_table(shared_dir: Path) -> None:
    path = shared_dir / "external" / "vcf" / "pcgr" / "T001-BRCA.grch38.cna.tsv"
    cnv = read_cnv(path)
    assert cnv.fmt == "allele-specific"
    first = cnv.segments[0]
    assert (first.chrom, first.start, first.copy_number) == ("chr1", 809641, 1.0)  # nMajor 1 + nMinor 0
