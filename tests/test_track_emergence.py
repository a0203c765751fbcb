"""Emergence after several shallow draws: the current draw tested against the pooled run (issue 16).

Truth is independent of the code under test: p-values by scipy's Fisher test and a
beta-binomial likelihood-ratio test computed here on a grid (not ``stats.bb_change``), and
simulated series whose true VAFs are known (numpy binomial draws).
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from annotator.track.model import Thresholds
from annotator.track.status import compare, observe
from tests.test_track_status import CLEAN, VARIANT, reads, tps

TH = Thresholds()


def _bb_lrt_p(a1: int, n1: int, a2: int, n2: int, rho: float) -> float:
    """Two-sided beta-binomial LRT of one VAF vs two, maximised on a log grid (independent of stats.py)."""
    import numpy as np
    from scipy.stats import betabinom, chi2

    s = (1 - rho) / rho

    def ll(k: int, n: int, mu: np.ndarray) -> np.ndarray:
        return np.asarray(betabinom.logpmf(k, n, mu * s, (1 - mu) * s))

    grid = np.exp(np.linspace(math.log(1e-7), math.log(0.5), 20001))
    l0 = float(np.max(ll(a1, n1, grid) + ll(a2, n2, grid)))
    l1 = float(np.max(ll(a1, n1, grid))) + float(np.max(ll(a2, n2, grid)))
    return float(chi2.sf(max(0.0, 2 * (l1 - l0)), 1))


def _compare(evidence: list) -> list:
    obs = observe("p", VARIANT, tps(len(evidence)), evidence, TH, CLEAN)
    return compare({VARIANT.variant_key: obs}, 0, TH)[VARIANT.variant_key]


def test_earlier_draws_below_detection_together_show_an_emergence() -> None:
    from scipy.stats import fisher_exact

    series = [reads(0, 400), reads(0, 400), reads(1, 500), reads(0, 450), reads(12, 1800)]
    # the two draws alone: 0/450 vs 12/1800 is no significant change (Fisher p = 0.14) ...
    assert fisher_exact([[0, 450], [12, 1788]])[1] > TH.alpha
    # ... the four earlier draws pooled (1/1750, none detected, not significant together) are
    assert fisher_exact([[1, 1749], [12, 1788]])[1] < 0.01
    assert _bb_lrt_p(1, 1750, 12, 1800, TH.change_rho) < 0.01
    out = _compare(series)
    assert [o.status for o in out[:4]] == ["not_assessable", "not_assessable", "low_level", "not_assessable"]
    c = out[4].vs_previous
    assert c is not None and c.change == "emerging"
    assert (c.pooled_from, c.pooled_alt, c.pooled_depth) == ("T0", 1, 1750)
    assert c.p_value is not None and c.p_value > TH.alpha  # decided by the pooled test, reported apart
    assert c.pooled_p_value is not None and c.pooled_p_value < 0.01
    assert c.pooled_q_value is not None


def test_no_pooled_test_when_the_earlier_draws_established_a_level() -> None:
    # 3/2000 twice (together significant against a 1e-4 background): the level is established,
    # so 0/300 -> 12/1800 is judged as a change from that level (rising or not), never emerging
    out = _compare([reads(3, 2000), reads(3, 2000), reads(0, 300), reads(12, 1800)])
    c = out[3].vs_previous
    assert c is not None and c.pooled_p_value is None and c.change != "emerging"


def test_a_low_level_consistent_with_the_earlier_draws_is_not_an_emergence() -> None:
    from scipy.stats import fisher_exact

    # 2/2300 pooled before, 2/600 now (detected): Fisher p = 0.19, not an emergence
    assert fisher_exact([[2, 2298], [2, 598]])[1] > TH.alpha
    out = _compare([reads(1, 1000), reads(1, 1000), reads(0, 300), reads(2, 600)])
    assert out[3].status == "detected"
    c = out[3].vs_previous
    assert c is not None and c.change == "inconclusive"


def _simulate(vafs: list[float], depths: list[int], rng: object) -> list[str]:
    import numpy as np

    assert isinstance(rng, np.random.Generator)
    ev = [reads(int(rng.binomial(n, v + (1 - v) * 1e-4)), n) for v, n in zip(vafs, depths, strict=True)]
    out = _compare(ev)
    return [o.vs_previous.change for o in out[1:] if o.vs_previous is not None]


@pytest.mark.parametrize("vaf", [0.005, 0.01])
def test_simulated_emergence_after_a_shallow_draw_is_found(vaf: float) -> None:
    """Truth: VAF 0 at four draws (the last one shallow, 300 molecules), then ``vaf`` at 2 000.

    The previous draw alone cannot show the change (at 0.5 % it expects 1.5 alt molecules);
    the four earlier draws together can.  Found in >= 90 % of 80 simulated series."""
    import numpy as np

    rng = np.random.default_rng(20261202)
    found = Counter()
    for _ in range(80):
        depths = [int(rng.integers(300, 3000)) for _ in range(3)] + [300, 2000]
        found[_simulate([0, 0, 0, 0, vaf], depths, rng)[-1]] += 1
    assert found["emerging"] >= 0.9 * 80, found


def test_simulated_stable_low_level_is_rarely_called_emerging() -> None:
    """Truth: one VAF (0.1 %) at five draws of 300-3 000 molecules, no emergence.  'emerging'
    (vs the previous draw or the pooled run) in <= 3 % of 320 transitions."""
    import numpy as np

    rng = np.random.default_rng(7)
    labels: Counter[str] = Counter()
    for _ in range(80):
        depths = [int(math.exp(rng.uniform(math.log(300), math.log(3000)))) for _ in range(5)]
        labels.update(_simulate([0.001] * 5, depths, rng))
    assert labels["emerging"] <= 0.03 * sum(labels.values()), labels


@pytest.mark.parametrize(("series", "want"), [
    ([reads(1, 523), reads(11, 1833)], ("inconclusive", "no_level_before")),
    ([reads(20, 1000), reads(1, 300)], ("stable", "level_persists")),
    ([reads(10, 1000), reads(0, 200)], ("inconclusive", "nothing_shown_now")),
    ([reads(30, 1000), reads(1, 60), reads(2, 1000)], ("inconclusive", "differs_from_pooled_level")),
    ([reads(0, 1000), reads(0, 1000), reads(1, 1000)], ("absent", "not_shown_present")),
    ([reads(2, 2000), reads(2, 2000)], ("stable", "low_level_together")),
    ([reads(2, 2000), reads(2, 2000), reads(2, 2000)], ("stable", "level_persists")),
    ([reads(100, 1000), reads(0, 2000)], ("falling", "decrease")),
    ([reads(0, 2000), reads(40, 2000)], ("emerging", "increase")),
    ([reads(0, 400), reads(0, 400), reads(1, 500), reads(0, 450), reads(12, 1800)],
     ("emerging", "increase_vs_pooled_run")),
])
def test_each_change_says_which_rule_decided(series: list, want: tuple[str, str]) -> None:
    """The same constructed series as tests/test_track_changes.py (labels checked there by hand)."""
    out = _compare(series)
    c = out[-1].vs_previous
    assert c is not None and (c.change, c.reason) == want
    assert out[0].vs_baseline is not None and out[0].vs_baseline.reason == "baseline"
