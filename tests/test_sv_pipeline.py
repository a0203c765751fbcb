"""CNV/SV calls through the annotate pipeline (main VCF, --cnv, --sv) and real SV files."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from annotator.api import AnnotateConfig, RunContext, annotate_file
from annotator.cnv.handler import add_external_calls
from annotator.core.accounting import Accounting
from annotator.core.genome import get
from annotator.knowledge import load_panel
from tests.conftest import datapath

SYMBOLIC = datapath("cnv", "symbolic_alleles.grch38.vcf")
ORIENT = datapath("cnv", "bnd_orientations.grch38.vcf")


@pytest.fixture(scope="module")
def panel() -> Any:
    return load_panel(None)


def _run(panel: Any, vcf: Path, **kw: Any) -> Any:
    cfg = AnnotateConfig(inputs=[vcf], outdir="unused", **kw)
    return annotate_file(vcf, RunContext(config=cfg, panel=panel), kw.get("sample"))


def _external(panel: Any, build: str, **kw: Any) -> Any:
    cfg = AnnotateConfig(inputs=[], outdir="unused", **kw)
    ctx = RunContext(config=cfg, panel=panel)
    result = SimpleNamespace(sample="S", rows=[], alterations=[], accounting=Accounting())
    add_external_calls(ctx, result, get(build), ctx.reference(build))
    return result


def _by_id(result: Any) -> dict[str, Any]:
    return {r.id: r for r in result.rows}


def test_symbolic_alleles_in_the_main_vcf(panel: Any) -> None:
    res = _run(panel, SYMBOLIC, report="all")
    rows = _by_id(res)
    assert rows["del_cdkn2a"].alteration_class == "deep_deletion"
    assert rows["del_cdkn2a"].copy_number == 0.0
    assert rows["del_cdkn2a"].segment == "chr9:21900001-22000000"
    assert rows["dup_erbb2_tso500"].alteration_class == "amplification"
    assert rows["dup_erbb2_tso500"].copy_number == pytest.approx(8.2)  # FOLD_CHANGE 4.1 x 2
    assert rows["dup_erbb2_tso500"].rule_id == "RULE-ERBB2-AMP"
    assert rows["cnv_ccne1_dragen"].alteration_class == "amplification"  # FORMAT CN 7
    fusion = rows["dup_fgfr3_tacc3"]
    assert (fusion.gene, fusion.alteration_class, fusion.partner_gene) == ("FGFR3", "fusion", "TACC3")
    assert fusion.intron == "17/17" and fusion.breakpoint == "chr4:1807000"
    assert fusion.rule_id == "RULE-FGFR3-FUSION"
    assert rows["del_rb1_partial"].alteration_class == "loss"
    assert rows["inv_fgfr2"].alteration_class == "rearrangement"
    assert rows["ins_fgfr2"].alteration_class == "rearrangement"
    assert "bnd_offpanel" not in rows and "del_lowqual" not in rows
    acc = res.accounting
    assert acc.balanced and acc.filtered == 1 and acc.off_panel == 1


def test_symbolic_intervals_spanning_a_gene_survive_region_filtering(panel: Any) -> None:
    rows = _by_id(_run(panel, SYMBOLIC, report="matched"))
    assert {"del_cdkn2a", "dup_erbb2_tso500", "cnv_ccne1_dragen", "dup_fgfr3_tacc3"} <= set(rows)


def test_every_breakend_orientation_through_the_pipeline(panel: Any) -> None:
    res = _run(panel, ORIENT, report="all")
    rows = _by_id(res)
    expected = {
        "o1_a": ("FGFR3", "TACC3"),  # t[p[
        "o2_a": ("FGFR3", "LETM1"),  # t]p]
        "o3_a": ("FGFR2", "ATE1"),  # ]p]t
        "o4_a": ("FGFR2", "BICC1"),  # [p[t
    }
    for rid, (gene, partner) in expected.items():
        r = rows[rid]
        assert (r.gene, r.alteration_class, r.partner_gene) == (gene, "fusion", partner), rid
        assert r.intron == "17/17" and r.rule_id == f"RULE-{gene}-FUSION"
    # mates of reported junctions do not give a second row
    assert not {"o1_b", "o2_b", "o3_b", "o4_b"} & set(rows)
    assert rows["kinase_lost"].alteration_class == "rearrangement"
    assert rows["kinase_lost"].intron == "16/17"
    assert rows["antisense"].alteration_class == "rearrangement"
    assert rows["single"].alteration_class == "rearrangement"
    assert res.accounting.balanced


def test_external_segments_and_fusion_table(panel: Any) -> None:
    res = _run(
        panel, ORIENT, report="matched",
        cnv=datapath("cnv", "erbb2_amp.grch38.cns"), sv=datapath("cnv", "fusions.grch38.tsv"),
    )
    cn = {r.gene: r for r in res.rows if r.annotation_source == "cnvkit"}
    erbb2 = cn["ERBB2"]
    assert erbb2.alteration_class == "amplification" and erbb2.rule_id == "RULE-ERBB2-AMP"
    assert erbb2.variant_key == "CNV:chr17:ERBB2:amplification"
    assert erbb2.segment == "chr17:39600001-39800000" and erbb2.log2 == 2.9
    assert cn["RB1"].alteration_class == "deep_deletion"
    fus = {r.gene: r for r in res.rows if r.annotation_source == "fusion-table"}
    assert fus["FGFR2"].alteration_class == "fusion" and fus["FGFR2"].partner_gene == "BICC1"
    # FGFR3 breakpoint in intron 16 (1,806,700): kinase domain cut, not a fusion call
    assert fus["FGFR3"].alteration_class == "rearrangement"
    acc = res.accounting
    assert acc.balanced and acc.cn_records_read == 6 and acc.sv_records_read == 3
    keys = {k for k, _, _ in res.alterations}
    assert {r.variant_key for r in res.rows} <= keys


def test_ctdna_tumour_fraction_end_to_end(panel: Any) -> None:
    cns = datapath("cnv", "ctdna_ccne1.grch38.cns")
    plain = _external(panel, "GRCh38", cnv=cns, report="matched")
    assert not [r for r in plain.rows if r.gene == "CCNE1"]
    ctdna = _external(panel, "GRCh38", cnv=cns, report="matched", tumor_fraction=0.1)
    (row,) = [r for r in ctdna.rows if r.gene == "CCNE1"]
    assert row.alteration_class == "amplification" and row.rule_id == "RULE-CCNE1-AMP"
    assert row.flags and "purity_adjusted:0.1" in row.flags


def test_gene_tables_through_the_handler(panel: Any) -> None:
    res = _external(panel, "GRCh38", cnv=datapath("cnv", "gene_cn.tsv"), report="panel")
    calls = {r.gene: r.alteration_class for r in res.rows}
    assert calls == {"FGFR1": "amplification", "PTEN": "deep_deletion", "CCND1": "gain"}


# -- real files (../shared) -----------------------------------------------------------------
def test_hcc2218_manta_and_segments(shared_dir: Path, panel: Any) -> None:
    d = shared_dir / "external" / "vcf" / "umccr_vcf_stuff" / "data" / "cnv" / "hcc2218"
    res = _run(
        panel, d / "HCC2218_manta.vcf", report="all", sample="HCC2218C",
        cnv=d / "HCC2218_cnvkit-call.cns",
    )
    assert res.build.name == "GRCh37" and res.accounting.balanced
    assert res.accounting.records_read == 20  # 20 Manta records, all read
    (erbb2,) = [r for r in res.rows if r.gene == "ERBB2" and r.annotation_source == "cnvkit"]
    assert erbb2.alteration_class == "amplification" and erbb2.copy_number == 16
    assert erbb2.rule_id == "RULE-ERBB2-AMP"


def test_snpeff_deletion_over_cdkn2a(shared_dir: Path, panel: Any) -> None:
    # headerless SnpEff test file: 9:21,071,917 <DEL> END=23,509,466 spans CDKN2A
    sv = shared_dir / "external" / "vcf" / "snpeff" / "huge_deletion_chr9.vcf"
    res = _external(panel, "GRCh37", sv=sv, report="panel")
    (row,) = res.rows
    assert (row.gene, row.alteration_class, row.sv_type) == ("CDKN2A", "loss", "DEL")
    assert row.flags == "no_copy_number"
    part = _external(
        panel, "GRCh37", sv=shared_dir / "external/vcf/snpeff/huge_deletion_fusion_chr9.vcf",
        report="panel",
    )
    (p,) = part.rows
    assert p.gene == "CDKN2A" and "partial_gene" in (p.flags or "") and p.exon == "3/3"


def test_lumpy_and_delly_breakends_map_to_genes(shared_dir: Path, panel: Any) -> None:
    lumpy = _external(
        panel, "GRCh37", sv=shared_dir / "external/vcf/snpeff/vcf_translocation.vcf",
        report="panel",
    )
    rows = {r.breakpoint: r for r in lumpy.rows}
    # SnpEff's own ANN in the file: RB1 NM_000321 exon 10/27 at 13:48,941,651;
    # NF1 NM_001042492 exon 8/58 at 17:29,509,644
    assert rows["chr13:48941651"].gene == "RB1" and rows["chr13:48941651"].exon == "10/27"
    assert rows["chr17:29509644"].gene == "NF1" and rows["chr17:29509644"].exon == "8/58"
    assert lumpy.accounting.balanced and lumpy.accounting.records_read == 16
    delly = _external(panel, "GRCh37", sv=shared_dir / "external/vcf/vcf2maf/test_delly.vcf",
                      report="all", include_filtered=True)
    assert delly.accounting.records_read == 15 and delly.accounting.rejected == 0


def test_snpeff_translocation_parsing_orientations(shared_dir: Path, panel: Any) -> None:
    res = _external(panel, "GRCh38", report="all",
                    sv=shared_dir / "external/vcf/snpeff/vcf_translocation_parsing.vcf")
    assert res.accounting.records_read == 4 and res.accounting.rejected == 0
