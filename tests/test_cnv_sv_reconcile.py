"""A <DEL> without copy number does not overrule a measured copy number (--cnv)."""

from __future__ import annotations

from annotator.api import AnnotateConfig, annotate
from tests.conftest import datapath

VCF = datapath("cnv", "symbolic_alleles.grch38.vcf")
CNS = datapath("cnv", "erbb2_amp.grch38.cns")  # measures RB1 (segments over chr13:48.3-48.5 Mb)


def rb1_del_rows(tmp_path, **kw):
    res = annotate(AnnotateConfig(inputs=[str(VCF)], outdir=str(tmp_path / "o"), build="GRCh38",
                                  report="panel", formats=("tsv",), **kw))
    return [r for r in res.rows if r.gene == "RB1" and r.id == "del_rb1_partial"], res


def test_del_without_cn_is_a_loss_on_its_own(tmp_path):
    rows, _ = rb1_del_rows(tmp_path)
    assert [r.alteration_class for r in rows] == ["loss"]
    assert "no_copy_number" in (rows[0].flags or "")


def test_measured_copy_number_turns_it_into_a_rearrangement(tmp_path):
    rows, res = rb1_del_rows(tmp_path, cnv=str(CNS))
    assert [r.alteration_class for r in rows] == ["rearrangement"]
    assert "cn_from_segments" in (rows[0].flags or "")
    keys = {k: a.alteration_class for k, a, _ in res.samples[0].alterations}
    assert keys[rows[0].variant_key] == "rearrangement"
    # the segment-based RB1 call is kept as measured
    assert any(r.gene == "RB1" and r.annotation_source == "cnvkit" for r in res.rows)
    assert res.samples[0].accounting.balanced
