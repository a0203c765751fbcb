"""Per-timepoint status and between-timepoint change of each tracked variant.

Evidence priority at a timepoint: re-genotyped reads (when a BAM/CRAM is
given; molecules when the reads carry UMI families) > the VCF record at the
same key (PASS or filtered) > nothing ("not_assessed").  Each count is tested
against the site's background (``annotator.track.background``); changes by a
beta-binomial likelihood-ratio test (``stats.bb_change``) of the two draws
with a minimum effect; whether the variant was *established* before a draw
(the previous draw detected, or the earlier draws consistent with it
significant together, ``pooled_run``) decides emerging vs rising and stable vs
inconclusive.  When those earlier draws established nothing, the current draw
is also tested against them pooled (an emergence after several shallow draws).  See docs/track.md for every definition.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from annotator.track import background, stats
from annotator.track.background import Background
from annotator.track.identity import TimepointCalls
from annotator.track.model import (
    Comparison,
    Detection,
    Evidence,
    Observation,
    Thresholds,
    TrackedVariant,
)
from annotator.track.regenotype import AlleleCounts

GAIN_CLASSES = frozenset({"amplification", "gain"})


def _molecule_counts(counts: AlleleCounts) -> tuple[int, int, int, int, str] | None:
    """(alt, depth, ref, other, unit) in molecules when the re-genotyper grouped reads into families."""
    unit = str(getattr(counts, "unit", "reads") or "reads")
    alt_m = getattr(counts, "alt_molecules", None)
    if unit == "reads" or alt_m is None:
        return None
    ref_m = int(getattr(counts, "ref_molecules", 0) or 0)
    other_m = int(getattr(counts, "other_molecules", 0) or 0)
    return int(alt_m), int(alt_m) + ref_m + other_m, ref_m, other_m, unit


def evidence_for(
    variant: TrackedVariant, tp: TimepointCalls, counts: AlleleCounts | None
) -> Evidence:
    call = tp.calls.get(variant.variant_key)
    called = bool(call and call.passed)
    filt = call.row.filter if call else None
    vcf_alt = vcf_depth = None
    vcf_vaf = None
    if call is not None:
        r = call.row
        vcf_depth, vcf_alt, vcf_vaf = r.depth, r.alt_count, r.vaf
        if vcf_alt is None and vcf_vaf is not None and vcf_depth is not None:
            vcf_alt = round(vcf_vaf * vcf_depth)  # AF and DP only: reconstruct the alt count
        if vcf_vaf is None and vcf_alt is not None and vcf_depth:
            vcf_vaf = vcf_alt / vcf_depth
        if vcf_alt is not None and vcf_depth is not None and vcf_alt > vcf_depth:
            vcf_depth = vcf_alt  # callers whose DP excludes some alt reads
    if variant.is_copy_number:
        if called:
            return Evidence(None, None, "cn_call", True, filt, copy_number=call.row.copy_number if call else None)
        return Evidence(None, None, "cn_file" if tp.cn_assessed else "none", False, filt)
    if counts is not None:
        mol = _molecule_counts(counts)
        if mol is not None:
            alt, depth, ref, other, unit = mol
            return Evidence(alt, depth, "reads", called, filt, vcf_alt, vcf_depth, vcf_vaf,
                            ref_count=ref, other_count=other, discordant_pairs=counts.discordant_pairs,
                            unit=unit, read_alt_count=counts.alt, read_depth=counts.depth)
        return Evidence(counts.alt, counts.depth, "reads", called, filt, vcf_alt, vcf_depth, vcf_vaf,
                        ref_count=counts.ref, other_count=counts.other,
                        discordant_pairs=counts.discordant_pairs,
                        read_alt_count=counts.alt, read_depth=counts.depth)
    if call is not None:
        source = "vcf_call" if called else "vcf_filtered"
        return Evidence(vcf_alt, vcf_depth, source, called, filt, vcf_alt, vcf_depth, vcf_vaf)
    return Evidence(None, None, "none")


def min_alt_needed(depth: int, th: Thresholds) -> int:
    return max(th.min_alt_reads, math.ceil(th.min_vaf * depth))


def detection_of(ev: Evidence, bg: Background | None, th: Thresholds) -> Detection | None:
    """Test one observation's counts against its site's background."""
    if bg is None or ev.alt_count is None or not ev.depth:
        return None
    n, k = ev.depth, ev.alt_count
    c = background.lob(n, bg, th.detection_alpha)
    return Detection(
        background_rate=bg.rate, background_rho=bg.rho, background_source=bg.source,
        background_samples=bg.n_samples,
        p_value=background.p_value(k, n, bg),
        lob=c, lob_vaf=c / n,
        lod_vaf=background.lod(n, bg, th.detection_alpha, th.lod_power, min_alt_needed(n, th)),
        artefact=not background.is_monitorable(bg, th.max_background),
    )


def classify_status(
    ev: Evidence, bg: Background | None, th: Thresholds
) -> tuple[str, str, float | None, Detection | None]:
    """(status, reason, power at the statement VAF, detection test) of one observation.

    ``detected`` needs the alt count significant against the background
    (p <= detection_alpha) and at least ``min_alt_needed`` alt counts; a PASS
    record never decides it.  Non-detection is stated at ``statement_vaf``
    (``--clearance-vaf``): ``not_detected`` only with power >= min_power there.
    """
    if ev.source == "cn_call":
        return "detected", "copy_number_call", None, None
    if ev.source == "cn_file":
        return "not_detected", "copy_number_absent", None, None
    if ev.alt_count is None or ev.depth is None:
        if ev.called:
            return "low_level", "called_without_counts", None, None
        return "not_assessed", "no_evidence", None, None
    depth, alt = ev.depth, ev.alt_count
    if depth == 0:
        return "not_assessable", "no_coverage", 0.0, None
    bg = bg if bg is not None else background.floor_background(th.background_floor, th.background_cv)
    det = detection_of(ev, bg, th)
    assert det is not None and det.p_value is not None
    power = background.power_at(depth, th.statement_vaf, bg, th.detection_alpha, min_alt_needed(depth, th))
    if det.p_value <= th.detection_alpha and alt >= min_alt_needed(depth, th):
        return "detected", "significant", power, det
    if alt > 0 and alt > background.expected(depth, bg):
        return "low_level", "below_significance", power, det
    if power >= th.min_power:
        return "not_detected", "powered", power, det
    return "not_assessable", "low_power", power, det


def observe(
    patient: str,
    variant: TrackedVariant,
    timepoints: Sequence[TimepointCalls],
    evidence: Sequence[Evidence],
    th: Thresholds,
    bg: Background | None = None,
) -> list[Observation]:
    """One variant's observations at every timepoint, without the comparisons."""
    out = []
    for i, (tp, ev) in enumerate(zip(timepoints, evidence, strict=True)):
        status, reason, power, det = classify_status(ev, bg, th)
        lo = hi = None
        if ev.alt_count is not None and ev.depth:
            lo, hi = stats.vaf_ci(ev.alt_count, ev.depth, th.ci_level, th.ci_method)
        out.append(
            Observation(
                patient=patient, timepoint=tp.spec.label, timepoint_index=i,
                date=tp.spec.date.isoformat() if tp.spec.date else None, variant=variant,
                evidence=ev, status=status, status_reason=reason, detection_power=power,
                power_vaf=th.statement_vaf if not variant.is_copy_number else None, vaf=ev.vaf,
                vaf_ci_low=lo, vaf_ci_high=hi, detection=det,
            )
        )
    return out


