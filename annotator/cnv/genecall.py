"""Gene-level copy-number calls from overlapping segments (or bins).

For each gene span (MANE exon-to-exon, from ``Reference.gene_regions()``):

1. every overlapping segment contributes the bases it covers; its tumour copy
   number is the caller's absolute CN when the caller fitted purity itself
   (PURPLE, FACETS, TITAN, allele-specific tables) or when no
   ``--tumor-fraction`` is given, otherwise it is recomputed from the log2
   ratio with the tumour fraction and ploidy (``thresholds.cn_from_log2``);
2. each piece is classified with ``CnThresholds.classify``;
3. deep_deletion when a piece below the deep-deletion threshold removes a
   coding exon (any exon of the transcript model; the gene span when there is
   no model, then it must cover ``min_fraction`` of it); amplification / gain
   / loss when pieces at that level or beyond cover at least ``min_fraction``
   of the gene span; neutral otherwise.  The call's copy number is the
   length-weighted mean of the pieces behind it (the minimum for a deep
   deletion); ``fraction`` is the share of the gene span they cover.

Bin-level input (CNVkit ``.cnr``) covers exons only, so the bins overlapping a
gene are averaged (length-weighted log2, as CNVkit ``genemetrics`` does)
instead of checking coverage.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from annotator.cnv.segment import CnvInput, Segment
from annotator.cnv.thresholds import (
    DEFAULT_THRESHOLDS,
    NORMAL_PLOIDY,
    CnThresholds,
    cn_from_log2,
)

_UP = ("gain", "amplification")
_DOWN = ("loss", "deep_deletion")


@dataclass(frozen=True, slots=True)
class GeneCnCall:
    gene: str
    chrom: str
    start: int  # gene span
    end: int
    call: str  # deep_deletion / loss / neutral / gain / amplification
    copy_number: float | None
    log2: float | None
    fraction: float  # share of the gene span covered by the segments behind the call
    segments: tuple[Segment, ...]  # segments behind the call
    purity_adjusted: bool

    @property
    def partial(self) -> bool:
        return self.fraction < 0.999

    def segment_text(self) -> str | None:
        if not self.segments:
            return None
        return "; ".join(s.text() for s in self.segments)


def segment_cn(
    seg: Segment, purity: float | None, ploidy: float = NORMAL_PLOIDY
) -> tuple[float | None, bool]:
    """(tumour copy number, whether resmark applied the purity correction)."""
    if seg.copy_number is not None and (seg.cn_is_adjusted or purity is None):
        return seg.copy_number, False
    if seg.log2 is not None:
        return cn_from_log2(seg.log2, purity, ploidy), purity is not None and purity < 1
    return seg.copy_number, False


class SegmentIndex:
    """Segments per chromosome sorted by start, for overlap queries."""

    def __init__(self, segments: Iterable[Segment]) -> None:
        per: dict[str, list[Segment]] = {}
        for s in segments:
            per.setdefault(s.chrom, []).append(s)
        self._segs = {c: sorted(v, key=lambda s: (s.start, s.end)) for c, v in per.items()}
        self._starts = {c: [s.start for s in v] for c, v in self._segs.items()}
        self._maxlen = {c: max(s.length for s in v) for c, v in self._segs.items()}

    def overlapping(self, chrom: str, start: int, end: int) -> list[Segment]:
        segs = self._segs.get(chrom)
        if not segs:
            return []
        starts = self._starts[chrom]
        lo = bisect.bisect_left(starts, start - self._maxlen[chrom])
        hi = bisect.bisect_right(starts, end)
        return [s for s in segs[lo:hi] if s.start <= end and s.end >= start]


def call_genes(
    cnv: CnvInput,
    regions: Sequence[tuple[str, str, int, int]],
    exons: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    thresholds: CnThresholds = DEFAULT_THRESHOLDS,
    purity: float | None = None,
    ploidy: float = NORMAL_PLOIDY,
) -> list[GeneCnCall]:
    """One call per gene of ``regions`` ((gene, chrom, start, end)) that any segment overlaps."""
    index = SegmentIndex(cnv.segments)
    out: list[GeneCnCall] = []
    for gene, chrom, start, end in regions:
        segs = index.overlapping(chrom, start, end)
        if not segs:
            continue
        if cnv.bins:
            call = _call_bins(gene, chrom, start, end, segs, thresholds, purity, ploidy)
        else:
            gene_exons = (exons or {}).get(gene)
            call = _call_segments(
                gene, chrom, start, end, segs, gene_exons, thresholds, purity, ploidy
            )
        if call is not None:
            out.append(call)
    return out


def _weighted(values: Sequence[tuple[float, int]]) -> float | None:
    total = sum(w for _, w in values)
    if total <= 0:
        return None
    return sum(v * w for v, w in values) / total


def _call_segments(
    gene: str,
    chrom: str,
    start: int,
    end: int,
    segs: Sequence[Segment],
    exons: Sequence[tuple[int, int]] | None,
    th: CnThresholds,
    purity: float | None,
    ploidy: float,
) -> GeneCnCall | None:
    length = end - start + 1
    pieces: list[tuple[Segment, float, str, int, bool]] = []
    for s in segs:
        cn, adjusted = segment_cn(s, purity, ploidy)
        if cn is None:
            continue
        bases = min(end, s.end) - max(start, s.start) + 1
        pieces.append((s, cn, th.classify(cn, ploidy), bases, adjusted))
    if not pieces:
        return None

    def make(call: str, chosen: list[tuple[Segment, float, str, int, bool]], cn: float | None) -> GeneCnCall:
        frac = min(1.0, sum(p[3] for p in chosen) / length)
        l2 = _weighted([(p[0].log2, p[3]) for p in chosen if p[0].log2 is not None])
        return GeneCnCall(
            gene, chrom, start, end, call, cn, l2, frac,
            tuple(p[0] for p in chosen), any(p[4] for p in chosen),
        )

    deep = [p for p in pieces if p[2] == "deep_deletion"]
    if deep:
        if exons:
            hits = [p for p in deep if any(p[0].start <= e and p[0].end >= s for s, e in exons)]
        else:
            hits = deep if sum(p[3] for p in deep) / length >= th.min_fraction else []
        if hits:
            return make("deep_deletion", hits, min(p[1] for p in hits))
    for call, levels in (("amplification", ("amplification",)), ("gain", _UP), ("loss", _DOWN)):
        chosen = [p for p in pieces if p[2] in levels]
        if chosen and sum(p[3] for p in chosen) / length >= th.min_fraction:
            return make(call, chosen, _weighted([(p[1], p[3]) for p in chosen]))
    return make("neutral", pieces, _weighted([(p[1], p[3]) for p in pieces]))


def _call_bins(
    gene: str,
    chrom: str,
    start: int,
    end: int,
    bins: Sequence[Segment],
    th: CnThresholds,
    purity: float | None,
    ploidy: float,
) -> GeneCnCall | None:
    weights = [(s, min(end, s.end) - max(start, s.start) + 1) for s in bins]
    l2 = _weighted([(s.log2, w) for s, w in weights if s.log2 is not None])
    adjusted = False
    if l2 is not None and (purity is not None or all(s.copy_number is None for s in bins)):
        cn: float | None = cn_from_log2(l2, purity, ploidy)
        adjusted = purity is not None and purity < 1
    else:
        cn = _weighted([(s.copy_number, w) for s, w in weights if s.copy_number is not None])
    if cn is None or math.isnan(cn):
        return None
    return GeneCnCall(
        gene, chrom, start, end, th.classify(cn, ploidy), cn, l2, 1.0,
        (_span(bins),), adjusted,
    )


def _span(bins: Sequence[Segment]) -> Segment:
    return Segment(bins[0].chrom, min(b.start for b in bins), max(b.end for b in bins))
