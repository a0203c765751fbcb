"""Read-count statistics for serial samples: VAF intervals, change tests, power.

Definitions (documented in docs/track.md):

* VAF confidence interval: Clopper-Pearson (exact, from the beta distribution)
  by default, Wilson score on request; both at ``level`` (0.95).
* Change between two timepoints: two-sided likelihood-ratio test of one
  shared VAF against two, each count beta-binomial with a fixed intra-class
  correlation ``rho`` (extra-binomial variance: PCR jackpots, sampling of
  genome equivalents); chi-square with 1 df; the p-value is never below
  Fisher's exact p-value (``fisher_change``), which is exact at small counts
  where the chi-square approximation is anti-conservative.
* Patient-level pooled test (``pooled_p_value``): the sum of alt counts over
  the tumour-informed sites against the exact convolution of the sites'
  beta-binomial backgrounds (ctDNAtools' Monte-Carlo statistic, computed
  exactly).
* Multiple testing: Benjamini-Hochberg over every test of one patient.
* Effect sizes: VAF difference (vaf2 - vaf1) and log2 fold change of the
  pseudocount-smoothed VAFs, (alt + 0.5) / (depth + 1).
* Detection power: P(X >= min_alt_reads) for X ~ Binomial(depth, vaf).
  (Status uses ``annotator.track.background``: power against the site's LoB.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.track.background import Background

CI_METHODS = ("clopper-pearson", "wilson")
PSEUDOCOUNT = 0.5  # Haldane-Anscombe: keeps log2 fold changes finite at zero alt reads


def vaf_ci(
    alt: int, depth: int, level: float = 0.95, method: str = "clopper-pearson"
) -> tuple[float, float] | tuple[None, None]:
    """Two-sided confidence interval of a binomial proportion; (None, None) without depth."""
    if depth <= 0:
        return None, None
    if not 0 <= alt <= depth:
        raise ValueError(f"alt count {alt} outside 0..{depth}")
    a = 1.0 - level
    if method == "clopper-pearson":
        from scipy.stats import beta

        lo = 0.0 if alt == 0 else float(beta.ppf(a / 2, alt, depth - alt + 1))
        hi = 1.0 if alt == depth else float(beta.ppf(1 - a / 2, alt + 1, depth - alt))
        return lo, hi
    if method == "wilson":
        from scipy.stats import norm

        z = float(norm.ppf(1 - a / 2))
        p = alt / depth
        denom = 1 + z * z / depth
        centre = (p + z * z / (2 * depth)) / denom
        half = z * math.sqrt(p * (1 - p) / depth + z * z / (4 * depth * depth)) / denom
        return max(0.0, centre - half), min(1.0, centre + half)
    raise ValueError(f"unknown CI method {method!r}; choose from {', '.join(CI_METHODS)}")


def fisher_change(alt1: int, depth1: int, alt2: int, depth2: int) -> float:
    """Two-sided Fisher's exact p-value for a change in allele fraction."""
    from scipy.stats import fisher_exact

    table = [[alt1, depth1 - alt1], [alt2, depth2 - alt2]]
    _, p = fisher_exact(table, alternative="two-sided")
    return min(1.0, float(p))


def log2_fold_change(alt1: int, depth1: int, alt2: int, depth2: int) -> float:
    """log2 of the pseudocount-smoothed VAF ratio (timepoint 2 over timepoint 1)."""
    v1 = (alt1 + PSEUDOCOUNT) / (depth1 + 2 * PSEUDOCOUNT)
    v2 = (alt2 + PSEUDOCOUNT) / (depth2 + 2 * PSEUDOCOUNT)
    return math.log2(v2 / v1)


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """BH-adjusted q-values in the input order (step-up, monotone, capped at 1)."""
    n = len(pvalues)
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: pvalues[i])
    q = [0.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * n / rank)
        q[i] = min(1.0, running)
    return q


def detection_power(depth: int, vaf: float, min_alt_reads: int) -> float:
    """Probability of seeing at least ``min_alt_reads`` alt reads at ``depth`` if the VAF is ``vaf``."""
    if depth <= 0 or vaf <= 0:
        return 0.0
    if vaf >= 1:
        return 1.0 if depth >= min_alt_reads else 0.0
    if min_alt_reads <= 0:
        return 1.0
    from scipy.stats import binom

    return float(binom.sf(min_alt_reads - 1, depth, vaf))


def _bb_loglik(k: int, n: int, mu: float, rho: float) -> float:
    from scipy.stats import betabinom, binom

    mu = min(1 - 1e-12, max(1e-12, mu))
    if rho <= 0:
        return float(binom.logpmf(k, n, mu))
    s = (1.0 - rho) / rho
    return float(betabinom.logpmf(k, n, mu * s, (1.0 - mu) * s))


