"""Upstream annotation parsers: VEP CSQ, SnpEff ANN / EFF, bcftools BCSQ."""

from __future__ import annotations

import gzip
from pathlib import Path

from annotator.consequence import ConsequenceEngine
from annotator.consequence.upstream import UpstreamParser, compare, pick, short_protein
from annotator.core.models import TranscriptConsequence, VariantKey
from annotator.reference import load_reference
from tests.conftest import datapath

MANE = ("NM_006218.4", "ENST00000263967.4", "ENST00000206249.8")


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    header, records = [], []
    with opener(path, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                header.append(line.rstrip("\n"))
            elif line.count("\t") >= 7:  # SnpEff's example keeps a log line on top
                records.append(line.rstrip("\n").split("\t"))
    return header, records


def _info(field: str) -> dict[str, str]:
    out = {}
    for item in field.split(";"):
        k, _, v = item.partition("=")
        out[k] = v
    return out


def test_vep_csq_field_order_allele_and_pick() -> None:
    header, recs = _read(datapath("consequence", "vep_csq_pik3ca_esr1.vcf"))
    parser = UpstreamParser.from_header(header)
    assert parser is not None and (parser.tag, parser.source) == ("CSQ", "vep")
    assert parser.fields[:4] == ("Allele", "Consequence", "IMPACT", "SYMBOL")
    tcs = parser.consequences(_info(recs[0][7]), "G", 1)
    assert len(tcs) == 2
    best = pick(tcs, MANE)
    assert best is not None
    assert (best.transcript, best.hgvsc, best.hgvsp, best.hgvsp_short) == (
        "ENST00000263967.4", "c.3140A>G", "p.His1047Arg", "p.H1047R")
    assert best.consequence == ("missense_variant",) and best.canonical and best.source == "vep"
    assert (best.protein_start, best.ref_aa, best.alt_aa, best.exon) == (1047, "H", "R", "21/21")
    # multi-allelic indel record: VEP writes '-' for the deletion allele
    dels = parser.consequences(_info(recs[2][7]), "G", 1)
    dups = parser.consequences(_info(recs[2][7]), "GAA", 2)
    assert [t.hgvsc for t in dels] == ["c.1627del"]
    assert [t.hgvsc for t in dups] == ["c.1627dup"]
    assert dels[0].hgvsp_short == "p.I543Sfs*17"


def test_vep_agrees_with_builtin() -> None:
    header, recs = _read(datapath("consequence", "vep_csq_pik3ca_esr1.vcf"))
    parser = UpstreamParser.from_header(header)
    assert parser is not None
    engine = ConsequenceEngine(load_reference("GRCh38"))
    for rec in recs:
        alts = rec[4].split(",")
        for i, alt in enumerate(alts, start=1):
            up = pick(parser.consequences(_info(rec[7]), alt, i), MANE)
            built = engine.annotate(VariantKey(rec[0], int(rec[1]), rec[3], alt))[0]
            assert up is not None
            assert compare(built, up) is None, (rec[:5], built, up)


def test_legacy_eff() -> None:
    header, recs = _read(datapath("consequence", "snpeff_eff_legacy_pik3ca.vcf"))
    parser = UpstreamParser.from_header(header)
    assert parser is not None and (parser.tag, parser.source) == ("EFF", "snpeff-eff")
    assert "Genotype_Number" in parser.fields
    best = pick(parser.consequences(_info(recs[0][7]), "G", 1), ["ENST00000263967"])
    assert best is not None
    assert (best.hgvsp_short, best.consequence, best.exon) == (
        "p.H1047R", ("missense_variant",), "21")
    second = parser.consequences(_info(recs[1][7]), "C", 2)
    assert [t.hgvsp_short for t in second] == ["p.E545Q"]


def test_bcftools_bcsq() -> None:
    header, recs = _read(datapath("consequence", "bcftools_bcsq_pik3ca.vcf"))
    parser = UpstreamParser.from_header(header)
    assert parser is not None and (parser.tag, parser.source) == ("BCSQ", "bcsq")
    tcs = parser.consequences(_info(recs[0][7]), "G", 1)
    assert len(tcs) == 1
    assert (tcs[0].gene, tcs[0].hgvsp_short, tcs[0].consequence, tcs[0].protein_start) == (
        "PIK3CA", "p.H1047R", ("missense_variant",), 1047)
    assert parser.consequences(_info(recs[0][7]), "T", 1) == ()


def test_snpeff_ann_external(shared_dir: Path) -> None:
    path = shared_dir / "external" / "vcf" / "snpeff" / "cancer.ann.vcf"
    header, recs = _read(path)
    parser = UpstreamParser.from_header(header)
    assert parser is not None and (parser.tag, parser.source) == ("ANN", "snpeff")
    assert parser.fields[:3] == ("Allele", "Annotation", "Annotation_Impact")
    # 1:69091 A>C,G: OR4F5 start codon (SnpEff's own example output)
    g = parser.consequences(_info(recs[0][7]), "G", 1)
    assert [(t.gene, t.consequence, t.hgvsc, t.hgvsp) for t in g] == [
        ("OR4F5", ("start_lost",), "c.1A>G", "p.Met1?")]
    vardict = shared_dir / "external" / "vcf" / "umccr_vcf_stuff" / "data" / "test-vardict.vcf.gz"
    header, recs = _read(vardict)
    parser = UpstreamParser.from_header(header)
    assert parser is not None and parser.tag == "ANN"
    n = sum(len(parser.consequences(_info(r[7]), r[4].split(",")[0], 1)) for r in recs)
    assert n > len(recs)


def _tc(**kw: object) -> TranscriptConsequence:
    base: dict[str, object] = {"gene": "PIK3CA", "transcript": "NM_006218.4",
                               "consequence": ("missense_variant",), "hgvsp_short": "p.H1047R"}
    base.update(kw)
    return TranscriptConsequence(**base)  # type: ignore[arg-type]


def test_compare_tolerates_versions_and_letter_forms() -> None:
    built = _tc()
    assert compare(built, _tc(transcript="ENST00000263967.3", hgvsp_short=None,
                              hgvsp="p.His1047Arg", source="vep")) is None
    assert compare(_tc(hgvsp_short="p.R130*"), _tc(hgvsp_short=None, hgvsp="p.Arg130Ter")) is None
    assert compare(_tc(hgvsp_short="p.D84="), _tc(hgvsp_short="p.D84D")) is None
    diff = compare(built, _tc(hgvsp_short="p.H1047L", source="snpeff"))
    assert diff is not None and "p.H1047R vs p.H1047L" in diff
    diff = compare(built, _tc(consequence=("synonymous_variant",)))
    assert diff is not None and "consequence" in diff
    assert short_protein("ENSP00000263967.3:p.(Glu545Lys)") == "p.E545K"
    assert short_protein("p.Leu25%3D") == "p.L25="


def test_pick_prefers_mane_then_canonical_then_severity() -> None:
    a = _tc(transcript="ENST00000999999.1", consequence=("stop_gained",), canonical=False)
    b = _tc(transcript="NM_006218.2", consequence=("intron_variant",), canonical=False)
    c = _tc(transcript="ENST00000888888.1", consequence=("missense_variant",), canonical=True)
    assert pick([a, b, c], ["NM_006218.4"]) is b
    assert pick([a, c], ["NM_006218.4"]) is c
    assert pick([a], []) is a
    assert pick([], ["x"]) is None


def test_vep_total_length_positions() -> None:
    """VEP --total_length (as PCGR runs it) writes "1047/1068": position / length."""
    header, recs = _read(datapath("consequence", "vep_csq_total_length.vcf"))
    parser = UpstreamParser.from_header(header)
    assert parser is not None
    best = pick(parser.consequences(_info(recs[0][7]), "G", 1), MANE)
    assert best is not None
    assert (best.protein_start, best.protein_end, best.cds_position) == (1047, 1047, 3140)
    assert best.hgvsp_short == "p.H1047R"
    esr1 = pick(parser.consequences(_info(recs[1][7]), "C", 1), MANE)
    assert esr1 is not None and (esr1.protein_start, esr1.cds_position) == (537, 1610)
    dup = parser.consequences(_info(recs[2][7]), "GAA", 2)
    assert [(t.protein_start, t.protein_end, t.cds_position) for t in dup] == [(542, 543, 1624)]


def test_position_field_forms() -> None:
    from annotator.consequence.upstream import _span

    assert _span("12") == (12, 12)
    assert _span("12/189") == (12, 12)
    assert _span("12-14/189") == (12, 14)
    assert _span("?-14/189") == (None, 14)
    assert _span("12-?") == (12, None)
    assert _span("") == (None, None)
    assert _span("-") == (None, None)
    assert _span("abc") == (None, None)
