"""The demo patient's coordinates against ../shared/reference (skipped when absent)."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.shared


def _demo() -> object:
    spec = importlib.util.spec_from_file_location("make_demo_bams", REPO / "scripts" / "make_demo_bams.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_demo_bams", mod)
    spec.loader.exec_module(mod)
    return mod


def test_demo_hotspots_sit_in_the_listed_codons(shared_dir: Path) -> None:
    text = (shared_dir / "reference" / "hotspot_codons.tsv").read_text()
    rows = list(csv.DictReader(text.splitlines(), delimiter="\t"))
    codon = {(r["gene"], int(r["aa_pos"])): [int(x) for x in r["c1_c2_c3_genomic_positions"].split(",")]
             for r in rows if r["build"] == "GRCh38"}
    variants = {v[0]: v for v in _demo().VARIANTS}  # type: ignore[attr-defined]
    # second codon base of each missense (H1047R CAT>CGT, Y537S TAT>TCT, D538G GAC>GGC, R175H CGC>CAC)
    assert variants["PIK3CA H1047R"][2] == codon[("PIK3CA", 1047)][1]
    assert variants["ESR1 Y537S"][2] == codon[("ESR1", 537)][1]
    assert variants["ESR1 D538G"][2] == codon[("ESR1", 538)][1]
    assert variants["TP53 R175H"][2] == codon[("TP53", 175)][1]


def test_demo_rb1_stop_is_codon_320_of_the_mane_transcript(shared_dir: Path) -> None:
    doc = json.loads((shared_dir / "reference" / "transcript_models.json").read_text())
    rb1 = doc["genes"]["RB1"]
    assert rb1["mane_select"]["refseq"] == "NM_000321.3"
    b38 = rb1["builds"]["GRCh38"]
    assert b38["strand"] == "+"
    cds = [p for s, e in b38["cds_exons_1based"] for p in range(s, e + 1)]
    assert b38["cds_seq"][957:960] == "CGA"  # codon 320 (Arg); c.958C>T makes TGA
    variants = {v[0]: v for v in _demo().VARIANTS}  # type: ignore[attr-defined]
    assert variants["RB1 R320*"][2] == cds[957]
    # the demo frameshift deletes one A of the A5 run at c.283-287 (CDS exon 3)
    assert b38["cds_seq"][282:287] == "AAAAA" and cds[282] == 48342617
