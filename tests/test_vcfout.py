"""Annotated VCF: every input record kept, tags declared, readable by bcftools and pysam."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from annotator.io import vcfout
from tests.conftest import datapath
from tests.test_report_data import make_row

FIXTURES = ("vcfout_multiallelic_ucsc_names.vcf", "vcfout_multiallelic_ensembl_names.vcf")


def _records(path: Path) -> list[tuple[str, int, str, tuple[str, ...]]]:
    import pysam

    with pysam.VariantFile(str(path)) as vf:
        return [(r.chrom, r.pos, r.ref, tuple(r.alts or ())) for r in vf]


def _info(path: Path) -> list[dict[str, object]]:
    import pysam

    with pysam.VariantFile(str(path)) as vf:
        assert all(t in vf.header.info for t in vcfout.TAG_IDS)
        return [{k: r.info[k] for k in r.info if k.startswith("RESMARK_")} for r in vf]


def _rows_for(chrom_prefix: str) -> list[object]:
    c = chrom_prefix
    return [
        make_row(input_chrom=f"{c}3", rule_id="RULE-PIK3CA-HS-H1047", mechanism_id="MECH-PIK3CA",
                 evidence_level="A"),
        # second ALT of the multi-allelic ESR1 record only
        make_row(chrom="chr6", pos=152098785, ref="T", alt="C", gene="ESR1", input_chrom=f"{c}6",
                 input_pos=152098785, input_ref="T", input_alt="C", allele_index=2,
                 hgvsp_short="p.L536P", variant_key="chr6:152098785:T>C", evidence_level="A"),
        # the first of two records at 152098788 (A>C,AT); the later split duplicate stays bare
        make_row(chrom="chr6", pos=152098788, ref="A", alt="C", gene="ESR1", input_chrom=f"{c}6",
                 input_pos=152098788, input_ref="A", input_alt="C", allele_index=1,
                 hgvsp_short="p.Y537S", variant_key="chr6:152098788:A>C", evidence_level="A"),
    ]


@pytest.mark.parametrize("name", FIXTURES)
def test_every_record_kept_and_annotated(name: str, tmp_path: Path) -> None:
    src = datapath("report", name)
    prefix = "chr" if "ucsc" in name else ""
    out = tmp_path / "out.vcf.gz"
    n = vcfout.write(out, str(src), _rows_for(prefix), ["resmark_version=0.1.0",  # type: ignore[arg-type]
                                                         "resmark_samples=<script>x</script>"])
    before, after = _records(src), _records(out)
    assert n == len(before) == len(after) == 7
    assert before == after  # CHROM/POS/REF/ALT in order, chromosome spelling untouched
    info = _info(out)
    assert info[0]["RESMARK_HGVSP"] == ("p.H1047R",)
    assert info[0]["RESMARK_EVIDENCE"] == ("A",)
    assert info[1]["RESMARK_HGVSP"] == (".", "p.L536P")  # Number=A: one value per ALT
    assert info[2]["RESMARK_HGVSP"] == ("p.Y537S", ".")
    assert info[3] == {}  # the same site again as its own record: not annotated twice
    assert all(i == {} for i in info[4:])
    assert (tmp_path / "out.vcf.gz.tbi").exists()


@pytest.mark.parametrize("name", FIXTURES)
def test_bcftools_view_accepts_output(name: str, tmp_path: Path) -> None:
    bcftools = shutil.which("bcftools")
    if bcftools is None:
        pytest.skip("bcftools not installed (apt-get install -y bcftools)")
    out = tmp_path / "out.vcf.gz"
    prefix = "chr" if "ucsc" in name else ""
    vcfout.write(out, str(datapath("report", name)), _rows_for(prefix), ["resmark_note=a b"])  # type: ignore[arg-type]
    proc = subprocess.run([bcftools, "view", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    body = [line for line in proc.stdout.splitlines() if not line.startswith("#")]
    assert len(body) == 7
    assert "##INFO=<ID=RESMARK_HGVSP,Number=A,Type=String" in proc.stdout
    assert "##resmark_note=a b" in proc.stdout
    region = subprocess.run([bcftools, "view", "-H", str(out), f"{prefix}6"], capture_output=True,
                            text=True, check=False)
    assert region.returncode == 0 and len(region.stdout.splitlines()) == 3


def test_hostile_values_encoded(tmp_path: Path) -> None:
    row = make_row(input_chrom="chr3", hgvsp_short="p.X;Y=1,2 <b>", rule_id="R|1")
    out = tmp_path / "o.vcf.gz"
    vcfout.write(out, str(datapath("report", FIXTURES[0])), [row], ["k=v\nnext"])
    info = _info(out)[0]
    assert info["RESMARK_HGVSP"] == ("p.X_Y_1_2_<b>",)
    assert info["RESMARK_RULE"] == ("R_1",)


def test_reannotating_a_resmark_output_replaces_tags(tmp_path: Path) -> None:
    first = tmp_path / "first.vcf.gz"
    vcfout.write(first, str(datapath("report", FIXTURES[0])), _rows_for("chr"), [])  # type: ignore[arg-type]
    second = tmp_path / "second.vcf.gz"
    vcfout.write(second, str(first), [make_row(input_chrom="chr3", hgvsp_short="p.H1047L")], [])
    info = _info(second)
    assert info[0]["RESMARK_HGVSP"] == ("p.H1047L",)
    assert info[1] == {} and info[2] == {}  # stale tags from the first run removed
    with open(tmp_path / "h.txt", "w") as fh:
        import pysam

        with pysam.VariantFile(str(second)) as vf:
            fh.write(str(vf.header))
    assert (tmp_path / "h.txt").read_text().count("ID=RESMARK_HGVSP,") == 1


def test_unsorted_input_still_written(tmp_path: Path) -> None:
    lines = datapath("report", FIXTURES[0]).read_text().splitlines(keepends=True)
    head = [x for x in lines if x.startswith("#")]
    body = [x for x in lines if not x.startswith("#")]
    src = tmp_path / "unsorted.vcf"
    src.write_text("".join(head + body[::-1]))
    out = tmp_path / "o.vcf.gz"
    assert vcfout.write(out, str(src), [], []) == 7
    assert _records(out) == _records(src)
    assert not (tmp_path / "o.vcf.gz.tbi").exists()
