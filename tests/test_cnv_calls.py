"""Gene-level copy-number calling: thresholds, purity, partial coverage, ctDNA."""

from __future__ import annotations

import math

import pytest

from annotator.cnv.genecall import call_genes
from annotator.cnv.readers import read_cnv
from annotator.cnv.segment import CnvInput, Segment
from annotator.cnv.thresholds import CnThresholds, cn_from_fold_change, cn_from_log2
from annotator.errors import UsageError
from annotator.reference import load_reference
from tests.conftest import datapath

ERBB2 = ("ERBB2", "chr17", 39_700_064, 39_728_658)  # GRCh38 MANE NM_004448.4 exon span


def _one(cnv: CnvInput, region: tuple[str, str, int, int] = ERBB2, **kw: object) -> object:
    calls = call_genes(cnv, [region], **kw)  # type: ignore[arg-type]
    assert len(calls) == 1
    return calls[0]


def test_default_thresholds_diploid() -> None:
    th = CnThresholds()
    assert [th.classify(x) for x in (0.2, 1.0, 2.0, 2.6, 5.9, 6.0)] == [
        "deep_deletion", "loss", "neutral", "gain", "gain", "amplification",
    ]


def test_thresholds_scale_with_ploidy() -> None:
    th = CnThresholds()
    assert th.classify(6.0, ploidy=4.0) == "gain"  # 6 copies in a tetraploid tumour
    assert th.classify(12.0, ploidy=4.0) == "amplification"
    assert th.classify(2.0, ploidy=4.0) == "loss"


def test_inconsistent_thresholds_are_a_usage_error() -> None:
    with pytest.raises(UsageError):
        CnThresholds(gain_ratio=0.9)


def test_purity_formula_matches_cnvkit_for_diploid() -> None:
    # CNVkit call --purity: n = (r * 2**v - x * (1 - p)) / p, r = x = 2
    for v, p in ((1.0, 0.5), (0.3, 0.1), (-0.4, 0.7)):
        assert cn_from_log2(v, p) == pytest.approx(max(0.0, (2 * 2**v - 2 * (1 - p)) / p))
    assert cn_from_log2(1.0) == pytest.approx(4.0)  # pure sample: 2 * 2**log2
    # general mixture with tumour ploidy P: R (p P + 2 (1-p)) = p CN + 2 (1-p)
    cn = cn_from_log2(math.log2(1.5), 0.6, 3.0)
    assert pytest.approx(0.6 * cn + 0.8) == 1.5 * (0.6 * 3 + 0.8)
    assert cn_from_fold_change(4.0) == pytest.approx(8.0)


def test_segment_covering_only_part_of_a_gene() -> None:
    # 30 % of ERBB2 amplified: below min_fraction (0.5): no amplification
    low = _one(read_cnv(datapath("cnv", "erbb2_partial30.grch38.cns")))
    assert low.call == "neutral"  # type: ignore[attr-defined]
    # 70 % amplified: amplification, flagged as partial
    high = _one(read_cnv(datapath("cnv", "erbb2_partial70.grch38.cns")))
    assert high.call == "amplification" and high.partial  # type: ignore[attr-defined]
    assert high.fraction == pytest.approx(20016 / 28595, abs=1e-4)  # type: ignore[attr-defined]
    # a stricter min_fraction turns it down
    strict = _one(
        read_cnv(datapath("cnv", "erbb2_partial70.grch38.cns")),
        thresholds=CnThresholds(min_fraction=0.8),
    )
    assert strict.call == "neutral"  # type: ignore[attr-defined]


def test_ctdna_tumour_fraction_changes_the_call() -> None:
    """CCNE1 log2 0.3: 2.46 copies if the sample were pure (neutral), 6.6 copies in
    the tumour at a tumour fraction of 10 % (amplification)."""
    cnv = read_cnv(datapath("cnv", "ctdna_ccne1.grch38.cns"))
    ccne1 = ("CCNE1", "chr19", 29_811_991, 29_824_312)
    pure = _one(cnv, ccne1)
    assert pure.call == "neutral"  # type: ignore[attr-defined]
    assert pure.copy_number == pytest.approx(2 * 2**0.3)  # type: ignore[attr-defined]
    ctdna = _one(cnv, ccne1, purity=0.1)
    assert ctdna.call == "amplification" and ctdna.purity_adjusted  # type: ignore[attr-defined]
    assert ctdna.copy_number == pytest.approx((2 * 2**0.3 - 1.8) / 0.1)  # type: ignore[attr-defined]
    # ERBB2 at log2 0.02 stays neutral whatever the tumour fraction
    assert _one(cnv, ERBB2, purity=0.1).call == "neutral"  # type: ignore[attr-defined]


def test_caller_fitted_copy_number_is_not_rescaled() -> None:
    seg = Segment("chr17", 39_600_000, 39_800_000, copy_number=3.0, log2=0.3, cn_is_adjusted=True)
    cnv = CnvInput("x", "purple", "purple", (seg,))
    assert _one(cnv, purity=0.1).copy_number == 3.0  # type: ignore[attr-defined]


def test_deep_deletion_needs_an_exon() -> None:
    ref = load_reference("GRCh38")
    pten = ref.transcripts["PTEN"]
    region = ("PTEN", "chr10", pten.start, pten.end)
    exons = {"PTEN": pten.exons}
    intronic = CnvInput("x", "purple", "purple",
                        (Segment("chr10", 87_900_000, 87_910_000, 0.0, None, 1, True),))
    assert call_genes(intronic, [region], exons)[0].call == "neutral"
    exon5 = CnvInput("x", "purple", "purple",
                     (Segment("chr10", 87_933_000, 87_934_000, 0.0, None, 1, True),))
    call = call_genes(exon5, [region], exons)[0]
    assert call.call == "deep_deletion" and call.copy_number == 0.0
