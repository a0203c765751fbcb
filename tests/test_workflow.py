"""workflows/Snakefile run locally (--cores 2) on the demo cohort of test_vcfs/cohort."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.io import dataset
from tests.conftest import REPO, datapath

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(
        importlib.util.find_spec("snakemake") is None,
        reason="snakemake is not installed (pip install snakemake)",
    ),
]


def test_snakemake_annotates_tracks_and_gathers(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    cmd = [
        sys.executable, "-m", "snakemake",
        "-s", str(REPO / "workflows" / "Snakefile"),
        "--configfile", str(REPO / "workflows" / "config.yaml"),
        "--cores", "2", "--directory", str(tmp_path),
        "--config", f"samplesheet={datapath('cohort', 'samplesheet.tsv')}", f"outdir={out}",
        f"resmark={sys.executable} -m annotator", "track=auto",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]

    manifest = (out / "cohort_manifest.tsv").read_text().splitlines()
    assert [line.split("\t")[0] for line in manifest[1:]] == ["P001_T0", "P001_T1", "P002_T0"]
    assert dataset.samples_in(out / "dataset") == ["P001_T0", "P001_T1", "P002_T0"]
    table = dataset.read_dataset(out / "dataset", columns=["sample", "hgvsp_short"])
    got = set(zip(table["sample"].to_pylist(), table["hgvsp_short"].to_pylist(), strict=True))
    # published hotspots at their GRCh38 coordinates in the fixtures
    assert {("P001_T1", "p.Y537S"), ("P001_T1", "p.D538G"), ("P002_T0", "p.E17K")} <= got
    for sample in ("P001_T0", "P001_T1", "P002_T0"):
        assert (out / "annotate" / sample / f"{sample}.resmark.tsv").is_file()

    track_exists = subprocess.run(
        [sys.executable, "-m", "annotator", "track", "--help"], capture_output=True, env=env
    ).returncode == 0
    for patient in ("P001", "P002"):
        assert (out / "track" / patient / "provenance.json").is_file() == track_exists
