"""Patient-level calls per timepoint: pooled MRD test and tumour fraction.

* MRD (``mrd_calls``): the tumour-informed sites are the patient's tracked
  small variants that are not germline/CHIP and not artefact sites.  At each
  timepoint their alt counts are summed and tested against the exact
  convolution of the sites' beta-binomial backgrounds
  (``stats.pooled_p_value``; ctDNAtools' Monte-Carlo test computed exactly).
  ``positive`` when p <= ``mrd_alpha``; else ``negative``; ``not_assessable``
  without depth.  The patient-level LoD is the VAF, shared by every site,
  at which the pooled test is positive with probability ``lod_power``.
* Tumour fraction (``tumour_fractions``): the sheet's ``tumor_fraction`` when
  given; else ``2 x`` the background-corrected pooled VAF of the *clonal*
  sites (heterozygous clonal SNVs in copy-neutral regions: TF = 2 VAF).  The
  clonal sites are those detected at the patient's highest-signal timepoint
  with a corrected VAF >= ``CLONAL_RATIO`` x the highest one there.  The
  interval is the Clopper-Pearson interval of the pooled counts, corrected
  and doubled the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from annotator.track import background, stats
from annotator.track.background import Background
from annotator.track.model import Observation, Thresholds, TimepointSpec

CLONAL_RATIO = 0.5


@dataclass(frozen=True)
class MrdCall:
    timepoint: str
    call: str  # positive | negative | not_assessable
    p_value: float | None
    lod_vaf: float | None
    n_sites: int
    alt_total: int
    depth_total: int
    unit: str  # reads | molecules | mixed


@dataclass(frozen=True)
class TumourFraction:
    value: float | None
    low: float | None
    high: float | None
    source: str | None  # sheet | estimate | None
    n_clonal: int = 0


def informative(o: Observation) -> bool:
    """Used for MRD, tumour fraction and response: a measured small tumour-origin, monitorable site
    with a PASS record somewhere (tumour-informed; a variant with filtered records only is not)."""
    e = o.evidence
    return (not o.variant.is_copy_number and not o.excluded and o.monitorable and o.variant.tracked_by == "pass"
            and e.alt_count is not None and bool(e.depth))


def mrd_calls(
    columns: Sequence[Sequence[Observation]], backgrounds: Mapping[str, Background], th: Thresholds,
) -> list[MrdCall]:
    out = []
    for col in columns:
        sites = [o for o in col if informative(o)]
        label = col[0].timepoint if col else ""
        if not sites:
            out.append(MrdCall(label, "not_assessable", None, None, 0, 0, 0, "reads"))
            continue
        alts = [o.evidence.alt_count or 0 for o in sites]
        depths = [o.evidence.depth or 0 for o in sites]
        bgs = [backgrounds.get(o.variant.variant_key)
               or background.floor_background(th.background_floor, th.background_cv) for o in sites]
        p = stats.pooled_p_value(alts, depths, bgs)
        lod = stats.pooled_lod(depths, bgs, th.mrd_alpha, th.lod_power)
        units = {o.evidence.unit for o in sites}
        out.append(MrdCall(
            label, "positive" if p <= th.mrd_alpha else "negative", p, lod, len(sites), sum(alts),
            sum(depths), units.pop() if len(units) == 1 else "mixed",
        ))
    return out


def _corrected(obs: Sequence[Observation], backgrounds: Mapping[str, Background]) -> tuple[int, int, float]:
    """(sum alt, sum depth, expected background count) over ``obs``."""
    k = sum(o.evidence.alt_count or 0 for o in obs)
    n = sum(o.evidence.depth or 0 for o in obs)
    bg = sum((o.evidence.depth or 0) * (backgrounds[o.variant.variant_key].rate
                                          if o.variant.variant_key in backgrounds else 0.0) for o in obs)
    return k, n, bg


def clonal_keys(columns: Sequence[Sequence[Observation]], backgrounds: Mapping[str, Background]) -> set[str]:
    best: tuple[float, list[tuple[str, float]]] = (0.0, [])
    for col in columns:
        vals = []
        for o in col:
            if informative(o) and o.status == "detected":
                bg = backgrounds.get(o.variant.variant_key)
                v = background.subtract(o.evidence.alt_count or 0, o.evidence.depth or 0, bg) if bg else (o.vaf or 0)
                vals.append((o.variant.variant_key, v))
        top = max((v for _, v in vals), default=0.0)
        if top > best[0]:
            best = (top, vals)
    top, vals = best
    return {k for k, v in vals if top > 0 and v >= CLONAL_RATIO * top}


def tumour_fractions(
    columns: Sequence[Sequence[Observation]], specs: Sequence[TimepointSpec],
    backgrounds: Mapping[str, Background], th: Thresholds,
) -> list[TumourFraction]:
    clonal = clonal_keys(columns, backgrounds)
    out = []
    for col, spec in zip(columns, specs, strict=True):
        if spec.tumor_fraction is not None:
            out.append(TumourFraction(spec.tumor_fraction, None, None, "sheet"))
            continue
        sites = [o for o in col if informative(o) and o.variant.variant_key in clonal]
        k, n, bg = _corrected(sites, backgrounds)
        if not sites or n <= 0:
            out.append(TumourFraction(None, None, None, None))
            continue
        rate = bg / n
        lo, hi = stats.vaf_ci(k, n, th.ci_level, "clopper-pearson")

        def tf(v: float | None, rate: float = rate) -> float:
            return min(1.0, max(0.0, 2.0 * ((v or 0.0) - rate) / (1.0 - rate)))

        value = min(1.0, max(0.0, 2.0 * (k / n - rate) / (1.0 - rate)))
        out.append(TumourFraction(value, tf(lo) if lo is not None else None,
                                  tf(hi) if hi is not None else None, "estimate", len(sites)))
    return out
