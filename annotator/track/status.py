"""Per-timepoint status and between-timepoint change of each tracked variant.

Evidence priority at a timepoint: re-genotyped reads (when a BAM/CRAM is
given; molecules when the reads carry UMI families) > the VCF record at the
same key (PASS or filtered) > nothing ("not_assessed").  Each count is tested
against the site's background (``annotator.track.background``); changes by a
beta-binomial likelihood-ratio test (``stats.bb_change``) with a minimum
effect.  See docs/track.md for every definition.
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


def _raw(prev: Observation, cur: Observation, rho: float) -> Comparison:
    """p-value and effect sizes before correction; change filled in later."""
    if prev.variant.is_copy_number:
        return Comparison("pending", against=prev.timepoint)
    if not (_testable(prev) and _testable(cur)):
        delta = cur.vaf - prev.vaf if cur.vaf is not None and prev.vaf is not None else None
        return Comparison("pending", vaf_delta=delta, against=prev.timepoint)
    a1, n1 = prev.evidence.alt_count, prev.evidence.depth
    a2, n2 = cur.evidence.alt_count, cur.evidence.depth
    assert a1 is not None and n1 is not None and a2 is not None and n2 is not None
    return Comparison(
        "pending",
        p_value=stats.bb_change(a1, n1, a2, n2, rho),
        vaf_delta=a2 / n2 - a1 / n1,
        log2_fc=stats.log2_fold_change(a1, n1, a2, n2),
        against=prev.timepoint,
    )


def classify_change(prev: Observation, cur: Observation, c: Comparison, th: Thresholds) -> str:
    """The change vocabulary (docs/track.md): significance, a minimum effect and both statuses."""
    if prev.variant.is_copy_number:
        return _cn_change(prev, cur, th)
    if "not_assessed" in (prev.status, cur.status) or c.p_value is None:
        return "not_evaluable"
    prev_det, cur_det = prev.status == "detected", cur.status == "detected"
    tested = c.q_value if th.adjust == "bh" else c.p_value
    significant = tested is not None and tested <= th.alpha
    big = abs(c.log2_fc or 0.0) >= math.log2(th.min_fold_change)
    up, down = (c.vaf_delta or 0) > 0, (c.vaf_delta or 0) < 0
    if significant and big and up and cur_det:
        return "rising" if prev_det else "emerging"
    if significant and down and prev_det:
        if cur.status == "not_detected":
            return "cleared"
        if big:
            return "falling"  # still detected, low level, or absence not powered: not cleared
    if prev_det and cur_det:
        return "stable"
    if _present_over_pair(prev, cur, th):
        return "stable"  # alt counts at both, significant together, no significant change
    if not prev_det and not cur_det:
        return "absent"
    return "inconclusive"


def _present_over_pair(prev: Observation, cur: Observation, th: Thresholds) -> bool:
    """Alt counts > 0 at both timepoints whose sum is significant against the site background.

    A variant below the LoD at each draw can still be shown present over the two; with no
    significant change between them that is a stable variant, not an absent one.
    """
    a, b = prev.evidence, cur.evidence
    d = prev.detection or cur.detection
    if d is None or not a.alt_count or not b.alt_count or not a.depth or not b.depth:
        return False
    bg = Background(d.background_rate, d.background_rho, d.background_source, d.background_samples)
    k, n = a.alt_count + b.alt_count, a.depth + b.depth
    return k >= min_alt_needed(n, th) and background.p_value(k, n, bg) <= th.detection_alpha


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
    for key, obs in by_variant.items():
        for i, cur in enumerate(obs):
            if i > 0:
                raw.append((key, i, "prev", _raw(obs[i - 1], cur, th.change_rho)))
            if i != baseline_index and not (i > 0 and i - 1 == baseline_index):
                raw.append((key, i, "base", _raw(obs[baseline_index], cur, th.change_rho)))
    tested = [j for j, (_, _, _, c) in enumerate(raw) if c.p_value is not None]
    qvals = stats.benjamini_hochberg([raw[j][3].p_value or 0.0 for j in tested])
    qmap = dict(zip(tested, qvals, strict=True))
    out = {k: list(v) for k, v in by_variant.items()}
    for j, (key, i, kind, c) in enumerate(raw):
        obs = out[key]
        prev = obs[i - 1] if kind == "prev" else obs[baseline_index]
        c = replace(c, q_value=qmap.get(j))
        c = replace(c, change=classify_change(prev, obs[i], c, th))
        if kind == "prev":
            obs[i] = replace(obs[i], vs_previous=c)
            if i - 1 == baseline_index:
                obs[i] = replace(obs[i], vs_baseline=c)  # same test: counted once
        else:
            obs[i] = replace(obs[i], vs_baseline=c)
    base = Comparison("baseline")
    for obs in out.values():
        obs[baseline_index] = replace(obs[baseline_index], vs_baseline=base)
    return out
