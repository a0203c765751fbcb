"""Background error model of a site: beta-binomial fit, detection test, LoB, LoD, power.

A site's background is the distribution of alt counts (reads or molecules) a
sample *without* the variant shows at that site and allele.  It is modelled as
beta-binomial: X | n ~ Binomial(n, r), r ~ Beta with mean ``rate`` and
intra-class correlation ``rho`` (Var X = n r (1 - r) (1 + (n - 1) rho)).

* Fit (``fit``): pooled rate sum(k) / sum(n) across the background samples;
  rho by the method of moments (Kleinman 1973); the rate floored at
  ``floor``; rho at least ``rate * (cv'^2 + (sum(k) + 0.5) / (sum(n) rate)^2)``:
  a between-sample coefficient of variation (``cv`` when fewer than
  ``MIN_SAMPLES_FOR_RHO`` samples, else ``cv / 2`` as a minimum under the
  estimate) plus the squared relative (Poisson) error of the pooled rate
  itself, so a small panel of normals widens the background instead of
  pretending to know it.
* Detection (``p_value``): one-sided P(X >= k) under the background; detected
  when p <= alpha, i.e. k > LoB.
* Limit of blank (``lob``): the (1 - alpha) quantile of the background count
  at this depth (CLSI EP17-A2, with alpha as the false-positive rate).
* Limit of detection (``lod``): the smallest tumour VAF v with
  P(X > LoB) >= ``lod_power`` when X ~ Binomial(n, v + (1 - v) rate)
  (closed form: the beta quantile of the binomial tail).
* Power at a VAF (``power``): P(X > LoB) at that VAF.

Reference points: ctDNAtools (Shohdy et al., Bioinformatics 2022: per-sample
background mismatch rate), shearwater (Gerstung et al., Nat Commun 2014:
beta-binomial across a panel of normals), iDES (Newman et al., Nat Biotechnol
2016: position-specific background from normals).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_FLOOR = 1e-4  # per-base background rate never assumed below this
DEFAULT_CV = 0.5  # between-sample coefficient of variation of the background rate
MIN_SAMPLES_FOR_RHO = 3  # fewer samples: rho from DEFAULT_CV, not estimated
RHO_MAX = 0.5
SOURCES = ("pon_molecules", "pon", "sheet_patients", "sheet_site", "floor")


@dataclass(frozen=True, slots=True)
class Background:
    """Beta-binomial background of one site and allele."""

    rate: float  # mean background alt fraction (floored)
    rho: float  # intra-class correlation; 0 would be binomial
    source: str  # one of SOURCES
    n_samples: int = 0  # background samples the fit used
    alt: int = 0  # their summed alt counts
    depth: int = 0  # their summed depth
    raw_rate: float | None = None  # sum(alt) / sum(depth) before the floor

    def shape(self) -> tuple[float, float]:
        """(a, b) of the beta distribution of the per-sample rate."""
        s = (1.0 - self.rho) / self.rho
        return self.rate * s, (1.0 - self.rate) * s


def fit(
    alts: Sequence[int], depths: Sequence[int], source: str, *,
    floor: float = DEFAULT_FLOOR, cv: float = DEFAULT_CV,
) -> Background:
    """Beta-binomial background from per-sample (alt, depth) counts."""
    pairs = [(int(k), int(n)) for k, n in zip(alts, depths, strict=True) if n > 0]
    total_k = sum(k for k, _ in pairs)
    total_n = sum(n for _, n in pairs)
    raw = total_k / total_n if total_n else None
    rate = max(floor, raw or 0.0)
    rate = min(rate, 0.5)
    m = len(pairs)
    rho_hat = 0.0
    if m >= MIN_SAMPLES_FOR_RHO and raw and 0 < raw < 1:
        s = sum((k - n * raw) ** 2 / (n * raw * (1 - raw)) for k, n in pairs)
        denom = sum((n - 1) * (1 - n / total_n) for _, n in pairs)
        if denom > 0:
            rho_hat = max(0.0, (s - (m - 1)) / denom)
    # rho ~ rate * CV^2 for a small rate: the CV term is between-sample spread, the
    # second the squared relative error of the rate estimated from total_k counts in
    # total_n (Poisson: (k + 0.5) / (n * rate)^2, ~1/k when the rate is k/n)
    est = (total_k + 0.5) / (total_n * rate) ** 2 if total_n else 0.0
    prior = rate * ((cv if m < MIN_SAMPLES_FOR_RHO else cv / 2) ** 2 + est)
    rho = min(RHO_MAX, max(rho_hat, prior, 1e-12))
    return Background(rate, rho, source, m, total_k, total_n, raw)


def floor_background(floor: float = DEFAULT_FLOOR, cv: float = DEFAULT_CV) -> Background:
    """Background when nothing was measured: the floor, with the default spread."""
    return fit([], [], "floor", floor=floor, cv=cv)


def p_value(alt: int, depth: int, bg: Background) -> float:
    """One-sided P(X >= alt) under the background."""
    if alt <= 0 or depth <= 0:
        return 1.0
    from scipy.stats import betabinom

    a, b = bg.shape()
    return min(1.0, max(0.0, float(betabinom.sf(alt - 1, depth, a, b))))


def lob(depth: int, bg: Background, alpha: float) -> int:
    """Limit of blank in counts: the smallest c with P(X > c) <= alpha."""
    if depth <= 0:
        return 0
    from scipy.stats import betabinom

    a, b = bg.shape()
    return int(betabinom.ppf(1.0 - alpha, depth, a, b))


def lod(depth: int, bg: Background, alpha: float, power: float, min_alt: int = 1) -> float | None:
    """Smallest VAF detected with probability ``power`` (None when depth cannot reach it)."""
    if depth <= 0:
        return None
    c = max(lob(depth, bg, alpha), min_alt - 1)  # detected means X > c
    if c >= depth:
        return None
    from scipy.stats import beta

    # P(Binomial(n, q) >= c + 1) = I_q(c + 1, n - c): increasing in q
    q = float(beta.ppf(power, c + 1, depth - c))
    v = (q - bg.rate) / (1.0 - bg.rate)
    return min(1.0, max(0.0, v))


def power_at(depth: int, vaf: float, bg: Background, alpha: float, min_alt: int = 1) -> float:
    """P(detected) at ``depth`` if the tumour VAF is ``vaf``."""
    if depth <= 0:
        return 0.0
    c = max(lob(depth, bg, alpha), min_alt - 1)
    if c >= depth:
        return 0.0
    from scipy.stats import binom

    q = vaf + (1.0 - vaf) * bg.rate
    return float(binom.sf(c, depth, q))


def expected(depth: int, bg: Background) -> float:
    return depth * bg.rate


def subtract(alt: int, depth: int, bg: Background) -> float:
    """Background-corrected VAF: (alt / depth - rate) / (1 - rate), at least 0."""
    if depth <= 0:
        return 0.0
    return max(0.0, (alt / depth - bg.rate) / (1.0 - bg.rate))


def is_monitorable(bg: Background, max_background: float) -> bool:
    return bg.rate < max_background and math.isfinite(bg.rate)
