"""Read support from each caller's own fields (expected values worked out by
hand from the fixture numbers and each caller's documented field meaning)."""

from __future__ import annotations

import pytest

from annotator.io.vcfin import VcfSource
from tests.conftest import datapath


def support(name: str, sample: str | None = None, allele: int = 0):
    src = VcfSource(datapath("callers", name), sample)
    try:
        rec = next(iter(src.records()))
        return rec.support[allele]
    finally:
        src.close()


@pytest.mark.parametrize(
    ("fixture", "sample", "allele", "vaf", "depth", "alt", "source"),
    [
        ("mutect2_ad_af_dp.vcf", None, 0, 0.397, 102, 40, "FORMAT:AD/DP/AF"),
        # Strelka2 SNV: tier-1 G=25, A=55 -> 25/(25+55)
        ("strelka2_snv_tier1.vcf", "TUMOR", 0, 25 / 80, 80, 25, "Strelka2:SNV-tier1"),
        ("strelka2_indel_tir_tar.vcf", "TUMOR", 0, 15 / 60, 60, 15, "Strelka2:indel-tier1"),
        ("vardict_af_vd_dp.vcf", "tumour_x", 0, 0.011, 1089, 12, "VarDict:AF/VD/DP"),
        ("varscan_freq_rd_ad.vcf", "TUMOR", 0, 0.3846, 91, 35, "VarScan:FREQ/RD/AD"),
        # FreeBayes: RO=70, AO=20,10 -> 20/100 and 10/100
        ("freebayes_ro_ao_multiallelic.vcf", None, 0, 0.2, 100, 20, "FreeBayes:RO/AO"),
        ("freebayes_ro_ao_multiallelic.vcf", None, 1, 0.1, 100, 10, "FreeBayes:RO/AO"),
        ("sage_ad_af.vcf", None, 0, 0.19, 63, 12, "FORMAT:AD/DP/AF"),
        ("info_tvaf_tdp_sites_only.vcf", None, 0, 0.222, 144, None, "INFO:TVAF/TDP"),
        ("info_af_dp_sites_only.vcf", None, 0, 0.05, 2000, None, "INFO:AF/DP"),
    ],
)
def test_caller_read_support(fixture, sample, allele, vaf, depth, alt, source):
    rs = support(fixture, sample, allele)
    assert rs.source == source
    assert rs.vaf == pytest.approx(vaf, abs=1e-3)
    assert rs.depth == depth
    assert rs.alt_count == alt


def test_missing_values_stay_missing_not_zero():
    rs = support("mutect2_missing_values.vcf")
    assert rs.vaf is None and rs.depth is None and rs.alt_count is None


def test_strelka_tumour_column_picked_by_name():
    # no ##tumor_sample: a column literally named TUMOR is taken
    src = VcfSource(datapath("callers", "strelka2_snv_tier1.vcf"))
    assert src.header.tumour_sample == "TUMOR"
    assert src.header.tumour_reason == "column named TUMOR"
    src.close()
