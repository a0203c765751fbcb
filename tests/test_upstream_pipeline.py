"""Upstream annotations inside the annotate pipeline: built-in wins, disagreements are
listed, and upstream fills in protein changes for genes without embedded sequence."""

from __future__ import annotations

import json

from annotator.api import AnnotateConfig, annotate
from tests.conftest import datapath

VEP = datapath("consequence", "vep_csq_pik3ca_esr1.vcf")


def run(tmp_path, path):
    return annotate(AnnotateConfig(inputs=[str(path)], outdir=str(tmp_path / "out"),
                                   report="panel", formats=("json",)))


def test_agreeing_vep_annotation_is_not_a_disagreement(tmp_path):
    res = run(tmp_path, VEP)
    rows = {r.hgvsp_short: r for r in res.rows}
    for change in ("p.H1047R", "p.Y537S"):
        assert rows[change].annotation_source == "builtin"
        assert rows[change].upstream_disagreement is None
    assert res.samples[0].disagreements == []


def test_disagreeing_vep_annotation_is_listed(tmp_path):
    text = VEP.read_text().replace("p.Tyr537Ser", "p.Tyr537Asn").replace("Y/S", "Y/N")
    changed = tmp_path / "vep_disagrees.vcf"
    changed.write_text(text)
    res = run(tmp_path, changed)
    row = next(r for r in res.rows if r.gene == "ESR1")
    assert row.hgvsp_short == "p.Y537S"  # the built-in engine (with sequence) is used
    assert row.upstream_disagreement and "Y537N" in row.upstream_disagreement
    doc = json.loads((tmp_path / "out" / f"{res.samples[0].sample}.resmark.json").read_text())
    assert len(doc["upstream_disagreements"]) == 1 and "Y537N" in doc["upstream_disagreements"][0]


def test_upstream_supplies_protein_change_without_embedded_sequence(tmp_path):
    # CONSTRUCTED plumbing case: CCNE1 has no embedded sequence (shared/reference README),
    # c.100 is chr19:29812765 on NM_001238.4 (exon 3 starts at c.24 = 29812689); the CSQ text is
    # invented to show that upstream fills what coordinates alone cannot give.
    fmt = VEP.read_text().split("\n")
    header = [line for line in fmt if line.startswith("##") and "contig" not in line]
    csq = ("T|missense_variant|MODERATE|CCNE1|ENSG00000105173|Transcript|ENST00000262643.8|"
           "protein_coding|3/12||ENST00000262643.8:c.100C>T|ENSP00000262643.3:p.Arg34Trp|||100|34|R/W|"
           "Cgg/Tgg|||1||HGNC|HGNC:1589|YES|NM_001238.4|")
    vcf = tmp_path / "ccne1.vcf"
    vcf.write_text("\n".join([*header, "##contig=<ID=chr19,length=58617616>",
                              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
                              f"chr19\t29812765\t.\tC\tT\t.\tPASS\tCSQ={csq}", ""]))
    res = run(tmp_path, vcf)
    (row,) = res.rows
    assert (row.gene, row.annotation_source, row.hgvsp_short) == ("CCNE1", "vep", "p.R34W")
    assert row.alteration_class == "missense"


def test_vep_total_length_csq_annotates(tmp_path):
    # the same calls as VEP above, with "/length" positions (VEP --total_length, as in PCGR)
    res = run(tmp_path, datapath("consequence", "vep_csq_total_length.vcf"))
    rows = {r.hgvsp_short: r for r in res.rows}
    assert {"p.H1047R", "p.Y537S"} <= set(rows)
    assert rows["p.H1047R"].protein_start == 1047
    assert res.samples[0].accounting.rejected == 0