def bb_change(alt1: int, depth1: int, alt2: int, depth2: int, rho: float) -> float:
    """Two-sided beta-binomial likelihood-ratio p-value for a change in VAF."""
    if depth1 <= 0 or depth2 <= 0:
        return 1.0
    from scipy.optimize import minimize_scalar
    from scipy.stats import chi2

    def null(mu: float) -> float:
        return -(_bb_loglik(alt1, depth1, mu, rho) + _bb_loglik(alt2, depth2, mu, rho))

    pooled = (alt1 + alt2) / (depth1 + depth2)
    lo, hi = max(1e-12, pooled / 50), min(1 - 1e-12, max(pooled * 50, 1e-6))
    best = minimize_scalar(null, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    l0 = -min(float(best.fun), null(pooled))
    l1 = _bb_loglik(alt1, depth1, alt1 / depth1, rho) + _bb_loglik(alt2, depth2, alt2 / depth2, rho)
    stat = max(0.0, 2.0 * (l1 - l0))
    # the chi-square approximation is anti-conservative at a handful of counts: never below
    # Fisher's exact p, which is exact there (and the binomial special case)
    return min(1.0, max(float(chi2.sf(stat, 1)), fisher_change(alt1, depth1, alt2, depth2)))


POOLED_EXACT_MAX = 20_000  # above this many pooled alt counts the tail is computed by a normal bound
POOLED_FAR_Z = 25.0  # that many SDs above the background mean: p is 0 for any decision


def pooled_p_value(alts: Sequence[int], depths: Sequence[int], backgrounds: Sequence[Background]) -> float:
    """P(sum X_i >= sum alts), X_i independent beta-binomial backgrounds (exact convolution)."""
    import numpy as np
    from scipy.stats import betabinom, norm

    t = int(sum(alts))
    if t <= 0:
        return 1.0
    sites = [(n, b.shape()) for n, b in zip(depths, backgrounds, strict=True) if n > 0]
    if not sites:
        return 1.0
    mean = sum(n * b.rate for n, b in zip(depths, backgrounds, strict=True))
    var = sum(n * b.rate * (1 - b.rate) * (1 + (n - 1) * b.rho) for n, b in zip(depths, backgrounds, strict=True))
    z = (t - mean) / math.sqrt(max(var, 1e-300))
    if t > POOLED_EXACT_MAX or z > POOLED_FAR_Z:
        # far in the tail (or too many counts to convolve): the normal tail, < 1e-100 beyond the cut
        return float(norm.sf(z))
    dist = np.zeros(t)
    dist[0] = 1.0  # pmf of the running sum over 0..t-1; mass >= t is what is asked
    for n, (a, b) in sites:
        pmf = betabinom.pmf(np.arange(min(n, t - 1) + 1), n, a, b)
        dist = np.convolve(dist, pmf)[:t]
    return float(min(1.0, max(0.0, 1.0 - dist.sum())))


def pooled_lob(depths: Sequence[int], backgrounds: Sequence[Background], alpha: float) -> int:
    """Smallest c with P(sum X_i > c) <= alpha under the pooled background."""
    lo, hi = 0, 1
    while _tail(hi + 1, depths, backgrounds) > alpha:
        lo, hi = hi, hi * 2
        if hi > POOLED_EXACT_MAX:
            return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if _tail(mid + 1, depths, backgrounds) > alpha:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _tail(c: int, depths: Sequence[int], backgrounds: Sequence[Background]) -> float:
    """P(sum X_i >= c)."""
    return pooled_p_value([c], list(depths), list(backgrounds))


def pooled_lod(
    depths: Sequence[int], backgrounds: Sequence[Background], alpha: float, power: float
) -> float | None:
    """Smallest VAF shared by every site at which the pooled test is positive with ``power``.

    Poisson approximation of the pooled count: lambda(v) = sum n_i (v + (1 - v) rate_i);
    P(Poisson(lambda) > c) >= power  <=>  lambda >= Gamma(c + 1).ppf(power).
    """
    total = sum(depths)
    if total <= 0:
        return None
    from scipy.stats import gamma

    c = pooled_lob(depths, backgrounds, alpha)
    lam = float(gamma.ppf(power, c + 1))
    bg = sum(n * b.rate for n, b in zip(depths, backgrounds, strict=True))
    span = sum(n * (1 - b.rate) for n, b in zip(depths, backgrounds, strict=True))
    v = (lam - bg) / span
    return min(1.0, max(0.0, v)) if v <= 1 else None
