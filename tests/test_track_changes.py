"""Change labels between draws (issue 16): established level, presence, no absorbed emergences.

Counts are constructed; every expected label follows from the definitions in docs/track.md
and p-values that are checked here by hand (two-draw test) or are far from alpha.
"""

from __future__ import annotations

import dataclasses

from annotator.core.rows import Row
from annotator.track import background, stats
from annotator.track.identity import Call, TimepointCalls, tracked_variants
from annotator.track.model import Evidence, Thresholds
from annotator.track.mrd import informative
from annotator.track.status import compare, observe, pooled_run
from tests.test_track_status import CLEAN, VARIANT, reads, tps

TH = Thresholds()


def changes(evidence: list[Evidence], bg: background.Background = CLEAN) -> list[str]:
    obs = observe("p", VARIANT, tps(len(evidence)), evidence, TH, bg)
    out = compare({VARIANT.variant_key: obs}, 0, TH)[VARIANT.variant_key]
    return [o.vs_previous.change if o.vs_previous else "baseline" for o in out]


def test_pooled_run_joins_consistent_earlier_draws_only() -> None:
    obs = observe("p", VARIANT, tps(4), [reads(50, 1000, True), reads(0, 2000), reads(1, 2000), reads(0, 300)],
                  TH, CLEAN)
    # 0/2000 and 1/2000 agree (p = 1); 50/1000 against 1/4000 does not (p ~ 1e-29)
    assert stats.bb_change(0, 2000, 1, 2000, TH.change_rho) > TH.alpha
    assert stats.bb_change(50, 1000, 1, 4000, TH.change_rho) < TH.alpha
    assert pooled_run(obs, 3, TH) == [1, 2]
    out = compare({VARIANT.variant_key: obs}, 0, TH)[VARIANT.variant_key]
    c = out[3].vs_previous
    assert c is not None and (c.pooled_from, c.pooled_alt, c.pooled_depth) == ("T1", 1, 4000)


def test_one_alt_read_before_does_not_make_an_emergence_stable() -> None:
    # 1/523 -> 11/1833: not significant (p = 0.48), and 1 alt read establishes nothing
    # (below --min-alt-reads): not "stable" (the old pooled-pair rule said so), inconclusive
    assert stats.bb_change(1, 523, 11, 1833, TH.change_rho) > 0.4
    assert changes([reads(1, 523), reads(11, 1833, True)])[1] == "inconclusive"


def test_stable_from_an_established_level_needs_alt_evidence_now() -> None:
    # 20/1000 (detected) -> 1/300: p = 0.063, 1 alt above the background mean: stable
    assert stats.bb_change(20, 1000, 1, 300, TH.change_rho) > TH.alpha
    assert changes([reads(20, 1000, True), reads(1, 300)])[1] == "stable"
    # -> 0/200: not significant either, but nothing seen now: inconclusive, not stable
    assert stats.bb_change(10, 1000, 0, 200, TH.change_rho) > TH.alpha
    assert changes([reads(10, 1000, True), reads(0, 200)])[1] == "inconclusive"


def test_level_established_by_earlier_draws_together() -> None:
    # T0 and T1 2/2000 each: neither significant alone (p = 0.018 > 0.01 at a 1e-4 background),
    # together 4/4000 are (p = 0.001); T2 2/2000 is then stable, T1 already by the pair rule
    assert background.p_value(2, 2000, CLEAN) > TH.detection_alpha
    assert background.p_value(4, 4000, CLEAN) < TH.detection_alpha
    assert changes([reads(2, 2000), reads(2, 2000), reads(2, 2000)]) == ["baseline", "stable", "stable"]


def test_no_established_level_and_nothing_detected_is_absent() -> None:
    assert changes([reads(0, 1000), reads(0, 1000), reads(1, 1000)]) == ["baseline", "absent", "absent"]


def test_a_detected_draw_does_not_establish_draws_after_a_significant_fall() -> None:
    # 100/1000 -> 0/2000 is a significant fall (falling: 0/2000 cannot exclude 0.1 %);
    # afterwards 0/2000 -> 1/2000 has no established level (the 10 % draw is not pooled)
    out = changes([reads(100, 1000, True), reads(0, 2000), reads(1, 2000)])
    assert out == ["baseline", "falling", "absent"]


