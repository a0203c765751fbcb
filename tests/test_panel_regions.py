"""PanelRegions: merged interval lookup agrees with a brute-force scan."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from annotator.annotation.pipeline import REGION_FLANK, PanelRegions

intervals = st.lists(
    st.tuples(st.integers(1, 200_000), st.integers(0, 30_000)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=12,
)


@given(intervals, st.integers(1, 260_000), st.integers(0, 500))
def test_touches_matches_brute_force(spans, start, length):
    regions = PanelRegions.build(("chr1", s, e, f"G{i}") for i, (s, e) in enumerate(spans))
    end = start + length
    expected = any(
        max(1, s - REGION_FLANK) <= end and start <= e + REGION_FLANK for s, e in spans
    )
    assert regions.touches("chr1", start, end) == expected
    assert not regions.touches("chr2", start, end)


@given(intervals)
def test_query_regions_are_sorted_and_disjoint(spans):
    q = PanelRegions.build(("chr1", s, e, "G") for s, e in spans).query_regions()
    for (_, s1, e1), (_, s2, e2) in zip(q, q[1:], strict=False):
        assert e1 + 1 < s2
        assert s1 <= e1 and s2 <= e2