def _testable(o: Observation) -> bool:
    e = o.evidence
    return e.alt_count is not None and bool(e.depth)


def _counts(o: Observation) -> tuple[int, int]:
    a, n = o.evidence.alt_count, o.evidence.depth
    assert a is not None and n is not None
    return a, n


def pooled_run(obs: Sequence[Observation], i: int, th: Thresholds) -> list[int]:
    """Indices of the draws pooled with the previous one (``i - 1``) when testing draw ``i``.

    Walking back from ``i - 1``, each earlier draw joins while its counts are consistent
    with the pooled counts of the run so far (two-sided ``bb_change`` p > alpha); the walk
    stops at the first draw that is not, or that has no counts.  A shallow previous draw
    is thereby tested with the earlier draws at the same level (docs/track.md).
    """
    prev = obs[i - 1]
    if prev.variant.is_copy_number or not _testable(prev):
        return [i - 1]
    run = [i - 1]
    k, n = _counts(prev)
    for j in range(i - 2, -1, -1):
        if not _testable(obs[j]):
            break
        a, d = _counts(obs[j])
        if stats.bb_change(a, d, k, n, th.change_rho) <= th.alpha:
            break
        run.append(j)
        k, n = k + a, n + d
    return sorted(run)


def _raw(prev: Observation, cur: Observation, rho: float, run: Sequence[Observation] = (),
         pooled_test: bool = False) -> Comparison:
    """p-value and effect sizes of the two draws before correction; change filled in later.

    ``run`` (earlier draws consistent with ``prev``, ``prev`` among them) is recorded as the
    level the variant was established at before ``cur`` (presence only: a change test
    against pooled draws chosen for their agreement with ``prev`` is biased toward
    ``prev``'s value and raised false changes on the benchmark, docs/track.md).
    ``pooled_test``: the run established no level (every draw of it below detection), so
    ``cur`` is also tested against the pooled run (``pooled_p_value``): the draws that
    together rule out the current level (an emergence after several shallow draws).
    """
    if prev.variant.is_copy_number:
        return Comparison("pending", against=prev.timepoint)
    if not (_testable(prev) and _testable(cur)):
        delta = cur.vaf - prev.vaf if cur.vaf is not None and prev.vaf is not None else None
        return Comparison("pending", vaf_delta=delta, against=prev.timepoint)
    a1, n1 = _counts(prev)
    a2, n2 = _counts(cur)
    pooled = len(run) > 1
    k = sum(_counts(o)[0] for o in run) if pooled else None
    n = sum(_counts(o)[1] for o in run) if pooled else None
    return Comparison(
        "pending", p_value=stats.bb_change(a1, n1, a2, n2, rho), vaf_delta=a2 / n2 - a1 / n1,
        log2_fc=stats.log2_fold_change(a1, n1, a2, n2), against=prev.timepoint,
        pooled_from=run[0].timepoint if pooled else None, pooled_alt=k, pooled_depth=n,
        pooled_p_value=stats.bb_change(k, n, a2, n2, rho) if pooled_test and k is not None and n else None,
    )


