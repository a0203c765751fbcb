from __future__ import annotations

import pytest

from annotator.errors import InputError, UsageError
from annotator.io.vcfin import VcfSource, choose_tumour
from tests.conftest import datapath


def test_tumour_from_mutect2_header():
    src = VcfSource(datapath("callers", "mutect2_ad_af_dp.vcf"))
    assert src.header.tumour_sample == "T1"
    assert src.header.tumour_reason == "##tumor_sample header"
    src.close()


def test_two_samples_named_tumour_and_normal_pick_the_tumour():
    # the columns are named tumour_x and normal_x: the normal is recognisable by its name
    src = VcfSource(datapath("callers", "vardict_af_vd_dp.vcf"))
    assert (src.header.tumour_sample, src.header.normal_sample) == ("tumour_x", "normal_x")
    assert "normal" in src.header.tumour_reason
    src.close()


def test_two_samples_without_hint_lists_samples(tmp_path):
    vcf = tmp_path / "two.vcf"
    text = datapath("callers", "vardict_af_vd_dp.vcf").read_text()
    vcf.write_text(text.replace("tumour_x", "S1").replace("normal_x", "S2"))
    with pytest.raises(UsageError) as e:
        VcfSource(vcf)
    assert "S1" in str(e.value) and "S2" in str(e.value) and "--sample" in str(e.value)


def test_unknown_sample_lists_samples():
    with pytest.raises(UsageError, match="samples are: tumour_x, normal_x"):
        VcfSource(datapath("callers", "vardict_af_vd_dp.vcf"), sample="nope")


def test_sites_only_has_no_tumour_column():
    src = VcfSource(datapath("callers", "info_af_dp_sites_only.vcf"))
    assert src.header.samples == () and src.header.tumour_sample is None
    src.close()


def test_choose_tumour_single_sample():
    assert choose_tumour(["only"], None, None, "x.vcf")[:2] == ("only", 0)


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        VcfSource(tmp_path / "absent.vcf")


def test_indexed_region_query_reads_only_regions():
    src = VcfSource(datapath("demo", "demo_tumour.grch38.vcf.gz"))
    assert src.header.indexed
    # PIK3CA H1047R codon only
    recs = list(src.records([("chr3", 179234290, 179234300)]))
    assert [(r.chrom, r.pos) for r in recs] == [("chr3", 179234297)]
    assert src.header.total_records_from_index == 12
    src.close()


def test_bcf_input(tmp_path):
    import pysam

    bcf = tmp_path / "demo.bcf"
    with pysam.VariantFile(str(datapath("demo", "demo_tumour.grch38.vcf.gz"))) as vin, pysam.VariantFile(
        str(bcf), "wb", header=vin.header
    ) as vout:
        for rec in vin:
            vout.write(rec)
    src = VcfSource(bcf)
    assert len(list(src.records())) == 12
    src.close()
