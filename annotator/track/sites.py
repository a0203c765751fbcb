"""Per-site background and origin of a patient's tracked variants.

Background of a small variant (first that applies; ``Background.source``):

1. ``pon``: the panel of normals covers the site (SNVs): beta-binomial fit of
   the alt base across the normals (``annotator.track.pon``).
2. ``sheet_patients`` / ``sheet_site`` (no PON), the higher of:
   ``sheet_patients``: the site's alt counts in the *other* patients' reads
   (SNVs tracked in another patient of the sheet), fitted over the samples at
   or below their median alt fraction; ``sheet_site``: re-genotyped reads at
   the patient's timepoints: the *other* non-reference bases at the site
   (reads neither REF nor ALT), divided by the two other possible bases for an
   SNV (by one for indels), pooled over every timepoint.  ``sheet_site`` alone
   sees the site's general error rate but not an alt-specific artefact: the
   output says so.
3. ``floor``: nothing measured (VCF counts only): ``background_floor`` with
   the default spread.

Origin (``model.ORIGINS``): ``germline`` when the matched white cells
(``wbc_bam``/``wbc_vcf``) carry the variant at 35-65 % or >= 90 %, or the VAF
is in that band at every timepoint with depth >= 20; ``chip`` when the white
cells carry it (significant against the background) at another VAF;
``possible_chip`` for a known CHIP gene without white-cell data (flagged,
not excluded); else ``tumour``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from annotator.track import background
from annotator.track.background import Background
from annotator.track.identity import Call
from annotator.track.model import (
    CHIP_GENES,
    GERMLINE_MIN_DEPTH,
    GERMLINE_VAF_BAND,
    Evidence,
    Observation,
    Thresholds,
    TrackedVariant,
)

GERMLINE_HOM_VAF = 0.9


def site_background(
    variant: TrackedVariant, evidence: Sequence[Evidence], pon_bg: Background | None, th: Thresholds,
    other_patients: Sequence[tuple[int, int]] = (),
) -> Background:
    if pon_bg is not None:
        return pon_bg
    per_base = 2 if len(variant.ref) == len(variant.alt) == 1 else 1
    others = [(e.other_count, e.depth) for e in evidence
              if e.source == "reads" and e.other_count is not None and e.depth]
    site = None
    if others:
        site = background.fit([o for o, _ in others], [per_base * (d or 0) for _, d in others],
                              "sheet_site", floor=th.background_floor, cv=th.background_cv)
    patients = _lower_half(other_patients, th)
    if site is None and patients is None:
        return background.floor_background(th.background_floor, th.background_cv)
    if site is None or (patients is not None and patients.rate >= site.rate):
        assert patients is not None
        return patients
    return site


def _lower_half(samples: Sequence[tuple[int, int]], th: Thresholds) -> Background | None:
    """Beta-binomial over the other patients' samples at or below their median alt fraction.

    The lower half keeps a hotspot carried by a few of the other patients out of the
    background, while an artefact present in every sample stays in it.
    """
    usable = sorted(((a, d) for a, d in samples if d > 0), key=lambda x: x[0] / x[1])
    if len(usable) < 2:
        return None
    keep = usable[: max(2, (len(usable) + 1) // 2)]
    return background.fit([a for a, _ in keep], [d for _, d in keep], "sheet_patients",
                          floor=th.background_floor, cv=th.background_cv)


@dataclass(frozen=True)
class WhiteCells:
    """White-cell evidence at one site: counts from a BAM or a VCF record."""

    alt: int | None
    depth: int | None
    vaf: float | None
    source: str  # wbc_bam | wbc_vcf
    called: bool = False


def possible_germline(obs: Sequence[Observation]) -> bool:
    """Heterozygous-like (or ~1) VAF at every timepoint with enough depth."""
    vals = [o.vaf for o in obs if o.vaf is not None and (o.evidence.depth or 0) >= GERMLINE_MIN_DEPTH]
    if len(vals) < 2:
        return False
    lo, hi = GERMLINE_VAF_BAND
    return all(lo <= v <= hi for v in vals) or all(v >= GERMLINE_HOM_VAF for v in vals)


def _germline_vaf(vaf: float) -> bool:
    lo, hi = GERMLINE_VAF_BAND
    return lo <= vaf <= hi or vaf >= GERMLINE_HOM_VAF


def origin_of(
    variant: TrackedVariant, obs: Sequence[Observation], wbc: WhiteCells | None,
    bg: Background | None, th: Thresholds,
) -> tuple[str, str | None]:
    """(origin, reason) of one tracked variant."""
    if variant.is_copy_number:
        return "tumour", None
    if wbc is not None:
        if wbc.alt is not None and wbc.depth:
            vaf = wbc.alt / wbc.depth
            what = f"{wbc.alt}/{wbc.depth} ({100 * vaf:.2g}%) in white cells ({wbc.source})"
            if wbc.depth >= GERMLINE_MIN_DEPTH and _germline_vaf(vaf):
                return "germline", f"germline: {what}"
            b = bg if bg is not None else background.floor_background(th.background_floor, th.background_cv)
            if wbc.alt >= th.min_alt_reads and background.p_value(wbc.alt, wbc.depth, b) <= th.detection_alpha:
                return "chip", f"CHIP: {what}, significant against the site background"
            return "tumour", f"absent from white cells: {what}"
        if wbc.called and wbc.vaf is not None:
            if _germline_vaf(wbc.vaf):
                return "germline", f"germline: called in white cells at {100 * wbc.vaf:.2g}% ({wbc.source})"
            return "chip", f"CHIP: called in white cells at {100 * wbc.vaf:.2g}% ({wbc.source})"
        if wbc.called:
            return "chip", f"CHIP: called in white cells ({wbc.source}, no allele counts)"
        if wbc.source == "wbc_vcf":
            return _no_wbc(variant, obs, "not called in the white-cell VCF")
    return _no_wbc(variant, obs, None)


def _no_wbc(variant: TrackedVariant, obs: Sequence[Observation], note: str | None) -> tuple[str, str | None]:
    if possible_germline(obs):
        lo, hi = GERMLINE_VAF_BAND
        return "germline", (f"germline-like: VAF {100 * lo:.0f}-{100 * hi:.0f}% or >= "
                            f"{100 * GERMLINE_HOM_VAF:.0f}% at every timepoint with depth >= {GERMLINE_MIN_DEPTH}")
    if note is None and (variant.gene or "") in CHIP_GENES:
        return "possible_chip", f"{variant.gene} is a known CHIP gene; no white-cell data to tell"
    return "tumour", note


def wbc_from_vcf_rows(calls: Mapping[str, Call], key: str) -> WhiteCells:
    call = calls.get(key)
    if call is None:
        return WhiteCells(None, None, None, "wbc_vcf", False)
    row = call.row
    return WhiteCells(row.alt_count, row.depth, row.vaf, "wbc_vcf", bool(call.passed))