def classify_change(
    prev: Observation, cur: Observation, c: Comparison, th: Thresholds,
    group: Sequence[Observation] | None = None,
) -> str:
    """The change vocabulary (docs/track.md); ``change_and_reason`` says which rule decided."""
    return change_and_reason(prev, cur, c, th, group)[0]


def change_and_reason(
    prev: Observation, cur: Observation, c: Comparison, th: Thresholds,
    group: Sequence[Observation] | None = None,
) -> tuple[str, str]:
    """(change, reason): significance, a minimum effect and presence (``model.CHANGE_REASONS``).

    ``group``: the earlier draws consistent with ``prev`` (``pooled_run``, ``prev`` among
    them) followed by ``cur``.  The level before ``cur`` is *established* when ``prev`` is
    detected or those earlier draws together are significant against the background; a
    change is tested on the two draws alone (``c``), an emergence also against the pooled
    run when it established nothing.
    """
    if prev.variant.is_copy_number:
        return _cn_change(prev, cur, th), "copy_number"
    if "not_assessed" in (prev.status, cur.status) or c.p_value is None:
        return "not_evaluable", "missing_counts"
    members = list(group) if group is not None else [prev, cur]
    earlier = [o for o in members if o is not cur]
    tested = c.q_value if th.adjust == "bh" else c.p_value
    significant = tested is not None and tested <= th.alpha
    big = abs(c.log2_fc or 0.0) >= math.log2(th.min_fold_change)
    up, down = (c.vaf_delta or 0) > 0, (c.vaf_delta or 0) < 0
    cur_det = cur.status == "detected"
    before = established(earlier, th)
    if significant and big and up and cur_det:
        return ("rising" if before else "emerging"), "increase"
    if not before and cur_det and _pooled_increase(c, cur, th):
        # the earlier draws below detection together rule out the current level
        return "emerging", "increase_vs_pooled_run"
    if significant and down and before:
        if cur.status == "not_detected":
            return "cleared", "powered_absence"
        if big:
            return "falling", "decrease"  # still detected, low level, or absence not powered
    if before:
        # no significant change from an established level: stable when the current draw shows
        # the variant (detected, or low level with >= --min-alt-reads alt counts over the two
        # draws: one error molecule after a cleared level is as likely) and agrees with the
        # pooled level too, not only with the previous draw; else not decidable
        shows = cur.status == "detected" or (cur.status == "low_level" and _pair_alt(prev, cur) >= min_alt_needed(
            (prev.evidence.depth or 0) + (cur.evidence.depth or 0), th))
        if not shows:
            return "inconclusive", "nothing_shown_now"
        if not _agrees_with_run(c, cur, th):
            return "inconclusive", "differs_from_pooled_level"
        return "stable", "level_persists"
    if cur_det:
        return "inconclusive", "no_level_before"  # a possible emergence the depth cannot show
    if present(prev, members, th) and present(cur, members, th):
        return "stable", "low_level_together"  # two low-level draws shown present together
    return "absent", "not_shown_present"


