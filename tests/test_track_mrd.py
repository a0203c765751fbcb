"""Patient-level calls end to end on VCF counts: tumour fraction, MRD, response and alerts agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.track import TrackConfig, TrackResult, track
from tests.test_track_e2e import write_vcf

SITES = {  # GRCh38 hotspots (shared/reference hotspot_codons.tsv)
    "PIK3CA": "chr3\t179234297\t.\tA\tG",  # H1047R
    "RB1": "chr13\t48367512\t.\tC\tT",  # R320*
    "Y537S": "chr6\t152098788\t.\tA\tC",
    "D538G": "chr6\t152098791\t.\tA\tG",
}


def _serial(tmp: Path, counts: dict[str, tuple[int, ...]], depth: int = 1000, tf: str = "") -> TrackResult:
    tmp.mkdir(parents=True, exist_ok=True)
    cols = len(next(iter(counts.values())))
    recs = [f"{SITES[k]}\t.\tPASS\t.\tGT:AD:DP\t" + "\t".join(f"0/1:{depth - a},{a}:{depth}" for a in v)
            for k, v in counts.items()]
    vcf = write_vcf(tmp / "serial.vcf", recs, samples=tuple(f"S{i}" for i in range(cols)))
    rows = [f"P\tT{i}\t2024-0{i + 1}-01\tserial.vcf\tS{i}\t{tf}" for i in range(cols)]
    sheet = tmp / "s.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\tsample\ttumor_fraction\n" + "\n".join(rows) + "\n")
    assert vcf.exists()
    return track(TrackConfig(outdir=tmp / "o", samplesheet=sheet, plots=False, html=False))


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> TrackResult:
    # clonal PIK3CA and RB1 at ~10 % (TF ~20 %) fall to ~2 %, while two ESR1 mutations emerge
    return _serial(tmp_path_factory.mktemp("mrd"), {
        "PIK3CA": (100, 20), "RB1": (95, 22), "Y537S": (0, 30), "D538G": (0, 25)})


def test_tumour_fraction_estimated_from_clonal_variants(serial: TrackResult) -> None:
    s = serial.patients[0].summaries
    assert s[0].tf_source == "estimate" and s[0].tf_clonal_sites == 2
    # 2 x pooled VAF (195/2000) minus the 1e-4 floor background
    assert s[0].tf == pytest.approx(2 * (0.0975 - 1e-4) / (1 - 1e-4), rel=1e-6)
    assert s[0].tf_ci_low is not None and s[0].tf_ci_high is not None
    assert s[0].tf_ci_low < 0.195 < s[0].tf_ci_high
    assert s[1].tf == pytest.approx(2 * (0.021 - 1e-4) / (1 - 1e-4), rel=1e-6)
    pik = next(o for o in serial.observations if o.variant.gene == "PIK3CA" and o.timepoint == "T0")
    assert pik.vaf_tf == pytest.approx((0.1 - 1e-4) / (1 - 1e-4) / s[0].tf, rel=1e-6)


def test_mrd_positive_with_p_and_lod(serial: TrackResult) -> None:
    for x in serial.patients[0].summaries:
        assert x.mrd_call == "positive" and x.mrd_p_value is not None and x.mrd_p_value < 1e-6
        assert x.mrd_lod_vaf is not None and 0 < x.mrd_lod_vaf < 0.01
        assert x.mrd_sites == 4 and x.counting_unit == "reads"


def test_response_label_alerts_and_table_agree(serial: TrackResult) -> None:
    p = serial.patients[0]
    s1 = p.summaries[1]
    # the tumour fraction falls by ~80 %, but two resistance mutations emerge: not "response"
    assert s1.tf_ratio is not None and s1.tf_ratio < 0.5
    assert s1.molecular_response == "emerging_resistance" and s1.alerts_here >= 2
    table = {(o.variant.variant_key, o.timepoint): o for o in p.observations}
    for a in p.alerts:
        if a.kind == "polyclonal":
            continue
        o = table[(a.variant_keys[0], a.timepoint)]
        assert a.change_vs_previous == (o.vs_previous.change if o.vs_previous else None)
        assert a.kind in (a.change_vs_previous, a.change_vs_baseline)
        assert o.status == "detected"


def test_mrd_negative_and_clearance_need_power(tmp_path: Path) -> None:
    r = _serial(tmp_path, {"PIK3CA": (100, 0), "RB1": (95, 0)}, depth=1000)
    s = r.patients[0].summaries[1]
    assert s.mrd_call == "negative" and s.mrd_lod_vaf is not None and s.mrd_lod_vaf > 0.001
    assert s.molecular_response == "response"  # fell, but 2 x 1000 reads cannot show 0.1 %: not clearance
    deep = _serial(tmp_path / "deep", {"PIK3CA": (1000, 0), "RB1": (950, 0)}, depth=10000)
    sd = deep.patients[0].summaries[1]
    assert sd.mrd_call == "negative" and sd.mrd_lod_vaf is not None and sd.mrd_lod_vaf <= 0.001
    assert sd.molecular_response == "clearance"


def test_sheet_tumour_fraction_is_used(tmp_path: Path) -> None:
    r = _serial(tmp_path, {"PIK3CA": (100, 20), "RB1": (95, 22)}, tf="30%")
    s = r.patients[0].summaries
    assert [x.tf_source for x in s] == ["sheet", "sheet"] and s[0].tf == pytest.approx(0.3)
    assert s[1].tf_ratio == pytest.approx(1.0) and s[1].molecular_response == "stable"
