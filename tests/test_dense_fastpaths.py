"""The dense-file shortcuts change no result: deferred read support, the AD carriage probe and
the quiet (UTR/intron/flank) path, each compared with the full computation on the same input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from annotator.api import AnnotateConfig, annotate
from annotator.consequence.engine import ConsequenceEngine
from annotator.errors import InputError
from annotator.io import readsupport
from annotator.io.vcfin import VcfSource
from annotator.io.vcfrecord import allele_not_carried
from annotator.reference import load_reference
from tests.conftest import datapath

# GRCh38 spans with embedded sequence: TP53 exons 5-8, the RB1 intron 1 / exon 2 junction,
# the PTEN exon 5 / intron 5 / exon 6 region (coding, splice windows and deep intron)
SPANS = (("chr17", 7673700, 7674400), ("chr13", 48306900, 48307600), ("chr10", 87931000, 87931400))
HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr10,length=133797422,assembly=GRCh38>
##contig=<ID=chr13,length=114364328,assembly=GRCh38>
##contig=<ID=chr17,length=83257441,assembly=GRCh38>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="Mutect2 filter">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##normal_sample=N1
##tumor_sample=T1
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN1\tT1
"""


def _vcf(path: Path) -> None:
    """Records at every base of SPANS: SNVs, some deletions and insertions, tri-allelic sites,
    filtered records, alleles the tumour does not carry (but the normal does) and none does."""
    ref = load_reference("GRCh38")
    rng = random.Random(23)
    lines = []
    for chrom, start, end in SPANS:
        seq = ref.sequence(chrom, start, end + 10)
        assert seq is not None
        seq = seq.upper()
        for off in range(end - start + 1):
            b, pos = seq[off], start + off
            kind = rng.random()
            if kind < 0.06:
                r, alts = seq[off : off + 3], [b]  # deletion of two bases
            elif kind < 0.1:
                r, alts = b, [b + "TG"]  # insertion
            elif kind < 0.13:
                r, alts = b, [x for x in "ACGT" if x != b][:2]
            else:
                r, alts = b, [rng.choice([x for x in "ACGT" if x != b])]
            dp = rng.randint(500, 3000)
            reads = [rng.choice((0, 0, 2, 9, 40)) for _ in alts]
            nreads = [rng.choice((0, 0, 0, 5)) for _ in alts]
            t = f"0/1:{dp - sum(reads)},{','.join(map(str, reads))}:" \
                f"{','.join(f'{x / dp:.4f}' for x in reads)}:{dp}"
            n = f"0/0:{dp - sum(nreads)},{','.join(map(str, nreads))}:" \
                f"{','.join(f'{x / dp:.4f}' for x in nreads)}:{dp}"
            filt = "weak_evidence" if rng.random() < 0.15 else "PASS"
            lines.append(f"{chrom}\t{pos}\t.\t{r}\t{','.join(alts)}\t.\t{filt}\t.\tGT:AD:AF:DP\t{n}\t{t}")
    order = {"chr10": 0, "chr13": 1, "chr17": 2}
    lines.sort(key=lambda x: (order[x.split("\t")[0]], int(x.split("\t")[1])))
    path.write_text(HEADER + "\n".join(lines) + "\n")


def _result(vcf: Path, out: Path, report: str):  # type: ignore[no-untyped-def]
    res = annotate(AnnotateConfig(inputs=[str(vcf)], outdir=str(out), report=report, formats=("tsv",)))
    (s,) = res.samples
    return ([r for r in s.rows], s.accounting, [(k, a, m) for k, a, m in s.alterations], s.flags,
            (out / "T1.resmark.tsv").read_text())


@pytest.mark.parametrize("report", ["matched", "panel"])
def test_quiet_path_changes_no_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str) -> None:
    vcf = tmp_path / "d.vcf"
    _vcf(vcf)
    asked: list[int] = []
    real = ConsequenceEngine.quiet_genes

    def counting(self: ConsequenceEngine, key):  # type: ignore[no-untyped-def]
        got = real(self, key)
        asked.append(got is not None)
        return got

    monkeypatch.setattr(ConsequenceEngine, "quiet_genes", counting)
    fast = _result(vcf, tmp_path / "fast", report)
    if report == "matched":
        assert sum(asked) > 300  # the deep-intron and UTR records took the quiet path
    monkeypatch.setattr(ConsequenceEngine, "quiet_genes", lambda self, key: None)
    slow = _result(vcf, tmp_path / "slow", report)
    assert fast[0] == slow[0]  # rows
    assert fast[1] == slow[1]  # accounting, bucket by bucket
    assert fast[2] == slow[2] and fast[3] == slow[3]
    assert fast[4] == slow[4]
    assert fast[1].not_carried > 0 and fast[1].filtered > 0 and fast[1].matched > 0


def _callers() -> list[Path]:
    return sorted(datapath("callers").glob("*.vcf"))


@pytest.mark.parametrize("path", _callers(), ids=lambda p: p.name)
def test_ad_probe_agrees_with_the_full_read(path: Path) -> None:
    def carriage(force_first: bool) -> list[tuple[int, int, bool]]:
        src = VcfSource(path)
        try:
            out = []
            for r in src.records():
                if force_first:
                    tuple(r.support)  # the full read first: the probe is not used
                out.extend((r.index, i, allele_not_carried(r.support, i)) for i in range(len(r.alts)))
            return out
        finally:
            src.close()

    assert carriage(False) == carriage(True)


def test_a_deferred_read_fault_names_the_file_and_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vcf = tmp_path / "d.vcf"
    _vcf(vcf)

    def broken(self, v, ref, alts):  # type: ignore[no-untyped-def]
        raise ValueError("odd value")

    monkeypatch.setattr(readsupport.SupportReader, "read", broken)
    src = VcfSource(vcf)
    try:
        rec = next(iter(src.records()))
        with pytest.raises(InputError) as err:
            tuple(rec.support)
    finally:
        src.close()
    text = str(err.value)
    assert "d.vcf" in text and "line 15" in text and "odd value" in text
    # the run stops with that error and leaves no output directory
    with pytest.raises(InputError):
        annotate(AnnotateConfig(inputs=[str(vcf)], outdir=str(tmp_path / "out"), report="panel"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("indexed", [False, True])
def test_a_silent_header_dense_file_is_read_again_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indexed: bool
) -> None:
    """No ##contig / ##reference: the build comes from the REF alleles; past KEPT_RECORDS the
    records are not held but the chosen build's regions are read again, with the same result."""
    import pysam

    from annotator.annotation import single

    vcf = tmp_path / "d.vcf"
    _vcf(vcf)
    text = "".join(x for x in vcf.read_text().splitlines(keepends=True)
                   if not x.startswith(("##contig", "##reference")))
    vcf.write_text(text)
    if indexed:
        pysam.tabix_compress(str(vcf), f"{vcf}.gz")
        pysam.tabix_index(f"{vcf}.gz", preset="vcf")
        vcf = Path(f"{vcf}.gz")
    held = _result(vcf, tmp_path / "held", "matched")
    monkeypatch.setattr(single, "KEPT_RECORDS", 50)
    again = _result(vcf, tmp_path / "again", "matched")
    assert held[0] == again[0] and held[1] == again[1] and held[4] == again[4]
    assert held[1].records_read > 50 and held[1].annotated > 0
