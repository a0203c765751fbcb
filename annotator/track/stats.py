"""Read-count statistics for serial samples: VAF intervals, change tests, power.

Definitions (documented in docs/track.md):

* VAF confidence interval: Clopper-Pearson (exact, from the beta distribution)
  by default, Wilson score on request; both at ``level`` (0.95).
* Change between two timepoints: two-sided Fisher's exact test on the 2x2
  table ((alt1, depth1 - alt1), (alt2, depth2 - alt2)).
* Multiple testing: Benjamini-Hochberg over every test of one patient.
* Effect sizes: VAF difference (vaf2 - vaf1) and log2 fold change of the
  pseudocount-smoothed VAFs, (alt + 0.5) / (depth + 1).
* Detection power: P(X >= min_alt_reads) for X ~ Binomial(depth, vaf).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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
