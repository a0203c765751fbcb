"""resmark track end to end: the demo patient, representation differences, errors, outputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from annotator.core.genome import GRCH37, GRCH38
from annotator.errors import InputError, TimepointError
from annotator.track import Thresholds, TrackConfig, TrackResult, track
from tests.conftest import datapath
from tests.test_track_regenotype import _demo_module

DEMO = datapath("track", "samplesheet.tsv")


def _statuses(result: TrackResult, gene: str, protein: str) -> list[tuple[str, str | None]]:
    return [
        (o.status, o.vs_previous.change if o.vs_previous else None)
        for o in result.observations
        if o.variant.gene == gene and o.variant.hgvsp_short == protein
    ]


def _contigs(lengths: Any, prefix: bool = True) -> list[str]:
    return [f"##contig=<ID={c if prefix else c[3:]},length={n}>" for c, n in lengths.items() if c != "chrM"]


def write_vcf(path: Path, records: list[str], samples: tuple[str, ...] = ("TUMOR",),
              prefix: bool = True, lengths: Any = GRCH38.lengths) -> Path:
    lines = ["##fileformat=VCFv4.2",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
             '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
             '##FILTER=<ID=weak_evidence,Description="weak">',
             *_contigs(lengths, prefix),
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)]
    path.write_text("\n".join(lines + records) + "\n")
    return path


@pytest.fixture(scope="module")
def demo_vcf_only(tmp_path_factory: pytest.TempPathFactory) -> TrackResult:
    out = tmp_path_factory.mktemp("demo") / "out"
    return track(TrackConfig(outdir=out, samplesheet=DEMO))


@pytest.fixture(scope="module")
def demo_with_reads(tmp_path_factory: pytest.TempPathFactory) -> TrackResult:
    m = _demo_module()
    d = tmp_path_factory.mktemp("demo_bams")
    bams = m.write_demo_bams(d)
    vcfs = [datapath("track", f"{m.PATIENT}_{label}.vcf") for label, *_ in m.TIMEPOINTS]
    sheet = d / "sheet.tsv"
    sheet.write_text(m.samplesheet_text(vcfs, bams, None))
    return track(TrackConfig(outdir=d / "out", samplesheet=sheet))


def test_demo_with_reads_statuses(demo_with_reads: TrackResult) -> None:
    r = demo_with_reads
    # 0 alt reads in 1200-1600: the LoD there (~0.4-0.5 %) is above the 0.1 % clearance VAF,
    # so absence is "not_assessable", never "not_detected" or "cleared"
    assert _statuses(r, "ESR1", "p.Y537S") == [
        ("not_assessable", None), ("not_assessable", "absent"), ("detected", "emerging")]
    assert _statuses(r, "TP53", "p.R175H") == [
        ("detected", None), ("detected", "falling"), ("not_assessable", "falling")]
    assert _statuses(r, "PIK3CA", "p.H1047R") == [
        ("detected", None), ("detected", "falling"), ("detected", "rising")]
    # the RB1 deletion: 4/1600 reads (placed 3' by the aligner) is significant against the
    # background but not a significant change from 0/1200 (Fisher p ~ 0.14 bounds the LRT)
    rb1 = [o for o in r.observations if o.variant.variant_key == "chr13:48342616:GA>G"]
    assert [(o.evidence.alt_count, o.evidence.depth) for o in rb1] == [(0, 1200), (4, 1600), (42, 1400)]
    assert [o.vs_previous.change for o in rb1[1:] if o.vs_previous] == ["inconclusive", "rising"]
    # D538G has no record at baseline, but the reads measure it there
    d538 = [o for o in r.observations if o.variant.hgvsp_short == "p.D538G"]
    assert d538[0].evidence.source == "reads" and d538[0].status == "not_assessable"
    for o in r.observations:
        assert o.detection is not None and o.detection.background_source == "sheet_site"
        assert o.power_vaf == 0.001  # stated at the clearance VAF, never the peak
    assert any("no panel of normals" in n for n in r.patients[0].notes)


def test_demo_clearance_at_a_higher_statement_vaf(tmp_path: Path) -> None:
    m = _demo_module()
    bams = m.write_demo_bams(tmp_path)
    vcfs = [datapath("track", f"{m.PATIENT}_{label}.vcf") for label, *_ in m.TIMEPOINTS]
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(m.samplesheet_text(vcfs, bams, None))
    r = track(TrackConfig(outdir=tmp_path / "o", samplesheet=sheet, plots=False, html=False,
                          thresholds=Thresholds(clearance_vaf=0.01)))
    # at 1 % the 0/1400 of TP53 is powered: cleared
    assert _statuses(r, "TP53", "p.R175H")[2] == ("not_detected", "cleared")
    tp53 = [o for o in r.observations if o.variant.hgvsp_short == "p.R175H"]
    assert tp53[2].detection_power is not None and tp53[2].detection_power >= 0.8
    assert tp53[0].origin == "possible_chip"  # TP53 is a CHIP gene; flagged, not excluded


def test_demo_alerts(demo_with_reads: TrackResult) -> None:
    alerts = demo_with_reads.alerts
    emerging = {(a.gene, a.alterations[0]) for a in alerts if a.kind == "emerging"}
    assert ("ESR1", "ESR1 p.Y537S") in emerging and ("RB1", "RB1 p.R320*") in emerging
    y537 = next(a for a in alerts if a.alterations == ("ESR1 p.Y537S",))
    assert y537.timepoint == "T2_progression" and y537.on_related_therapy is True
    assert y537.mechanism and y537.strategies and y537.q_value_vs_previous is not None
    rb1 = next(a for a in alerts if a.alterations == ("RB1 p.R320*",))
    assert "CDK4/6 inhibitor" in (rb1.drug_classes or "") and rb1.on_related_therapy is True
    poly = {a.gene for a in alerts if a.kind == "polyclonal"}
    assert poly == {"ESR1", "RB1"}
    assert not any(a.gene == "TP53" for a in alerts)


def test_demo_patient_summary(demo_with_reads: TrackResult) -> None:
    p = demo_with_reads.patient("DEMO-P1")
    assert p.baseline == "T0_baseline"
    s = {x.timepoint: x for x in p.summaries}
    assert s["T0_baseline"].molecular_response == "baseline"
    assert s["T0_baseline"].max_vaf == pytest.approx(0.12)
    # mean VAF 0.2 / 6 at baseline vs 0.0325 / 6 on treatment: a fall of > 50 %
    assert s["T1_on_treatment"].mean_vaf_ratio == pytest.approx(0.0325 / 0.2)
    # the sheet's tumour fraction (15 % -> 3 %) decides the response
    assert s["T1_on_treatment"].molecular_response == "response"
    assert s["T1_on_treatment"].response_basis == "tumor_fraction"
    assert s["T1_on_treatment"].tf_ratio == pytest.approx(0.03 / 0.15)
    # 0.12 / 0.15 is "stable", but four resistance alterations emerge there: not "stable"
    assert s["T2_progression"].tf_ratio == pytest.approx(0.8)
    assert s["T2_progression"].molecular_response == "emerging_resistance"
    assert all(x.mrd_call == "positive" for x in p.summaries)


def test_without_reads_missing_is_not_assessed_never_cleared(demo_vcf_only: TrackResult) -> None:
    tp53 = _statuses(demo_vcf_only, "TP53", "p.R175H")
    assert tp53[2] == ("not_assessed", "not_evaluable")
    d538 = [o for o in demo_vcf_only.observations if o.variant.hgvsp_short == "p.D538G"]
    assert d538[0].status == "not_assessed" and d538[0].evidence.source == "none"
    assert d538[1].evidence.source == "vcf_filtered" and d538[1].status == "not_assessable"
    assert d538[1].detection is not None and d538[1].detection.background_source == "floor"
    assert d538[2].vs_baseline is not None and d538[2].vs_baseline.change == "not_evaluable"


def test_demo_identity_across_representations(demo_vcf_only: TrackResult) -> None:
    keys = {o.variant.variant_key for o in demo_vcf_only.observations}
    # Y537S written padded (TA>TC) at progression, chr-less names on treatment,
    # RB1 deletion written 3' in the A5 run on treatment: one key each
    assert keys == {
        "chr3:179234297:A>G", "chr6:152098788:A>C", "chr6:152098791:A>G",
        "chr13:48342616:GA>G", "chr13:48367512:C>T", "chr17:7675088:C>T",
    }
    rb1 = [o for o in demo_vcf_only.observations if o.variant.variant_key == "chr13:48342616:GA>G"]
    assert rb1[1].evidence.called and rb1[1].evidence.alt_count == 4


def test_outputs(demo_with_reads: TrackResult) -> None:
    import pyarrow.parquet as pq

    out = demo_with_reads.outdir
    names = {p.name for p in demo_with_reads.outputs}
    assert {"track_long.parquet", "track_long.tsv", "DEMO-P1.track_wide.tsv",
            "DEMO-P1.vaf_trajectory.svg", "track_summary.json", "provenance.json"} <= names
    table = pq.read_table(out / "track_long.parquet")
    for col in ("patient", "timepoint", "date", "variant_key", "gene", "hgvsp_short", "alt_count",
                "depth", "vaf", "vaf_ci_low", "vaf_ci_high", "status", "change", "p_value", "q_value",
                "log2_fc", "detection_power"):
        assert col in table.column_names
    assert table.num_rows == 18
    assert b"resmark" in (table.schema.metadata or {})
    wide = (out / "DEMO-P1.track_wide.tsv").read_text().splitlines()
    assert len(wide) == 7 and "T2_progression:status" in wide[0]
    summary = json.loads((out / "track_summary.json").read_text())
    assert summary["alerts"] and summary["thresholds"]["min_power"] == 0.8
    assert summary["vocabulary"]["status"] == [
        "detected", "low_level", "not_detected", "not_assessable", "not_assessed"]
    for col in ("background_rate", "detection_p_value", "lob_count", "lod_vaf", "origin", "counting_unit",
                "vaf_tf", "tf"):
        assert col in table.column_names
    assert summary["patients"][0]["notes"] and "artefact_sites" in summary["patients"][0]
    svg = ET.parse(out / "DEMO-P1.vaf_trajectory.svg").getroot()
    assert svg.tag.endswith("svg")
    prov = json.loads((out / "provenance.json").read_text())
    assert {i["role"] for i in prov["inputs"]} >= {"samplesheet", "vcf", "bam"}


PIK = "chr3\t179234297\t.\tA\tG\t.\tPASS\t.\tGT:AD:DP\t0/1:{r},{a}:{d}"


def _pik(ref: int, alt: int, chrom: str = "chr3") -> str:
    return PIK.format(r=ref, a=alt, d=ref + alt).replace("chr3", chrom)


def test_multiallelic_vs_split_and_chr_naming(tmp_path: Path) -> None:
    # ESR1 L536H and L536P (chr6:152098785 T>A, T>C) in one record, then split without chr
    t0 = write_vcf(tmp_path / "t0.vcf", [
        "chr6\t152098785\t.\tT\tA,C\t.\tPASS\t.\tGT:AD:DP\t0/1/2:900,50,30:980"])
    t1 = write_vcf(tmp_path / "t1.vcf", [
        "6\t152098785\t.\tT\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:950,10:960",
        "6\t152098785\t.\tT\tC\t.\tPASS\t.\tGT:AD:DP\t0/1:950,30:980"], prefix=False)
    r = track(TrackConfig(outdir=tmp_path / "o", vcfs=(t0, t1), timepoints=("T0", "T1"),
                          dates=("2024-01-01", "2024-02-01"), plots=False))
    by_key: dict[str, list[Any]] = {}
    for o in r.observations:
        by_key.setdefault(o.variant.variant_key, []).append(o)
    assert set(by_key) == {"chr6:152098785:T>A", "chr6:152098785:T>C"}
    assert [o.evidence.alt_count for o in by_key["chr6:152098785:T>A"]] == [50, 10]
    assert by_key["chr6:152098785:T>A"][1].vs_previous.change == "falling"  # type: ignore[union-attr]
    assert by_key["chr6:152098785:T>C"][1].vs_previous.change == "stable"  # type: ignore[union-attr]


def test_multisample_vcf_one_column_per_timepoint(tmp_path: Path) -> None:
    vcf = write_vcf(tmp_path / "serial.vcf", [
        "chr3\t179234297\t.\tA\tG\t.\tPASS\t.\tGT:AD:DP\t0/1:900,100:1000\t0/0:1000,0:1000\t0/1:800,200:1000"],
        samples=("D0", "D90", "D180"))
    r = track(TrackConfig(outdir=tmp_path / "o", vcfs=(vcf,), timepoints=("T0", "T1", "T2"), plots=False))
    obs = r.observations
    assert [o.timepoint for o in obs] == ["T0", "T1", "T2"]
    assert [o.evidence.alt_count for o in obs] == [100, 0, 200]
    # 0/1000 has a LoD of ~0.6 % > the 0.1 % clearance VAF: not assessable, so "falling"
    assert [o.vs_previous.change if o.vs_previous else None for o in obs] == [None, "falling", "emerging"]
    r = track(TrackConfig(outdir=tmp_path / "o2", vcfs=(vcf,), timepoints=("T0", "T1", "T2"), plots=False,
                          thresholds=Thresholds(clearance_vaf=0.02)))
    assert [o.vs_previous.change if o.vs_previous else None for o in r.observations] == [
        None, "cleared", "emerging"]
    assert r.patients[0].samples == ["D0", "D90", "D180"]


def test_out_of_order_dates_sorted_and_warned(tmp_path: Path) -> None:
    write_vcf(tmp_path / "a.vcf", [_pik(900, 100)])
    write_vcf(tmp_path / "b.vcf", [_pik(990, 10)])
    sheet = tmp_path / "s.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\nP\tLATER\t2024-06-01\tb.vcf\nP\tFIRST\t2024-01-01\ta.vcf\n")
    r = track(TrackConfig(outdir=tmp_path / "o", samplesheet=sheet, plots=False))
    assert [s.label for s in r.patients[0].timepoints] == ["FIRST", "LATER"]
    assert r.patients[0].baseline == "FIRST"
    assert any("not in date order" in w for w in r.warnings)
    summary = json.loads((tmp_path / "o" / "track_summary.json").read_text())
    assert summary["warnings"]


def test_duplicate_labels_error(tmp_path: Path) -> None:
    a = write_vcf(tmp_path / "a.vcf", [_pik(900, 100)])
    b = write_vcf(tmp_path / "b.vcf", [_pik(990, 10)])
    with pytest.raises(TimepointError, match="appears twice"):
        track(TrackConfig(outdir=tmp_path / "o", vcfs=(a, b), timepoints=("T0", "T0")))
    assert not (tmp_path / "o").exists()


def test_missing_file_error_names_it(tmp_path: Path) -> None:
    a = write_vcf(tmp_path / "a.vcf", [_pik(900, 100)])
    with pytest.raises(InputError, match="missing_t1.vcf"):
        track(TrackConfig(outdir=tmp_path / "o", vcfs=(a, tmp_path / "missing_t1.vcf")))


def test_different_builds_error(tmp_path: Path) -> None:
    a = write_vcf(tmp_path / "a.vcf", [_pik(900, 100)])
    # PIK3CA H1047R in GRCh37 coordinates (hotspot_codons.tsv: 178952085)
    b = write_vcf(tmp_path / "b.vcf", ["chr3\t178952085\t.\tA\tG\t.\tPASS\t.\tGT:AD:DP\t0/1:990,10:1000"],
                  lengths=GRCH37.lengths)
    with pytest.raises(TimepointError) as e:
        track(TrackConfig(outdir=tmp_path / "o", vcfs=(a, b), timepoints=("T0", "T1")))
    assert "GRCh37" in str(e.value) and "GRCh38" in str(e.value) and "b.vcf" in str(e.value)


def test_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from annotator.cli import cli

    a = write_vcf(tmp_path / "a.vcf", [_pik(900, 100)])
    b = write_vcf(tmp_path / "b.vcf", [_pik(999, 1).replace("PASS", "weak_evidence")])
    res = CliRunner().invoke(cli, ["track", str(a), str(b), "--timepoints", "T0,T1", "--dates",
                                   "2024-01-01,2024-03-01", "-o", str(tmp_path / "o"), "--no-png",
                                   "--min-alt-reads", "2"])
    assert res.exit_code == 0, res.output
    assert "T1: 0/1 detected" in res.output
    assert (tmp_path / "o" / "patient.vaf_trajectory.svg").exists()
    assert not (tmp_path / "o" / "patient.vaf_trajectory.png").exists()