def _row(key: str, filt: str, alt: int | None, depth: int | None) -> Row:
    chrom, pos, change = key.split(":")
    ref, alt_base = change.split(">")
    values: dict[str, object] = {f.name: None for f in dataclasses.fields(Row)}
    values.update(sample="S", chrom=chrom, pos=int(pos), id=".", ref=ref, alt=alt_base, gene="ESR1",
                  filter=filt, alt_count=alt, depth=depth, vaf=(alt / depth if alt is not None and depth else None),
                  variant_key=key, build="GRCh38", input_chrom=chrom, input_pos=int(pos), input_ref=ref,
                  input_alt=alt_base, record_index=0, allele_index=0, left_aligned=False, over_claim_guard=False)
    return Row(**values)  # type: ignore[arg-type]


def _tp(i: int, rows: list[Row]) -> TimepointCalls:
    base = tps(i + 1)[i]
    return TimepointCalls(base.spec, "GRCh38", "S", {r.variant_key: Call(r, r.filter == "PASS") for r in rows})


def test_variants_with_filtered_records_only_are_tracked_when_reads_decide() -> None:
    passed, weak, empty = "chr6:152098788:A>C", "chr6:152098791:A>G", "chr3:179234297:A>G"
    series = [
        _tp(0, [_row(passed, "PASS", 30, 1000), _row(weak, "weak_evidence", 2, 1000), _row(empty, "weak_evidence", 0, 900)]),
        _tp(1, [_row(passed, "PASS", 10, 1000), _row(weak, "weak_evidence", 1, 1000)]),
    ]
    assert [v.variant_key for v in tracked_variants(series)] == [passed]
    got = {v.variant_key: v.tracked_by for v in tracked_variants(series, filtered=True)}
    assert got == {passed: "pass", weak: "filtered"}  # a filtered record without alt reads is not tracked


def test_filtered_only_variants_are_not_mrd_sites() -> None:
    weak = dataclasses.replace(VARIANT, tracked_by="filtered")
    obs = observe("p", weak, tps(1), [reads(5, 1000)], TH, CLEAN)[0]
    assert not informative(obs)
    assert informative(observe("p", VARIANT, tps(1), [reads(5, 1000)], TH, CLEAN)[0])


def test_a_detected_draw_in_the_run_establishes_the_level() -> None:
    # 20/1000 detected, then 2/300 and 3/400 (consistent with it and with each other, not
    # detected): 3/400 -> 15/1000 is no significant change from an established level: stable
    assert stats.bb_change(20, 1000, 2, 300, TH.change_rho) > TH.alpha
    assert stats.bb_change(3, 400, 15, 1000, TH.change_rho) > TH.alpha
    bg = background.fit([2, 1, 3, 2, 2], [2000] * 5, "pon")  # ~0.1 %: 2/300 and 3/400 not detected
    obs = observe("p", VARIANT, tps(4), [reads(20, 1000), reads(2, 300), reads(3, 400), reads(15, 1000)], TH, bg)
    assert [o.status for o in obs] == ["detected", "low_level", "low_level", "detected"]
    out = compare({VARIANT.variant_key: obs}, 0, TH)[VARIANT.variant_key]
    assert [o.vs_previous.change if o.vs_previous else None for o in out] == [None, "stable", "stable", "stable"]


def test_stable_needs_agreement_with_the_pooled_level_not_only_the_shallow_draw() -> None:
    # 30/1000, then 1/60 (consistent with it, p = 1), then 2/1000: consistent with the shallow
    # draw (p = 0.16) but not with the pooled level 31/1060 (p ~ 2e-7): inconclusive, not stable
    assert stats.bb_change(30, 1000, 1, 60, TH.change_rho) > TH.alpha
    assert stats.bb_change(1, 60, 2, 1000, TH.change_rho) > TH.alpha
    assert stats.bb_change(31, 1060, 2, 1000, TH.change_rho) < 1e-6
    assert changes([reads(30, 1000, True), reads(1, 60), reads(2, 1000)]) == ["baseline", "stable", "inconclusive"]


def test_one_alt_count_over_a_pair_does_not_show_a_level_persisted() -> None:
    # 6/530 detected; 0/302 (p = 0.1 vs it: no significant fall) shows nothing; then 1/611:
    # one alt count over the last two draws does not show the variant persisted (a cleared
    # variant gives one error molecule as easily): inconclusive; 2/611 does: stable
    assert stats.bb_change(6, 530, 0, 302, TH.change_rho) > TH.alpha
    assert changes([reads(6, 530, True), reads(0, 302), reads(1, 611)]) == ["baseline", "inconclusive", "inconclusive"]
    assert changes([reads(6, 530, True), reads(0, 302), reads(2, 611)]) == ["baseline", "inconclusive", "stable"]
