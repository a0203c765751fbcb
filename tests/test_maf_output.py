"""MAF output: vcf2maf coordinate conventions, classification, and agreement with
mskcc/vcf2maf's expected outputs (../shared/external/truth/vcf2maf).

Comparison policy (vcf2maf truth):
* ``test.maf`` is vcf2maf's output for ``vcf/vcf2maf/test.vcf`` (GRCh37).
* Conventions (Start/End/Reference_Allele/Tumor_Seq_Allele2/Variant_Type) are
  checked for every truth row with ``maf_alleles`` on the record's own alleles;
  vcf2maf keeps one ALT per multi-allelic record (its GT/depth choice) while
  resmark writes one row per ALT, so a row agrees when any ALT of its record
  reproduces it.
* Variant_Classification is checked for every row of the VEP-annotated truth
  files from their own Consequence and Variant_Type columns.
* The resmark MAF of the annotate pipeline is compared field by field with the
  truth rows in panel genes on MANE transcripts (exact strings for coordinates,
  alleles, classification, HGVSc, HGVSp_Short, Transcript_ID, t_depth and
  t_alt_count).  Explained differences: none on these rows; isoform choice
  differs only outside the panel (vcf2maf's vep_isoforms vs custom_isoforms
  files disagree on APC and MET, which resmark does not annotate).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from annotator.io import mafout
from annotator.io.mafout import classify, maf_alleles, splice_hgvsp_short
from tests.test_report_data import make_row

SHARED_FIELDS = ("Hugo_Symbol", "Chromosome", "Start_Position", "End_Position",
                 "Variant_Classification", "Variant_Type", "Reference_Allele", "Tumor_Seq_Allele2",
                 "HGVSc", "HGVSp_Short", "Transcript_ID", "t_depth", "t_alt_count")
PANEL_GENES_MANE = {"PIK3CA": "ENST00000263967", "TP53": "ENST00000269305"}


def read_maf(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


@pytest.mark.parametrize(
    ("pos", "ref", "alt", "expected"),
    [
        (100, "A", "G", (100, 100, "A", "G", "SNP")),
        (100, "AG", "CT", (100, 101, "AG", "CT", "DNP")),
        (100, "AGT", "CTA", (100, 102, "AGT", "CTA", "TNP")),
        (100, "AGTC", "CTAG", (100, 103, "AGTC", "CTAG", "ONP")),
        (100, "TA", "T", (101, 101, "A", "-", "DEL")),
        (100, "TCAA", "T", (101, 103, "CAA", "-", "DEL")),
        (100, "G", "GCT", (100, 101, "-", "CT", "INS")),
        (100, "AG", "C", (100, 101, "AG", "C", "DEL")),  # complex, no padding base
        (100, "GAAGA", "GGA", (101, 104, "AAGA", "GA", "DEL")),  # vcf2maf strips one base only
    ],
)
def test_maf_alleles_conventions(pos: int, ref: str, alt: str, expected: tuple[object, ...]) -> None:
    a = maf_alleles(pos, ref, alt)
    assert (a.start, a.end, a.ref, a.alt, a.variant_type) == expected


@pytest.mark.parametrize(
    ("terms", "vtype", "inframe", "expected"),
    [
        (["missense_variant"], "SNP", True, "Missense_Mutation"),
        (["stop_gained"], "SNP", True, "Nonsense_Mutation"),
        (["frameshift_variant"], "DEL", False, "Frame_Shift_Del"),
        (["frameshift_variant"], "INS", False, "Frame_Shift_Ins"),
        (["inframe_deletion"], "DEL", True, "In_Frame_Del"),
        (["protein_altering_variant", "splice_region_variant"], "INS", True, "In_Frame_Ins"),
        (["protein_altering_variant"], "DEL", False, "Frame_Shift_Del"),
        (["splice_donor_variant", "intron_variant"], "SNP", True, "Splice_Site"),
        (["splice_region_variant", "synonymous_variant"], "SNP", True, "Splice_Region"),
        (["synonymous_variant"], "SNP", True, "Silent"),
        (["start_lost"], "SNP", True, "Translation_Start_Site"),
        (["stop_lost"], "SNP", True, "Nonstop_Mutation"),
        (["3_prime_UTR_variant"], "SNP", True, "3'UTR"),
        (["5_prime_UTR_variant"], "SNP", True, "5'UTR"),
        (["intron_variant"], "SNP", True, "Intron"),
        (["upstream_gene_variant"], "SNP", True, "5'Flank"),
        (["downstream_gene_variant"], "SNP", True, "3'Flank"),
        (["intergenic_variant"], "SNP", True, "IGR"),
        ([], "SNP", True, "IGR"),
        (["gene_variant"], "SNP", True, "Targeted_Region"),
    ],
)
def test_classify(terms: list[str], vtype: str, inframe: bool, expected: str) -> None:
    assert classify(terms, vtype, inframe) == expected


def test_splice_label() -> None:
    assert splice_hgvsp_short("c.494+1G>A") == "p.X165_splice"  # vcf2maf test.maf CHD1L
    assert splice_hgvsp_short("c.1713_1729+5del") == "p.X571_splice"  # BAP1
    assert splice_hgvsp_short(None) is None


def test_write_rows_layout(tmp_path: Path) -> None:
    rows = [
        make_row(rule_id="RULE-PIK3CA-HS-H1047", evidence_level="A", ref_count=310),
        make_row(chrom="chr6", pos=152098787, ref="TA", alt="T", input_chrom="6", gene="ESR1",
                 consequence="frameshift_variant", hgvsc="c.1610del", hgvsp_short="p.Y537fs",
                 transcript="NM_000125.4", variant_key="chr6:152098787:TA>T", depth=None,
                 alt_count=None, vaf=None),
        make_row(alteration_class="amplification", copy_number=9.0, ref="N", alt="<AMP>",
                 variant_key="chr8:1-2:AMP"),
    ]
    out = tmp_path / "s.maf"
    n = mafout.write_rows(out, rows, build="GRCh38", header_lines=["resmark_version=0.1.0"])
    assert n == 2
    text = out.read_text()
    assert text.startswith("#version 2.4\n#resmark_version=0.1.0\n")
    assert "#resmark_not_in_maf=1" in text
    recs = read_maf(out)
    assert list(recs[0])[: len(mafout.VCF2MAF_COLUMNS)] == list(mafout.VCF2MAF_COLUMNS)
    a, b = recs
    assert (a["Chromosome"], a["Start_Position"], a["Variant_Classification"]) == ("chr3", "179234297", "Missense_Mutation")
    assert a["Transcript_ID"] == "ENST00000263967" and a["RefSeq"] == "NM_006218.4"
    assert (a["t_depth"], a["t_ref_count"], a["t_alt_count"]) == ("450", "310", "140")  # the row's ref count
    assert a["resmark_evidence_level"] == "A"
    assert (b["Chromosome"], b["Start_Position"], b["End_Position"], b["Reference_Allele"],
            b["Tumor_Seq_Allele2"], b["Variant_Type"], b["Variant_Classification"]) == (
        "6", "152098788", "152098788", "A", "-", "DEL", "Frame_Shift_Del")
    assert b["t_depth"] == "" and b["t_ref_count"] == ""


# ----------------------------------------------------------------- vcf2maf truth


def _truth(shared_dir: Path, name: str) -> list[dict[str, str]]:
    path = shared_dir / "external" / "truth" / "vcf2maf" / name
    if not path.exists():
        pytest.skip(f"{path} absent")
    return read_maf(path)


@pytest.mark.shared
def test_coordinates_match_vcf2maf(shared_dir: Path) -> None:
    truth = _truth(shared_dir, "test.maf")
    vcf = shared_dir / "external" / "vcf" / "vcf2maf" / "test.vcf"
    with open(vcf, encoding="utf-8") as fh:
        records = [line.rstrip("\n").split("\t") for line in fh if not line.startswith("#")]
    assert len(records) == len(truth) == 20
    agree = 0
    for rec, t in zip(records, truth, strict=True):
        expected = (int(t["Start_Position"]), int(t["End_Position"]), t["Reference_Allele"],
                    t["Tumor_Seq_Allele2"], t["Variant_Type"])
        options = [maf_alleles(int(rec[1]), rec[3], alt) for alt in rec[4].split(",")]
        got = [(a.start, a.end, a.ref, a.alt, a.variant_type) for a in options]
        assert expected in got, f"{rec[:5]}: {got} vs {expected}"
        agree += 1
    assert agree == 20


@pytest.mark.shared
@pytest.mark.parametrize("name", ["test_output.vep_isoforms.maf", "test_output.custom_isoforms.maf",
                                  "test_b38_output.maf", "test_b38_output.more.maf"])
def test_classification_matches_vcf2maf(shared_dir: Path, name: str) -> None:
    rows = _truth(shared_dir, name)
    for t in rows:
        ref, alt = t["Reference_Allele"], t["Tumor_Seq_Allele2"]
        inframe = abs((0 if ref == "-" else len(ref)) - (0 if alt == "-" else len(alt))) % 3 == 0
        got = classify(t["Consequence"].split(","), t["Variant_Type"], inframe)
        assert got == t["Variant_Classification"], (t["Hugo_Symbol"], t["Consequence"])


@pytest.mark.shared
def test_pipeline_maf_matches_vcf2maf_on_panel_genes(shared_dir: Path, tmp_path: Path) -> None:
    from annotator import AnnotateConfig, annotate

    truth = [t for t in _truth(shared_dir, "test_output.vep_isoforms.maf")
             if PANEL_GENES_MANE.get(t["Hugo_Symbol"]) == t["Transcript_ID"]]
    assert len(truth) == 3  # PIK3CA E469delinsDK, PIK3CA E545K, TP53 T125= (splice region)
    vcf = shared_dir / "external" / "vcf" / "vcf2maf" / "test.vcf"
    result = annotate(AnnotateConfig(inputs=[vcf], outdir=tmp_path / "out", build="GRCh37",
                                     report="panel", formats=("maf",)))
    (maf,) = [p for p in result.outputs if p.suffix == ".maf"]
    ours = {(r["Chromosome"], r["Start_Position"], r["Tumor_Seq_Allele2"]): r for r in read_maf(maf)}
    mismatches = []
    for t in truth:
        mine = ours.get((t["Chromosome"], t["Start_Position"], t["Tumor_Seq_Allele2"]))
        assert mine is not None, f"no resmark row for {t['Hugo_Symbol']} {t['HGVSc']}"
        mismatches += [(t["Hugo_Symbol"], f, t[f], mine[f]) for f in SHARED_FIELDS if t[f] != mine[f]]
    assert mismatches == []


def _maf_lines(path: Path) -> list[dict[str, str]]:
    lines = [x for x in path.read_text().splitlines() if not x.startswith("#")]
    head = lines[0].split("\t")
    return [dict(zip(head, x.split("\t"), strict=True)) for x in lines[1:]]


def test_maf_counts_from_the_record_and_the_normal(tmp_path: Path) -> None:
    """test_vcfs/callers/mutect2_multiallelic_ad.vcf: T1 AD 400,9,30 DP 439; N1 (##normal_sample)
    AD 120,0,1 DP 121; PIK3CA's NCBI Gene ID is 5290."""
    from annotator.api import AnnotateConfig, annotate
    from tests.conftest import datapath

    res = annotate(AnnotateConfig(inputs=[str(datapath("callers", "mutect2_multiallelic_ad.vcf"))],
                                  outdir=str(tmp_path / "o"), report="panel", formats=("maf",)))
    maf = _maf_lines(tmp_path / "o" / f"{res.samples[0].sample}.resmark.maf")
    by_alt = {m["Tumor_Seq_Allele2"]: m for m in maf}
    t = by_alt["T"]
    assert (t["t_depth"], t["t_ref_count"], t["t_alt_count"]) == ("439", "400", "30")  # not 409
    assert (t["n_depth"], t["n_ref_count"], t["n_alt_count"]) == ("121", "120", "1")
    assert t["Matched_Norm_Sample_Barcode"] == "N1" and t["Tumor_Sample_Barcode"] == "T1"
    assert t["Entrez_Gene_Id"] == "5290"
    assert by_alt["G"]["t_alt_count"] == "9" and by_alt["G"]["n_alt_count"] == "0"
    assert not (tmp_path / "o" / "T1.resmark.data_cna.txt").exists()  # no copy-number calls


def test_cbioportal_cna_and_sv_files(tmp_path: Path) -> None:
    from annotator.api import AnnotateConfig, annotate
    from tests.conftest import datapath

    res = annotate(AnnotateConfig(
        inputs=[str(datapath("demo", "demo_tumour.grch38.vcf.gz"))], outdir=str(tmp_path / "o"),
        cnv=str(datapath("cnv", "erbb2_amp.grch38.cns")), sv=str(datapath("cnv", "bnd_orientations.grch38.vcf")),
        formats=("maf",)))
    stem = tmp_path / "o" / f"{res.samples[0].sample}.resmark"
    cna = Path(f"{stem}.data_cna.txt").read_text().splitlines()
    assert cna[0].split("\t") == ["Hugo_Symbol", "Entrez_Gene_Id", res.samples[0].sample]
    table = {x.split("\t")[0]: x.split("\t")[1:] for x in cna[1:]}
    # erbb2_amp.grch38.cns amplifies ERBB2 (NCBI Gene 2064): discrete value 2
    assert table["ERBB2"] == ["2064", "2"]
    calls = {r.gene: r.alteration_class for r in res.rows if r.alteration_class in
             ("amplification", "gain", "loss", "deep_deletion") and r.sv_type in (None, "CNV")}
    values = {"amplification": "2", "gain": "1", "loss": "-1", "deep_deletion": "-2"}
    assert {g: v[1] for g, v in table.items()} == {g: values[c] for g, c in calls.items()}
    sv = _maf_lines(Path(f"{stem}.data_sv.txt"))
    fusions = {(s["Site1_Hugo_Symbol"], s["Site2_Hugo_Symbol"]) for s in sv}
    assert ("FGFR3", "TACC3") in fusions
    assert all(s["SV_Status"] == "SOMATIC" and s["Sample_Id"] == res.samples[0].sample for s in sv)
