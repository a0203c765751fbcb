"""Copy-number and SV calls at a gene's exact boundary (docs/cnv_sv.md, "Boundaries").

Rule: 1-based closed intervals.  A ``<DEL>``/``<DUP>``/``<CNV>`` at POS with END
affects POS+1..END (POS is the padding base); a segment covers start..end (a
0-based half-open start, CNVkit/BED, is made 1-based first).  An interval
overlaps a gene start..end when it shares one base: a call ending exactly at
the gene's first base overlaps it.  A breakend keeping the left side breaks
between pos and pos+1, keeping the right side between pos-1 and pos; a break
exactly at the gene's edge leaves the gene whole (not a rearrangement of it).

WEE1: NCBI MANE v1.5, NM_003390.4, GRCh38 chr11:9573670-9589985 (+).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.annotation.config import AnnotateConfig
from annotator.annotation.run import annotate
from annotator.cnv.genecall import call_genes
from annotator.cnv.readers import read_cnv
from annotator.cnv.segment import CnvInput, Segment
from annotator.reference import load_reference

START, END = 9573670, 9589985
HEAD = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr11,length=135086622>
##ALT=<ID=DEL,Description="Deletion">
##ALT=<ID=DUP,Description="Duplication">
##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##INFO=<ID=CN,Number=1,Type=Float,Description="Copy number">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	TUMOR
"""


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("RESMARK_FASTA", "RESMARK_GTF", "RESMARK_GTF_ONLY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RESMARK_CONFIG", str(tmp_path / "absent.toml"))


def test_embedded_span_is_the_mane_span() -> None:
    r = load_reference("GRCh38").gene_region("WEE1")
    assert r is not None and (r.chrom, r.start, r.end, r.strand) == ("chr11", START, END, "+")


def _one(tmp_path: Path, record: str) -> tuple[str, list[tuple[str, str]]]:
    vcf = tmp_path / "sv.vcf"
    vcf.write_text(HEAD + record + "\n")
    res = annotate(AnnotateConfig(inputs=[vcf], outdir=tmp_path / "out", report="panel", formats=("json",)))
    s = res.samples[0]
    acc = s.accounting.as_dict()
    bucket = "annotated" if acc.get("annotated") else "off_panel"
    return bucket, [(r.gene or "", r.alteration_class or "") for r in s.rows]


def test_deletion_ending_at_the_first_base_overlaps(tmp_path: Path) -> None:
    # deletes 9560001..9573670: WEE1's first base goes
    bucket, rows = _one(tmp_path, f"chr11\t9560000\td\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL;END={START}\tGT\t0/1")
    assert bucket == "annotated" and ("WEE1", "loss") in rows


def test_deletion_ending_one_base_before_does_not(tmp_path: Path) -> None:
    bucket, rows = _one(tmp_path, f"chr11\t9560000\td\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL;END={START - 1}\tGT\t0/1")
    assert bucket == "off_panel" and not rows


def test_deletion_whose_padding_base_is_the_last_base_does_not(tmp_path: Path) -> None:
    # POS = WEE1's last base is kept: the deletion starts at END + 1
    bucket, rows = _one(tmp_path, f"chr11\t{END}\td\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL;END=9600000\tGT\t0/1")
    assert bucket == "off_panel" and not rows


def test_whole_gene_duplication_ending_at_the_last_base_is_an_amplification(tmp_path: Path) -> None:
    # 9573670..9589985 exactly: the junction joins END to POS+1, outside the gene's inner bases
    bucket, rows = _one(tmp_path, f"chr11\t{START - 1}\tamp\tA\t<DUP>\t.\tPASS\tSVTYPE=DUP;END={END};CN=12\tGT\t0/1")
    assert rows == [("WEE1", "amplification")]


def _regions() -> list[tuple[str, str, int, int]]:
    return [("WEE1", "chr11", START, END)]


def test_segment_ending_at_the_first_base_overlaps_by_one_base() -> None:
    seg = CnvInput("x", "seg", "seg", segments=(Segment("chr11", 9_400_000, START, copy_number=12.0),))
    (call,) = call_genes(seg, _regions())
    assert call.gene == "WEE1" and call.fraction == pytest.approx(1 / (END - START + 1))
    before = CnvInput("x", "seg", "seg", segments=(Segment("chr11", 9_400_000, START - 1, copy_number=12.0),))
    assert call_genes(before, _regions()) == []


def test_cnvkit_zero_based_segment_covers_the_gene_exactly(tmp_path: Path) -> None:
    cns = tmp_path / "wee1.cns"
    cns.write_text("chromosome\tstart\tend\tgene\tlog2\tcn\tdepth\tprobes\tweight\n"
                   f"chr11\t{START - 1}\t{END}\tWEE1\t2.6\t12\t100\t40\t30\n"
                   f"chr11\t{END}\t9700000\t-\t0.0\t2\t100\t40\t30\n")
    cnv = read_cnv(cns, "TUMOR")
    assert [(s.start, s.end) for s in cnv.segments] == [(START, END), (END + 1, 9700000)]
    (call,) = call_genes(cnv, _regions())
    assert (call.call, call.fraction, len(call.segments)) == ("amplification", 1.0, 1)
