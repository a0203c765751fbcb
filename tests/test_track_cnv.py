"""Copy-number calls tracked across timepoints from real per-timepoint files."""

from __future__ import annotations

import csv
import shutil

from annotator.track import TrackConfig, track
from tests.conftest import datapath


def test_ccne1_amplification_emerging_from_gene_tables(tmp_path):
    for vcf in datapath("track").glob("*.vcf"):
        shutil.copy(vcf, tmp_path / vcf.name)
    cn = {"t0.tsv": 2.0, "t1.tsv": 2.2, "t2.tsv": 10.5}  # CCNE1 copies: neutral, neutral, amplified
    for name, value in cn.items():
        (tmp_path / name).write_text(f"gene\tcopy_number\nCCNE1\t{value}\nFGFR1\t2.0\n")
    with open(datapath("track", "samplesheet.tsv"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("\n".join([lines[0] + "\tcnv"] + [f"{ln}\t{f}" for ln, f in zip(lines[1:], cn, strict=True)]) + "\n")
    result = track(TrackConfig(samplesheet=str(sheet), outdir=str(tmp_path / "out"), plots=False))
    with open(tmp_path / "out" / "track_long.tsv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["gene"] == "CCNE1"]
    assert [(r["timepoint"], r["status"]) for r in rows] == [
        ("T0_baseline", "not_detected"), ("T1_on_treatment", "not_detected"), ("T2_progression", "detected"),
    ]
    assert rows[2]["change"] == "emerging" and float(rows[2]["copy_number"]) == 10.5
    alerts = [a for a in result.alerts if a.gene == "CCNE1"]
    assert alerts and alerts[0].kind == "emerging" and alerts[0].timepoint == "T2_progression"
    assert alerts[0].mechanism_category == "cell_cycle_specific"
