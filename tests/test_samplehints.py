"""Tumour and normal columns from what the file's header and sample names say.

Header lines below are copied from published caller output (the external corpus,
``../shared/external/vcf``): bcbio/Mutect2 and Strelka2 test files of umccr/vcf_stuff,
Manta's HCC2218 file (umccr/vcf_stuff), SnpEff's cancer_pedigree.ann.vcf, vcf2maf's
test_radia.vcf and the PCGR TCGA examples.  The truth is what those lines state.
"""

from __future__ import annotations

import pytest

from annotator.errors import UsageError
from annotator.io.samplehints import choose, header_hints


def pick(samples, lines=(), requested=None):
    c = choose(samples, requested, header_hints(lines, samples), "x.vcf")
    return c.tumour, c.normal, c.reason


def test_mutect2_tumor_and_normal_sample_lines():
    lines = ["##normal_sample=MB_normal_50x", "##tumor_sample=tumor_downsample"]
    assert pick(["MB_normal_50x", "tumor_downsample"], lines)[:2] == ("tumor_downsample", "MB_normal_50x")


def test_bcbio_sample_genomes_lines():
    # test-strelka2.vcf.gz: no ##tumor_sample, but ##SAMPLE Genomes= and ##PEDIGREE
    lines = ["##SAMPLE=<ID=tumor_downsample,Genomes=Tumor>",
             "##SAMPLE=<ID=MB_normal_50x,Genomes=Germline>",
             "##PEDIGREE=<Derived=tumor_downsample,Original=MB_normal_50x>"]
    tumour, normal, reason = pick(["MB_normal_50x", "tumor_downsample"], lines)
    assert (tumour, normal) == ("tumor_downsample", "MB_normal_50x")
    assert "##SAMPLE" in reason


def test_is_tumor_flag():
    lines = ["##SAMPLE=<ID=A1,IsTumor=no>", "##SAMPLE=<ID=B7,IsTumor=yes>"]
    assert pick(["A1", "B7"], lines)[:2] == ("B7", "A1")


def test_snpeff_pedigree():
    lines = ["##PEDIGREE=<Derived=Patient_01_Somatic,Original=Patient_01_Germline>"]
    assert pick(["Patient_01_Germline", "Patient_01_Somatic"], lines)[:2] == (
        "Patient_01_Somatic", "Patient_01_Germline")


def test_manta_command_line_bam_names():
    lines = ["##cmdline=bcbio/anaconda/share/manta-1.2.1-0/bin/configManta.py "
             "--normalBam=HCC2218/align/HCC2218BL/HCC2218BL-sort.bam "
             "--tumorBam=HCC2218/align/HCC2218C/HCC2218C-sort.bam --exome"]
    assert pick(["HCC2218BL", "HCC2218C"], lines)[:2] == ("HCC2218C", "HCC2218BL")


def test_gatk_command_line_sample_options():
    lines = ['##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample S-22 '
             '--normal-sample S-07 --output x.vcf",Version="4.1">']
    assert pick(["S-07", "S-22"], lines)[:2] == ("S-22", "S-07")


def test_strelka_columns_named_normal_tumor():
    assert pick(["NORMAL", "TUMOR"])[:2] == ("TUMOR", "NORMAL")


@pytest.mark.parametrize(
    ("samples", "tumour"),
    [
        (["Patient_01_Germline", "Patient_01_Somatic"], "Patient_01_Somatic"),
        (["tumor_downsample", "MB_normal_50x"], "tumor_downsample"),
        (["normal", "tumor"], "tumor"),  # varlociraptor test-varlociraptor-tn.vcf.gz
        (["P12-blood", "P12-ffpe"], "P12-ffpe"),
        (["P3_N", "P3_T"], "P3_T"),
        (["buffy_coat_1", "plasma_1"], "plasma_1"),
        (["WBC", "cfDNA"], "cfDNA"),
        # PCGR-style TCGA barcodes: sample type 01 is a primary tumour, 10 blood normal
        (["TCGA-A2-A04W-10A-01D-A110-09", "TCGA-A2-A04W-01A-31D-A10Y-09"],
         "TCGA-A2-A04W-01A-31D-A10Y-09"),
    ],
)
def test_the_other_sample_is_recognisably_the_normal(samples, tumour):
    got, normal, reason = pick(samples)
    assert got == tumour
    assert normal == next(s for s in samples if s != tumour)
    assert "normal" in reason or reason == "column named TUMOR"


def test_rna_columns_are_not_the_tumour():
    # umccr test-sage2-rna.vcf.gz: normal (_N), RNA, and the DNA tumour (_T)
    assert pick(["LTS_APGI_2056_N", "APGI_2056_rna", "LTS_APGI_2056_T"])[0] == "LTS_APGI_2056_T"
    # vcf2maf test_radia.vcf: DNA_NORMAL, DNA_TUMOR, RNA_TUMOR
    assert pick(["DNA_NORMAL", "DNA_TUMOR", "RNA_TUMOR"])[:2] == ("DNA_TUMOR", "DNA_NORMAL")


def test_no_rule_can_pick_asks_for_sample():
    with pytest.raises(UsageError, match="--sample"):
        pick(["S1", "S2"])
    # a panel of normals: every column a normal, none the tumour
    with pytest.raises(UsageError, match="--sample"):
        pick(["17MHP002Bld", "COLO829_normal", "MDx150891-germline"])


def test_requested_sample_wins_and_names_the_normal():
    tumour, normal, reason = pick(["NORMAL", "TUMOR"], requested="TUMOR")
    assert (tumour, normal, reason) == ("TUMOR", "NORMAL", "--sample")


def test_tumor_sample_line_wins_whatever_its_place():
    # test-sage.vcf.gz order: ##SAMPLE Genomes=Tumor before ##tumor_sample
    lines = ["##SAMPLE=<ID=PRJ180253_E190-T01-D,Genomes=Tumor>",
             "##normal_sample=PRJ180254_E190-B01-D", "##tumor_sample=PRJ180253_E190-T01-D"]
    tumour, normal, reason = pick(["PRJ180253_E190-T01-D", "PRJ180254_E190-B01-D"], lines)
    assert (tumour, normal, reason) == ("PRJ180253_E190-T01-D", "PRJ180254_E190-B01-D",
                                        "##tumor_sample header")
