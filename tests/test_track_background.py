"""Background model, detection, change test and MRD on counts simulated with numpy (known truth).

Every simulation has a fixed seed and asserts its rate with a margin; the
truth is the simulation's own parameters, never resmark's output.  Scenarios:
per-site background 0.1-0.5 % per base spread over three alternative bases
(0.03-0.17 % per allele), a between-sample spread (gamma, CV 0.3), a PON of
10 normals at 1000-3000x, patient depth 500-5000.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.track import background as B
from annotator.track import stats
from annotator.track.model import Evidence, Thresholds
from annotator.track.status import compare, observe
from tests.test_track_status import VARIANT, tps

TH = Thresholds()
CV = 0.3


def _site(rng: np.random.Generator) -> tuple[float, B.Background]:
    err = rng.uniform(0.001, 0.005) / 3
    rates = rng.gamma(1 / CV**2, err * CV**2, 10)
    n = rng.integers(1000, 3001, 10)
    return err, B.fit(rng.binomial(n, rates), n, "pon")


def _draw(rng: np.random.Generator, err: float, vaf: float, depth: int) -> int:
    r = rng.gamma(1 / CV**2, err * CV**2)
    return int(rng.binomial(depth, vaf + (1 - vaf) * r))


def test_fit_recovers_rate_and_overdispersion() -> None:
    rng = np.random.default_rng(11)
    mu, rho = 2e-3, 1e-3
    s = (1 - rho) / rho
    n = np.full(200, 4000)
    k = rng.binomial(n, rng.beta(mu * s, (1 - mu) * s, 200))
    bg = B.fit(k, n, "pon")
    assert bg.rate == pytest.approx(mu, rel=0.1)
    assert bg.rho == pytest.approx(rho, rel=0.35)


def test_floor_and_small_pon_widen_the_background() -> None:
    zero = B.fit([0, 0], [500, 500], "pon")
    assert zero.rate == B.DEFAULT_FLOOR and zero.raw_rate == 0.0
    big = B.fit([0] * 20, [50_000] * 20, "pon")
    assert zero.rho > big.rho  # 1000 reads say less about the rate than a million


def test_lob_lod_definitions() -> None:
    bg = B.fit([2, 1, 3, 2, 2], [2000] * 5, "pon")
    n = 3000
    c = B.lob(n, bg, 0.01)
    assert B.p_value(c + 1, n, bg) <= 0.01 < B.p_value(c, n, bg)  # detected <=> alt > LoB
    lod = B.lod(n, bg, 0.01, 0.95)
    assert lod is not None
    assert B.power_at(n, lod, bg, 0.01) == pytest.approx(0.95, abs=1e-6)
    assert B.power_at(n, lod * 0.8, bg, 0.01) < 0.95
    assert B.lod(3, bg, 0.01, 0.95, min_alt=5) is None  # 3 reads can never show 5 alt reads


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rates_on_simulated_serial_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fp = [0, 0]
    emerging = [0, 0]
    stable = [0, 0]
    cleared = [0, 0]
    for it in range(450):
        err, bg = _site(rng)
        n1, n2 = (int(x) for x in rng.integers(500, 5001, 2))
        kind = it % 3
        if kind == 0:  # emergence from 0 with >= 10 expected alt molecules
            v1, v2 = 0.0, float(rng.uniform(10 / n2, 40 / n2))
        elif kind == 1:  # stable, above the LoD at both depths
            v1 = v2 = float(max(rng.choice([0.005, 0.01, 0.05]), 20 / min(n1, n2)))
        else:  # fall, sometimes to 0
            v1 = float(rng.choice([0.005, 0.01, 0.05]))
            v2 = float(rng.choice([0.0, v1 / 10, v1 / 50]))
        ev = [Evidence(_draw(rng, err, v1, n1), n1, "reads"), Evidence(_draw(rng, err, v2, n2), n2, "reads")]
        obs = compare({VARIANT.variant_key: observe("p", VARIANT, tps(2), ev, TH, bg)}, 0, TH)
        o = obs[VARIANT.variant_key]
        change = o[1].vs_previous.change if o[1].vs_previous else None
        for v, x in ((v1, o[0]), (v2, o[1])):
            if v == 0:
                fp[1] += 1
                fp[0] += x.status == "detected"
        if kind == 0:
            emerging[1] += 1
            emerging[0] += change == "emerging"
        if kind == 1:
            stable[1] += 1
            stable[0] += change == "stable"
        if change == "cleared":
            cleared[1] += 1
            cleared[0] += v2 > 0
    assert fp[0] / fp[1] <= 0.04
    assert emerging[0] / emerging[1] >= 0.82
    assert stable[0] / stable[1] >= 0.92
    assert cleared[0] <= max(1, 0.05 * cleared[1])


def test_change_test_allows_extra_binomial_variance() -> None:
    # the same pair is less significant with overdispersion; rho = 0 is the binomial LRT
    p0 = stats.bb_change(100, 5000, 150, 5000, 0.0)
    p1 = stats.bb_change(100, 5000, 150, 5000, 1e-3)
    assert p1 > p0
    # binomial LRT closed form for equal depths
    k1, k2, n = 100, 150, 5000
    pool = (k1 + k2) / (2 * n)

    def ll(k: int, p: float) -> float:
        return k * math.log(p) + (n - k) * math.log(1 - p)

    stat = 2 * (ll(k1, k1 / n) + ll(k2, k2 / n) - ll(k1, pool) - ll(k2, pool))
    from scipy.stats import chi2

    assert p0 == pytest.approx(max(float(chi2.sf(stat, 1)), stats.fisher_change(k1, n, k2, n)), rel=1e-4)


def test_change_test_calibration_under_overdispersion() -> None:
    # stable 1 % VAF whose counts are beta-binomial with rho = 1e-4: ~5 % of pairs significant
    rng = np.random.default_rng(7)
    rho, v, n = 1e-4, 0.01, 3000
    s = (1 - rho) / rho
    sig = 0
    for _ in range(400):
        k1, k2 = rng.binomial(n, rng.beta(v * s, (1 - v) * s, 2))
        sig += stats.bb_change(int(k1), n, int(k2), n, rho) <= 0.05
    assert sig / 400 <= 0.08


def test_pooled_p_value_is_exact() -> None:
    bg = B.fit([2, 1, 3, 2, 2], [2000] * 5, "pon")
    from scipy.stats import betabinom

    a, b = bg.shape()
    # two sites: P(X1 + X2 >= 5) by explicit double sum
    n1, n2 = 1000, 2000
    p = 1 - sum(betabinom.pmf(i, n1, a, b) * betabinom.pmf(j, n2, a, b)
                for i in range(5) for j in range(5 - i))
    assert stats.pooled_p_value([2, 3], [n1, n2], [bg, bg]) == pytest.approx(p, rel=1e-9)
    assert stats.pooled_p_value([0, 0], [n1, n2], [bg, bg]) == 1.0


def test_pooled_mrd_false_positive_rate_and_lod() -> None:
    rng = np.random.default_rng(5)
    sites = [_site(rng) for _ in range(8)]
    depths = [int(x) for x in rng.integers(1000, 4000, 8)]
    bgs = [b for _, b in sites]
    positives = 0
    for _ in range(300):
        alts = [_draw(rng, err, 0.0, n) for (err, _), n in zip(sites, depths, strict=True)]
        positives += stats.pooled_p_value(alts, depths, bgs) <= 0.01
    assert positives / 300 <= 0.03
    lod = stats.pooled_lod(depths, bgs, 0.01, 0.95)
    assert lod is not None and 0 < lod < 0.005
    hits = 0
    for _ in range(200):
        alts = [_draw(rng, err, lod, n) for (err, _), n in zip(sites, depths, strict=True)]
        hits += stats.pooled_p_value(alts, depths, bgs) <= 0.01
    assert hits / 200 >= 0.85  # Poisson approximation of the LoD; the background spread costs a little
