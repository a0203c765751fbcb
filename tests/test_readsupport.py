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


def records(name: str, sample: str | None = None):
    src = VcfSource(datapath("callers", name), sample)
    try:
        return list(src.records())
    finally:
        src.close()


@pytest.mark.parametrize(
    ("fixture", "sample", "allele", "vaf", "depth", "alt", "ref", "source"),
    [
        # issue 13: FreeBayes GT:DP:AO, DP 573 AO 310 -> 310/573; no RO, so no ref count
        ("freebayes_gt_dp_ao.vcf", None, 0, 310 / 573, 573, 310, None, "FreeBayes:AO/DP"),
        # UMI/cfDNA FORMAT AF + DP only: the VAF as written, no invented alt count
        ("umi_format_af_dp.vcf", None, 0, 0.0031, 6500, None, None, "FORMAT:AF/DP"),
        # split multi-allelic: ref count is AD[0] = 400, not DP - alt = 409
        ("mutect2_multiallelic_ad.vcf", None, 1, 0.311, 439, 30, 400, "FORMAT:AD/DP/AF"),
        ("mutect2_multiallelic_ad.vcf", None, 0, 0.021, 439, 9, 400, "FORMAT:AD/DP/AF"),
        # SomaticSniper DP4 30,28,15,12: alt 27, ref 58 -> 27/85; DP 90 as written
        ("sniper_dp4.vcf", "TUMOR", 0, 27 / 85, 90, 27, 58, "FORMAT:DP4"),
        # Ion Torrent: flow-evaluated FAO/FDP and AF, not the raw AO/RO
        ("iontorrent_fao_fdp.vcf", None, 0, 0.200803, 498, 100, 398, "IonTorrent:FAO/FDP"),
        # RADIA AF Number=. holds REF first (0.7,0.3): the ALT's is 0.3
        ("radia_af_per_allele.vcf", "DNA_TUMOR", 0, 0.3, 80, 24, 56, "FORMAT:AD/DP/AF"),
    ],
)
def test_more_caller_layouts(fixture, sample, allele, vaf, depth, alt, ref, source):
    rs = support(fixture, sample, allele)
    assert rs.source == source
    assert rs.vaf == pytest.approx(vaf, rel=1e-9)
    assert (rs.depth, rs.alt_count, rs.ref_count) == (depth, alt, ref)
    assert rs.fields and "vaf=" in rs.fields


def test_fields_used_are_recorded():
    rs = support("freebayes_gt_dp_ao.vcf")
    assert rs.fields == "alt=FORMAT/AO; depth=FORMAT/DP; vaf=alt/depth"
    rs = support("mutect2_multiallelic_ad.vcf", allele=1)
    assert rs.fields == "alt=FORMAT/AD[2]; ref=FORMAT/AD[0]; depth=FORMAT/DP; vaf=FORMAT/AF"


def test_float_fields_keep_their_written_decimal():
    # htslib stores FORMAT/AF as float32; 0.311 must come back as 0.311 (Parquet WHERE vaf = 0.311)
    assert support("mutect2_multiallelic_ad.vcf", allele=1).vaf == 0.311
    assert support("umi_format_af_dp.vcf").vaf == 0.0031
    assert support("mutect2_ad_af_dp.vcf").vaf == 0.397


def test_normal_support_from_normal_sample_header():
    rs = support("mutect2_multiallelic_ad.vcf", allele=1)
    assert rs.normal is not None
    # N1: AD 120,0,1 DP 121 -> second ALT has 1 read
    assert (rs.normal.depth, rs.normal.ref_count, rs.normal.alt_count) == (121, 120, 1)


def test_carriage_of_each_allele():
    recs = records("not_carried_two_samples.vcf")
    first, second, third = (r.support[0] for r in recs)
    assert (first.carried, first.carried_by) == (False, "NORMAL_X")  # tumour AD 86,0; normal 40,38
    assert (second.carried, second.carried_by) == (True, None)
    assert (third.carried, third.carried_by) == (False, "NORMAL_X")  # GT ./. vs 0/1, no counts


def test_undeclared_strelka_tags_are_found():
    recs = records("strelka2_undeclared_tir.vcf", "TUMOR")
    snv, indel = recs[0].support[0], recs[1].support[0]
    assert snv.source == "Strelka2:SNV-tier1" and snv.alt_count == 25
    # TIR 57, TAR 19 (tier 1), although the header declares neither
    assert (indel.source, indel.alt_count, indel.ref_count, indel.depth) == ("Strelka2:indel-tier1", 57, 19, 76)


def test_extractor_chosen_from_header():
    src = VcfSource(datapath("callers", "mutect2_ad_af_dp.vcf"))
    try:
        assert "FORMAT:AD/DP/AF" in src.support.describe()
        assert not any(lay.label.startswith("Strelka2") for lay in src.support.layouts)
    finally:
        src.close()
