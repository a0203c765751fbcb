"""Every real VCF of ../shared/external/vcf annotated end to end, as a new user runs it.

Must hold (issue 13): the default formats, exit 0, the accounting adding up to
the file's record count, an annotated VCF that ``bcftools view`` reads, and no
options where the file says which sample is the tumour.  The record count is
taken here from the text (lines with at least 8 tab-separated fields that do
not start with ``#``), not from resmark.
"""

from __future__ import annotations

import csv
import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from annotator.cli import main
from tests.conftest import _shared_root

pytestmark = pytest.mark.shared

# files where no rule can pick the tumour column: --sample is the documented way
NEEDS_SAMPLE = {
    "umccr_vcf_stuff/data/panel_of_normals/panel_of_normals.snps.vcf.gz": "COLO829_normal",
    "umccr_vcf_stuff/data/panel_of_normals/panel_of_normals.indels.vcf.gz": "COLO829_normal",
    "umccr_vcf_stuff/data/test-sage2-multitumor.vcf.gz": "APGI_1965",
    "vcf2maf/test_radia.vcf": "DNA_TUMOR",
    # no header hint: the plasma sample (MSK-ACCESS "-L") carries every call, DONOR22-TP is 0/0
    "msk_access_ctdna/integration_test_variants.vcf": "C-U1MJT8-L001-d",
}
# one symbolic <DEL> inside CDKN2A in both builds, no header, no comparable REF: nothing
# can tell the build (a CDKN2A deletion either way); --build is the documented way
NEEDS_BUILD = {"snpeff/huge_deletion_fusion_chr9.vcf": "GRCh37"}


def _vcfs() -> list[str]:
    root = _shared_root()
    if root is None:
        return []
    base = root / "external" / "vcf"
    return sorted(str(p.relative_to(base)) for p in base.rglob("*")
                  if p.name.endswith((".vcf", ".vcf.gz")) and p.is_file())


def count_records(path: Path) -> int:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", errors="replace") as fh:  # type: ignore[operator]
        return sum(1 for line in fh if not line.startswith("#") and line.count("\t") >= 7)


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as e:
        main(argv)
    return int(e.value.code or 0)


@pytest.mark.parametrize("rel", _vcfs() or ["(../shared absent)"])
def test_external_vcf_end_to_end(shared_dir: Path, tmp_path: Path, rel: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_dir / "external" / "vcf" / rel
    out = tmp_path / "out"
    argv = ["annotate", str(path), "-o", str(out)]
    if rel in NEEDS_SAMPLE:
        argv += ["--sample", NEEDS_SAMPLE[rel]]
    if rel in NEEDS_BUILD:
        argv += ["--build", NEEDS_BUILD[rel]]
    code = _run(argv)
    err = capsys.readouterr().err
    assert code == 0, f"{rel}: exit {code}: {err.strip().splitlines()[-1:] if err.strip() else ''}"
    with (out / "accounting.tsv").open() as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    total = sum(int(r["count"]) for r in rows if r["bucket"] == "records_in_file")
    assert total == count_records(path), f"{rel}: accounting {total} records"
    buckets = {r["bucket"]: int(r["count"]) for r in rows if not r["detail"]}
    parts = ("annotated", "off_panel", "filtered", "rejected", "not_carried")
    assert buckets["records_read"] == sum(buckets.get(b, 0) for b in parts)
    vcfs = sorted(out.glob("*.resmark.vcf.gz"))
    assert vcfs, f"{rel}: no annotated VCF written"
    if shutil.which("bcftools"):
        for v in vcfs:
            run = subprocess.run(["bcftools", "view", "-H", str(v)], capture_output=True, text=True)
            assert run.returncode == 0, f"{rel}: bcftools view: {run.stderr.strip()[:300]}"