def _pooled_increase(c: Comparison, cur: Observation, th: Thresholds) -> bool:
    """``cur`` significantly and at least ``min_fold_change`` above the pooled run (when tested)."""
    tested = c.pooled_q_value if th.adjust == "bh" else c.pooled_p_value
    if tested is None or tested > th.alpha or c.pooled_alt is None or not c.pooled_depth:
        return False
    a, n = _counts(cur)
    fc = stats.log2_fold_change(c.pooled_alt, c.pooled_depth, a, n)
    return a / n > c.pooled_alt / c.pooled_depth and fc >= math.log2(th.min_fold_change)


def _pair_alt(prev: Observation, cur: Observation) -> int:
    return (prev.evidence.alt_count or 0) + (cur.evidence.alt_count or 0)


def _agrees_with_run(c: Comparison, cur: Observation, th: Thresholds) -> bool:
    """No significant difference between ``cur`` and the pooled run (when there is one)."""
    if c.pooled_alt is None or not c.pooled_depth or not _testable(cur):
        return True
    a, n = _counts(cur)
    return stats.bb_change(c.pooled_alt, c.pooled_depth, a, n, th.change_rho) > th.alpha


def established(run: Sequence[Observation], th: Thresholds) -> bool:
    """A draw of ``run`` (draws consistent with one VAF) detected, or their pooled counts
    significant against the background."""
    if any(o.status == "detected" for o in run):
        return True
    draws = [o for o in run if _testable(o) and o.detection is not None]
    if not draws:
        return False
    d = draws[-1].detection
    assert d is not None
    k = sum(_counts(o)[0] for o in draws)
    n = sum(_counts(o)[1] for o in draws)
    return _significant(k, n, d, th)


def _significant(k: int, n: int, d: Detection, th: Thresholds) -> bool:
    bg = Background(d.background_rate, d.background_rho, d.background_source, d.background_samples)
    return k >= min_alt_needed(n, th) and background.p_value(k, n, bg) <= th.detection_alpha


