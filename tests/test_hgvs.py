"""HGVS conventions (hgvs-nomenclature.org examples) on small sequences."""

from __future__ import annotations

from annotator.consequence import hgvs
from annotator.consequence.codons import translate


def test_shift_3prime_deletion_and_insertion() -> None:
    seq = "GATTTTCA"  # oriented positions 1..8

    def get(a: int, b: int) -> str | None:
        return seq[a - 1 : b] if 1 <= a <= b <= len(seq) else None

    # delete the first T (position 3): the 3' rule moves it to the last T (6)
    assert hgvs.shift_3prime(get, 3, 3, "T", 8) == (6, 6, "T")
    # insert T after position 2: ends after position 6 (a dup of T6)
    assert hgvs.shift_3prime(get, 3, 2, "T", 8) == (7, 6, "T")
    # dinucleotide rotation: delete "TC"? not a repeat -> stays
    assert hgvs.shift_3prime(get, 6, 7, "TC", 8) == (6, 7, "TC")
    # unknown sequence stops shifting
    assert hgvs.shift_3prime(lambda a, b: None, 3, 3, "T", 8) == (3, 3, "T")


def test_describe_c() -> None:
    assert hgvs.describe_c("sub", "1449+1", "1449+1", "G", "A") == "c.1449+1G>A"
    assert hgvs.describe_c("del", "19", "21", "", "") == "c.19_21del"
    assert hgvs.describe_c("dup", "20", "20", "", "T") == "c.20dup"
    assert hgvs.describe_c("ins", "51", "52", "", "T") == "c.51_52insT"
    assert hgvs.describe_c("delins", "6775", "6777", "GAA", "C") == "c.6775_6777delinsC"
    assert hgvs.describe_c("sub", None, None, "G", "A") is None


REF = "MKQQQLE*"  # a Gln repeat at 3-5


def test_protein_substitution_forms() -> None:
    pc = hgvs.protein_diff(REF, "MKQQRLE*", 4)
    assert (pc.hgvsp, pc.hgvsp_short, pc.kind) == ("p.Gln5Arg", "p.Q5R", "missense")
    pc = hgvs.protein_diff(REF, "MKQQQ*E*", 5)
    assert (pc.hgvsp, pc.hgvsp_short) == ("p.Leu6Ter", "p.L6*")
    pc = hgvs.protein_diff(REF, REF, 2)
    assert (pc.hgvsp, pc.hgvsp_short, pc.kind) == ("p.Gln3=", "p.Q3=", "synonymous")


def test_protein_deletion_duplication_insertion_3prime() -> None:
    pc = hgvs.protein_diff(REF, "MKQQLE*", 2)  # one Gln less: the last one is deleted
    assert (pc.hgvsp, pc.hgvsp_short) == ("p.Gln5del", "p.Q5del")
    pc = hgvs.protein_diff(REF, "MKQQQQLE*", 2)  # one Gln more: dup of the last
    assert (pc.hgvsp, pc.hgvsp_short) == ("p.Gln5dup", "p.Q5dup")
    pc = hgvs.protein_diff(REF, "MKQQQWLE*", 2)
    assert (pc.hgvsp, pc.hgvsp_short) == ("p.Gln5_Leu6insTrp", "p.Q5_L6insW")
    pc = hgvs.protein_diff(REF, "MKQQQKLLE*", 2)
    assert pc.hgvsp_short == "p.Q5_L6insKL"
    pc = hgvs.protein_diff(REF, "MKWE*", 2)
    assert (pc.hgvsp, pc.kind) == ("p.Gln3_Leu6delinsTrp", "delins")
    pc = hgvs.protein_diff(REF, "MKQLE*", 2)
    assert pc.hgvsp == "p.Gln4_Gln5del"


def test_frameshift_and_extension_forms() -> None:
    pc = hgvs.frameshift("MKQQQLE*", "MKQRGA*", 2)
    assert (pc.hgvsp, pc.hgvsp_short) == ("p.Gln4ArgfsTer4", "p.Q4Rfs*4")
    pc = hgvs.frameshift("MKQQQLE*", "MKQRGA", 2)  # no stop in the known sequence
    assert pc.hgvsp_short == "p.Q4Rfs*?"
    pc = hgvs.frameshift("MKQQQLE*", "MK*", 1)
    assert pc.hgvsp == "p.Gln3Ter"
    pc = hgvs.extension(7, "QAB*")
    assert (pc.hgvsp, pc.hgvsp_short) == ("p.Ter8GlnextTer3", "p.*8Qext*3")
    assert hgvs.start_lost().hgvsp == "p.Met1?"


def test_translate() -> None:
    assert translate("ATGCATTGA") == "MH*"
    assert translate("ATGNNN") == "MX"
