"""Where the built-in engine can only say "UTR, intron, up- or downstream".

A panel-dense file (a deep ctDNA panel, a gVCF-like call set) has most of its
records in introns, UTRs and gene flanks, where no rule of the panel's can
match. ``QuietMap`` cuts each chromosome into segments by the transcripts'
reach (transcript +/- ``FLANK``), their coding bases and their splice windows
(``TxMap.coding_or_splice_segments``). A variant whose bases lie inside one
segment that no transcript codes or splices there gets, from every transcript
that reaches it, only the non-coding terms (``intron_variant``,
``5_prime_UTR_variant``, ``3_prime_UTR_variant``, ``upstream_gene_variant``,
``downstream_gene_variant``): its answer is the segment's set of genes, read
with one bisection instead of a transcript walk. A variant that crosses a
segment boundary gets None and the caller asks the engine.

``tests/test_consequence_quiet.py`` checks the claim against
``ConsequenceEngine.annotate`` at every segment boundary and at random
positions of every embedded transcript.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from annotator.consequence.txmap import TxMap
from annotator.reference import FLANK


@dataclass(frozen=True)
class QuietSegments:
    """One chromosome: sorted, disjoint genomic segments and what each one is."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    # genes whose transcripts reach the segment, all of them non-coding there; None: a
    # transcript codes or splices there (or nothing reaches it, or the engine must decide)
    genes: tuple[frozenset[str] | None, ...]

    def at(self, lo: int, hi: int) -> frozenset[str] | None:
        i = bisect.bisect_right(self.starts, lo) - 1
        if i < 0 or hi > self.ends[i]:
            return None
        return self.genes[i]


def build_segments(maps: Iterable[TxMap]) -> QuietSegments:
    """Segments of one chromosome's transcripts (``maps``: all on that chromosome)."""
    spans: list[tuple[str, tuple[int, int], list[tuple[int, int]]]] = []
    cuts: set[int] = set()
    for m in maps:
        reach = _genomic(m, m.tx_start - FLANK, m.tx_end + FLANK)
        loud = [_genomic(m, a, b) for a, b in m.coding_or_splice_segments()]
        spans.append((m.tx.gene, reach, loud))
        for a, b in (reach, *loud):
            cuts.add(a)
            cuts.add(b + 1)
    points = sorted(cuts)
    starts: list[int] = []
    ends: list[int] = []
    genes: list[frozenset[str] | None] = []
    for a, nxt in zip(points, points[1:], strict=False):
        b = nxt - 1
        state = _state(spans, a)  # constant on [a, b]: no cut inside it
        if genes and genes[-1] == state and ends[-1] == a - 1:
            ends[-1] = b  # merge with the previous segment of the same state
            continue
        starts.append(a)
        ends.append(b)
        genes.append(state)
    return QuietSegments(tuple(starts), tuple(ends), tuple(genes))


def _state(spans: list[tuple[str, tuple[int, int], list[tuple[int, int]]]], g: int) -> frozenset[str] | None:
    found: set[str] = set()
    for gene, (ra, rb), loud in spans:
        if not ra <= g <= rb:
            continue
        if any(a <= g <= b for a, b in loud):
            return None
        found.add(gene)
    return frozenset(found) if found else None


def _genomic(m: TxMap, a: int, b: int) -> tuple[int, int]:
    """Oriented (a, b) of ``m`` as a genomic (start, end)."""
    return (a, b) if m.sign == 1 else (-b, -a)
