"""Breakend parsing (every VCF 4.2 orientation), gene mapping, frame and kinase retention."""

from __future__ import annotations

import pytest

from annotator.cnv.breakends import Breakend, BreakendError, parse
from annotator.cnv.fusion import GeneHit, analyse, fusion_call, is_fusion, kinase_retained, locate
from annotator.reference import load_reference


@pytest.fixture(scope="module")
def ref38():  # type: ignore[no-untyped-def]
    return load_reference("GRCh38")


@pytest.mark.parametrize(
    ("alt", "local", "mate"),
    [
        ("G[chr4:1741000[", "left", "right"),  # t[p[
        ("G]chr4:1741000]", "left", "left"),  # t]p]
        ("]chr4:1741000]G", "right", "left"),  # ]p]t
        ("[chr4:1741000[G", "right", "right"),  # [p[t
    ],
)
def test_four_breakend_orientations(alt: str, local: str, mate: str) -> None:
    ev = parse("4", 1807000, alt, {})
    assert ev.kind == "BND"
    (j,) = ev.junctions
    assert j.a == Breakend("chr4", 1807000, local)
    assert j.b == Breakend("chr4", 1741000, mate)


def test_single_breakends_and_foreign_chrom_names() -> None:
    assert parse("chr1", 10, "A.", {}).junctions[0].a.keeps == "left"
    assert parse("chr1", 10, ".A", {}).junctions[0].a.keeps == "right"
    # SnpEff's test files spell the mate chromosome in upper case
    ev = parse("chr5", 180477296, "[CHR5:180477143[N", {})
    assert ev.junctions[0].b == Breakend("chr5", 180477143, "right")


def test_symbolic_intervals() -> None:
    d = parse("chr9", 21900000, "<DEL>", {"END": "22000000", "CN": "0"})
    assert (d.kind, d.start, d.end, d.copy_number) == ("DEL", 21900001, 22000000, 0.0)
    assert d.junctions[0].a == Breakend("chr9", 21900000, "left")
    assert d.junctions[0].b == Breakend("chr9", 22000001, "right")
    t = parse("chr4", 1741000, "<DUP:TANDEM>", {"END": "1807000"})
    assert t.kind == "DUP" and t.sv_type == "DUP:TANDEM"
    assert t.junctions[0].a == Breakend("chr4", 1807000, "left")
    assert t.junctions[0].b == Breakend("chr4", 1741001, "right")
    inv = parse("chr10", 100, "<INV>", {"END": "500"})
    assert len(inv.junctions) == 2
    assert len(parse("chr10", 100, "<INV>", {"END": "500", "INV3": "true"}).junctions) == 1
    assert parse("chr19", 5, "<CNV>", {"END": "90"}, format_cn=7.0).copy_number == 7.0
    assert parse("chr19", 5, "<CN0>", {"END": "90"}).copy_number == 0.0
    assert parse("chr1", 5, "<INS>", {"SVLEN": "300"}).junctions == ()
    # SVLEN when END is missing
    assert parse("chr1", 100, "<DEL>", {"SVLEN": "-50"}).end == 150


def test_delly_translocation_with_chr2_and_ct() -> None:
    ev = parse("21", 100, "<TRA>", {"CHR2": "15", "END": "900", "CT": "5to3"})
    assert ev.junctions[0].a == Breakend("chr21", 100, "right")
    assert ev.junctions[0].b == Breakend("chr15", 900, "left")


def test_invalid_alleles() -> None:
    with pytest.raises(BreakendError):
        parse("chr1", 100, "<DEL>", {"END": "50"})
    with pytest.raises(BreakendError):
        parse("chr1", 100, "ACGT", {})


def test_breakpoint_exon_intron_strand_aware(ref38) -> None:  # type: ignore[no-untyped-def]
    # FGFR2 (- strand) NM_000141.5: exon 17 = chr10:121,483,698-121,483,803,
    # exon 18 = 121,478,332-121,480,021; keeping >= 121,482,000 keeps exons 1-17
    (hit,) = locate(ref38, Breakend("chr10", 121482000, "right"))
    assert (hit.gene, hit.role, hit.region, hit.intron) == ("FGFR2", "5p", "intron", "17/17")
    assert hit.retained_cds == 2301  # c.1-c.2301: exon 17 ends at codon 767
    assert kinase_retained(hit) is True
    (ex,) = locate(ref38, Breakend("chr10", 121483750, "right"))
    assert ex.region == "exon" and ex.exon == "17/18"
    # intron 16: exons 1-16 only, the kinase domain (aa 481-770) is cut
    (i16,) = locate(ref38, Breakend("chr10", 121484500, "right"))
    assert i16.intron == "16/17" and kinase_retained(i16) is False
    # FGFR3 (+ strand) NM_000142.5 intron 17 (121,806,935-1,807,115), keep left = 5' part
    (f3,) = locate(ref38, Breakend("chr4", 1807000, "left"))
    assert (f3.role, f3.intron, f3.retained_cds) == ("5p", "17/17", 2274)
    assert kinase_retained(f3) is True


def test_fgfr3_tacc3_tandem_duplication_is_a_fusion(ref38) -> None:  # type: ignore[no-untyped-def]
    ev = parse("chr4", 1741000, "<DUP:TANDEM>", {"END": "1807000"})
    pairs = analyse(ref38, ev.junctions[0])
    five, three = next(p for p in pairs if p[0] is not None and p[1] is not None)
    assert five is not None and three is not None
    assert (five.gene, three.gene) == ("FGFR3", "TACC3")
    call = fusion_call(five, three)
    assert call.kinase_retained == {"FGFR3": True} and call.in_frame is None
    assert is_fusion(call, "FGFR3")


def test_frame_from_exon_phases() -> None:
    five = GeneHit("A", "+", "5p", "intron", retained_cds=301, cds_length=900, phase=1)
    in_frame = GeneHit("B", "+", "3p", "intron", retained_cds=500, cds_length=900, phase=1)
    out = GeneHit("B", "+", "3p", "intron", retained_cds=501, cds_length=900, phase=2)
    assert fusion_call(five, in_frame).in_frame is True
    call = fusion_call(five, out)
    assert call.in_frame is False and not is_fusion(call, "A")
