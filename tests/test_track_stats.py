"""Statistics of resmark track, checked against closed forms and textbook values."""

from __future__ import annotations

import math

import pytest

from annotator.track import stats


def test_clopper_pearson_zero_successes_closed_form() -> None:
    # upper bound for 0/n is 1 - (alpha/2)^(1/n) (Clopper & Pearson 1934)
    lo, hi = stats.vaf_ci(0, 10, 0.95, "clopper-pearson")
    assert lo == 0.0
    assert hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)


def test_clopper_pearson_all_successes_closed_form() -> None:
    lo, hi = stats.vaf_ci(10, 10, 0.95, "clopper-pearson")
    assert hi == 1.0
    assert lo == pytest.approx(0.025 ** (1 / 10), rel=1e-9)


def test_wilson_interval_textbook() -> None:
    # Wilson score interval for 5/10 at 95 %: 0.2366 - 0.7634 (Newcombe 1998, Table I method 3)
    lo, hi = stats.vaf_ci(5, 10, 0.95, "wilson")
    assert lo == pytest.approx(0.2366, abs=5e-4)
    assert hi == pytest.approx(0.7634, abs=5e-4)


def test_ci_without_depth_is_missing() -> None:
    assert stats.vaf_ci(0, 0) == (None, None)


def test_fisher_lady_tasting_tea() -> None:
    # Fisher (1935): 3 of 4 cups right each way, two-sided p = 34/70
    p = stats.fisher_change(3, 4, 1, 4)
    assert p == pytest.approx(34 / 70, rel=1e-9)


def test_benjamini_hochberg_matches_r_p_adjust() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") -> 0.02 0.04 0.04 0.02
    q = stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert q == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.benjamini_hochberg([]) == []


def test_detection_power_is_binomial_tail() -> None:
    depth, vaf, k = 200, 0.01, 3
    expected = 1 - sum(math.comb(depth, i) * vaf**i * (1 - vaf) ** (depth - i) for i in range(k))
    assert stats.detection_power(depth, vaf, k) == pytest.approx(expected, rel=1e-9)
    assert stats.detection_power(0, 0.5, 3) == 0.0


def test_log2_fold_change_uses_pseudocounts() -> None:
    assert stats.log2_fold_change(0, 99, 0, 99) == 0.0
    lfc = stats.log2_fold_change(0, 999, 49, 999)
    assert lfc == pytest.approx(math.log2((49.5 / 1000) / (0.5 / 1000)))
