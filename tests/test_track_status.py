"""Status and change rules of resmark track on constructed evidence (no files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from annotator.track import background
from annotator.track.identity import TimepointCalls
from annotator.track.model import Evidence, Thresholds, TimepointSpec, TrackedVariant
from annotator.track.status import classify_status, compare, observe

TH = Thresholds()
CLEAN = background.fit([0] * 5, [20000] * 5, "pon")
VARIANT = TrackedVariant(
    variant_key="chr6:152098788:A>C", chrom="chr6", pos=152098788, ref="A", alt="C", gene="ESR1",
    hgvsc="c.1610A>C", hgvsp_short="p.Y537S", consequence="missense_variant",
    alteration_class="missense", rule_id="RULE-ESR1-HS-Y537", mechanism="ESR1 LBD", mechanism_id="MECH-ESR1",
    mechanism_category="cell_cycle_non_specific", strategies=None, drug_classes="endocrine therapy",
    evidence_level="B",
)


def reads(alt: int, depth: int, called: bool = False) -> Evidence:
    return Evidence(alt, depth, "reads", called=called)


def tps(n: int) -> list[TimepointCalls]:
    return [
        TimepointCalls(TimepointSpec("p", f"T{i}", Path("x.vcf"), dt.date(2024, 1, 1 + i)), "GRCh38", "s", {})
        for i in range(n)
    ]


def run(evidence: list[Evidence], th: Thresholds = TH) -> list[str]:
    obs = observe("p", VARIANT, tps(len(evidence)), evidence, th, CLEAN)
    out = compare({VARIANT.variant_key: obs}, 0, th)[VARIANT.variant_key]
    return [o.vs_previous.change if o.vs_previous else "baseline" for o in out]


PON_LIKE = background.fit([2, 1, 3, 2, 2], [2000] * 5, "pon")  # ~0.1 % background


def test_detected_means_significant_against_background_not_a_pass_record() -> None:
    bg = PON_LIKE
    # a PASS record with one alt read is low-level evidence, never "detected"
    assert classify_status(reads(1, 1, called=True), bg, TH)[:2] == ("low_level", "below_significance")
    # 3 alt reads at 2000x with a 0.1 % background (2 expected) is not significant
    status, reason, _, det = classify_status(reads(3, 2000), bg, TH)
    assert (status, reason) == ("low_level", "below_significance")
    assert det is not None and det.p_value is not None and det.p_value > TH.detection_alpha
    # 20 alt reads there is
    status, reason, _, det = classify_status(reads(20, 2000), bg, TH)
    assert (status, reason) == ("detected", "significant")
    assert det is not None and det.lob is not None and det.lob < 20
    assert det.lod_vaf is not None and 0.001 < det.lod_vaf < 0.01


def test_non_detection_is_stated_at_the_clearance_vaf() -> None:
    clean = background.fit([0, 0, 0, 0, 0], [20000] * 5, "pon")  # floor background
    # 0 alt in 10 000 with a clean background: powered at 0.1 % -> not detected
    status, reason, power, _ = classify_status(reads(0, 10000), clean, TH)
    assert (status, reason) == ("not_detected", "powered") and power is not None and power >= 0.8
    # 0 alt in 500: LoD far above 0.1 % -> not assessable, never not detected
    status, reason, power, det = classify_status(reads(0, 500), clean, TH)
    assert (status, reason) == ("not_assessable", "low_power") and power is not None and power < 0.8
    assert det is not None and det.lod_vaf is not None and det.lod_vaf > TH.clearance_vaf
    # a higher statement VAF makes it assessable
    assert classify_status(reads(0, 500), clean, Thresholds(clearance_vaf=0.02))[0] == "not_detected"


def test_missing_evidence_is_not_assessed_never_cleared() -> None:
    assert classify_status(Evidence(None, None, "none"), 0.05, TH)[:2] == ("not_assessed", "no_evidence")
    changes = run([reads(100, 1000, True), Evidence(None, None, "none")])
    assert changes == ["baseline", "not_evaluable"]


def test_no_coverage_is_not_assessable() -> None:
    assert classify_status(reads(0, 0), PON_LIKE, TH)[:2] == ("not_assessable", "no_coverage")


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([(0, 1000, False), (50, 1000, True)], "emerging"),
        ([(20, 1000, True), (80, 1000, True)], "rising"),
        ([(50, 1000, True), (55, 1000, True)], "stable"),
        ([(80, 1000, True), (20, 1000, True)], "falling"),
        ([(80, 8000, True), (0, 8000, False)], "cleared"),
        ([(0, 1000, False), (0, 1000, False)], "absent"),
        ([(0, 300, False), (3, 300, False)], "inconclusive"),
        ([(0, 1000, False), (1, 1, True)], "absent"),  # PASS with AD 0,1: no emergence
    ],
)
def test_each_change(counts: list[tuple[int, int, bool]], expected: str) -> None:
    assert run([reads(a, d, c) for a, d, c in counts])[1] == expected


def test_underpowered_absence_is_falling_not_cleared() -> None:
    # 30 % -> 0/400: a significant fall, but the LoD at 400x is far above 0.1 %,
    # so the variant is not assessable there and the fall is not called a clearance
    obs = observe("p", VARIANT, tps(2), [reads(300, 1000, True), reads(0, 400)], TH, CLEAN)
    assert obs[1].status == "not_assessable"
    out = compare({VARIANT.variant_key: obs}, 0, TH)[VARIANT.variant_key]
    assert out[1].vs_previous is not None and out[1].vs_previous.change == "falling"


def test_rising_needs_the_fold_change() -> None:
    # 20 % -> 26 % at 10 000x is significant but < 1.5-fold
    changes = run([reads(2000, 10000, True), reads(2600, 10000, True)])
    assert changes[1] == "stable"
    th = Thresholds(min_fold_change=1.1)
    assert run([reads(2000, 10000, True), reads(2600, 10000, True)], th)[1] == "rising"


def test_comparisons_carry_p_q_and_effect_sizes() -> None:
    obs = observe("p", VARIANT, tps(3), [reads(0, 1000), reads(10, 1000, True), reads(60, 1000, True)], TH)
    out = compare({VARIANT.variant_key: obs}, 0, TH)[VARIANT.variant_key]
    c = out[2].vs_previous
    assert c is not None and c.p_value is not None and c.q_value is not None
    assert c.q_value >= c.p_value
    assert c.vaf_delta == pytest.approx(0.05)
    assert c.log2_fc is not None and c.log2_fc > 2
    b = out[2].vs_baseline
    assert b is not None and b.against == "T0" and b.change == "emerging"
    # the baseline comparison of T1 is the same test as its vs-previous one, counted once
    assert out[1].vs_baseline == out[1].vs_previous
    assert out[0].vs_baseline is not None and out[0].vs_baseline.change == "baseline"
    assert out[0].vaf_ci_low == 0.0 and out[0].vaf_ci_high is not None


def test_power_is_never_at_the_peak_vaf() -> None:
    # the old rule powered 0/20 at the 40 % peak and called it "not detected"
    obs = observe("p", VARIANT, tps(2), [reads(40, 100, True), reads(0, 20)], TH, CLEAN)
    assert obs[1].power_vaf == TH.clearance_vaf
    assert obs[1].status == "not_assessable" and obs[1].status_reason == "low_power"
    # the deprecated --power-vaf sets the statement VAF, nothing else
    th = Thresholds(power_vaf=0.3)
    obs = observe("p", VARIANT, tps(2), [reads(40, 100, True), reads(0, 20)], th, CLEAN)
    assert obs[1].power_vaf == 0.3 and obs[1].status == "not_detected"


def test_copy_number_calls_are_tracked_by_presence_and_copy_number() -> None:
    cn = TrackedVariant(
        variant_key="CN:CCNE1:amplification", chrom="chr19", pos=29811991, ref="N", alt="<AMP>",
        gene="CCNE1", hgvsc=None, hgvsp_short=None, consequence=None, alteration_class="amplification",
        rule_id="RULE-CCNE1-AMP", mechanism="Cyclin E-CDK2 bypass", mechanism_id="MECH-CYCLINE-CDK2",
        mechanism_category="cell_cycle_specific", strategies=None, drug_classes="CDK4/6 inhibitor",
        evidence_level="C", is_copy_number=True,
    )
    ev = [Evidence(None, None, "cn_file"), Evidence(None, None, "cn_call", True, copy_number=6.0),
          Evidence(None, None, "cn_call", True, copy_number=9.0), Evidence(None, None, "none")]
    obs = observe("p", cn, tps(4), ev, TH)
    assert [o.status for o in obs] == ["not_detected", "detected", "detected", "not_assessed"]
    out = compare({cn.variant_key: obs}, 0, TH)[cn.variant_key]
    assert [o.vs_previous.change if o.vs_previous else None for o in out] == [
        None, "emerging", "rising", "not_evaluable"]
    assert all(o.vs_previous is None or o.vs_previous.p_value is None for o in out)