def present(draw: Observation, group: Sequence[Observation], th: Thresholds) -> bool:
    """The variant is shown present at ``draw`` by its own or its low-level neighbours' counts.

    Detected there; or low-level evidence there (alt count above the background mean) and
    the pooled counts of the *non-detected* draws of ``group`` (``draw`` among them;
    consistent with one VAF) significant against the site background.  A detected draw
    lends no presence here: this is the test for two draws neither of which is detected.
    """
    if draw.status == "detected":
        return True
    d = draw.detection
    if draw.status != "low_level" or d is None or not _testable(draw):
        return False
    quiet = [o for o in group if o.status != "detected" and _testable(o)]
    if draw not in quiet:
        quiet.append(draw)
    k = sum(_counts(o)[0] for o in quiet)
    n = sum(_counts(o)[1] for o in quiet)
    return _significant(k, n, d, th)


def _cn_change(prev: Observation, cur: Observation, th: Thresholds) -> str:
    if "not_assessed" in (prev.status, cur.status):
        return "not_evaluable"
    prev_det, cur_det = prev.status == "detected", cur.status == "detected"
    if cur_det and not prev_det:
        return "emerging"
    if prev_det and not cur_det:
        return "cleared"
    if not prev_det:
        return "absent"
    a, b = prev.evidence.copy_number, cur.evidence.copy_number
    if a is None or b is None or (prev.variant.alteration_class or "") not in GAIN_CLASSES:
        return "stable"
    if b - a >= th.cn_delta:
        return "rising"
    if a - b >= th.cn_delta:
        return "falling"
    return "stable"


def compare(
    by_variant: Mapping[str, list[Observation]], baseline_index: int, th: Thresholds
) -> dict[str, list[Observation]]:
    """Add vs-previous and vs-baseline comparisons, BH-corrected over the patient's tests."""
    raw: list[tuple[str, int, str, Comparison]] = []
    runs: dict[tuple[str, int], list[int]] = {}
    for key, obs in by_variant.items():
        for i, cur in enumerate(obs):
            if i > 0:
                runs[(key, i)] = pooled_run(obs, i, th)
                run = [obs[j] for j in runs[(key, i)]]
                pooled_test = len(run) > 1 and not established(run, th)
                raw.append((key, i, "prev", _raw(obs[i - 1], cur, th.change_rho, run, pooled_test)))
            if i != baseline_index and not (i > 0 and i - 1 == baseline_index):
                raw.append((key, i, "base", _raw(obs[baseline_index], cur, th.change_rho)))
    # BH over every test made: the two-draw tests and the pooled-run emergence tests
    tests = [(j, "pair", c.p_value) for j, (_, _, _, c) in enumerate(raw) if c.p_value is not None]
    tests += [(j, "pooled", c.pooled_p_value) for j, (_, _, _, c) in enumerate(raw) if c.pooled_p_value is not None]
    qvals = stats.benjamini_hochberg([p or 0.0 for _, _, p in tests])
    qmap = {(j, which): q for (j, which, _), q in zip(tests, qvals, strict=True)}
    out = {k: list(v) for k, v in by_variant.items()}
    for j, (key, i, kind, c) in enumerate(raw):
        obs = out[key]
        prev = obs[i - 1] if kind == "prev" else obs[baseline_index]
        c = replace(c, q_value=qmap.get((j, "pair")), pooled_q_value=qmap.get((j, "pooled")))
        group = [obs[j] for j in runs[(key, i)]] + [obs[i]] if kind == "prev" else [prev, obs[i]]
        change, reason = change_and_reason(prev, obs[i], c, th, group)
        c = replace(c, change=change, reason=reason)
        if kind == "prev":
            obs[i] = replace(obs[i], vs_previous=c)
            if i - 1 == baseline_index:
                obs[i] = replace(obs[i], vs_baseline=c)  # same test: counted once
        else:
            obs[i] = replace(obs[i], vs_baseline=c)
    base = Comparison("baseline", reason="baseline")
    for obs in out.values():
        obs[baseline_index] = replace(obs[baseline_index], vs_baseline=base)
    return out
