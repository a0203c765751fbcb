"""``ConsequenceEngine.quiet_genes`` against ``ConsequenceEngine.annotate`` itself.

The claim under test: whenever ``quiet_genes`` names a set of genes, the engine's
full transcript walk reports exactly those genes and only non-coding terms
(alteration class "noncoding": UTR, intron, up/downstream). Checked at every
segment boundary of every embedded transcript (+/- a few bases, where an error
in a splice window or a flank would show) and at random positions, for SNVs,
MNVs, deletions and insertions, in both builds.
"""

from __future__ import annotations

import random

import pytest

from annotator.consequence import ConsequenceEngine
from annotator.consequence.txmap import TxMap
from annotator.core.alteration import classify
from annotator.core.models import VariantKey
from annotator.reference import FLANK, load_reference


def _ref_base(engine: ConsequenceEngine, chrom: str, pos: int, n: int) -> str:
    seq = engine.reference.sequence(chrom, pos, pos + n - 1)
    return seq.upper() if seq and "N" not in seq.upper() else "A" * n


def _keys(engine: ConsequenceEngine, chrom: str, pos: int) -> list[VariantKey]:
    ref1 = _ref_base(engine, chrom, pos, 1)
    alt1 = "C" if ref1 != "C" else "G"
    ref4 = _ref_base(engine, chrom, pos, 4)
    return [
        VariantKey(chrom, pos, ref1, alt1),  # SNV
        VariantKey(chrom, pos, ref4[:2], "".join("T" if b != "T" else "A" for b in ref4[:2])),  # MNV
        VariantKey(chrom, pos, ref4, ref4[0]),  # 3-base deletion after an anchor
        VariantKey(chrom, pos, ref4[:2], ref4[0]),  # 1-base deletion
        VariantKey(chrom, pos, ref1, ref1 + "GT"),  # insertion after pos
    ]


def _check(engine: ConsequenceEngine, key: VariantKey) -> bool:
    genes = engine.quiet_genes(key)
    if genes is None:
        return False
    tcs = engine.annotate(key)
    assert {tc.gene for tc in tcs} == set(genes), (key, genes, tcs)
    for tc in tcs:
        assert classify(tc.consequence) == "noncoding", (key, tc.consequence)
    return True


@pytest.mark.parametrize("build", ["GRCh38", "GRCh37"])
def test_quiet_answer_is_the_engines(build: str) -> None:
    engine = ConsequenceEngine(load_reference(build))
    rnd = random.Random(17)
    quiet = loud = 0
    for tx in engine.reference.transcripts.values():
        m = TxMap(tx)
        points = {tx.start - FLANK, tx.end + FLANK, tx.start, tx.end}
        for a, b in m.coding_or_splice_segments():
            for o in (a, b):
                points.add(o * m.sign)
        probe = {p + d for p in points for d in range(-4, 5)}
        probe |= {rnd.randint(tx.start - FLANK - 50, tx.end + FLANK + 50) for _ in range(150)}
        for pos in sorted(probe):
            for key in _keys(engine, tx.chrom, max(1, pos)):
                if _check(engine, key):
                    quiet += 1
                else:
                    loud += 1
    # most random positions of a gene's reach are intronic or flank: the quiet path is used
    assert quiet > loud / 4 and loud > 0, (quiet, loud)


def test_coding_splice_and_out_of_reach_are_not_quiet() -> None:
    engine = ConsequenceEngine(load_reference("GRCh38"))
    tx = engine.reference.transcripts
    assert engine.quiet_genes(VariantKey("chr3", 179234297, "A", "G")) is None  # PIK3CA H1047R
    # PTEN c.493-2 (acceptor of exon 6, MANE NM_000314.8) and c.492+5 (splice region)
    exon6, exon5 = tx["PTEN"].exons[5], tx["PTEN"].exons[4]
    assert engine.quiet_genes(VariantKey("chr10", exon6[0] - 2, "A", "G")) is None
    assert engine.quiet_genes(VariantKey("chr10", exon5[1] + 5, "G", "A")) is None
    # ... while c.492+9 is intronic only
    assert engine.quiet_genes(VariantKey("chr10", exon5[1] + 9, "G", "A")) == frozenset({"PTEN"})
    # far from every panel transcript: the engine reports nothing, so no quiet answer
    assert engine.quiet_genes(VariantKey("chr1", 1_000_000, "A", "G")) is None
    # the middle of RB1 intron 1, and an insertion there
    (_, e1), (s2, _) = tx["RB1"].exons[:2]
    mid = (e1 + s2) // 2
    assert engine.quiet_genes(VariantKey("chr13", mid, "A", "G")) == frozenset({"RB1"})
    assert engine.quiet_genes(VariantKey("chr13", mid, "A", "ATT")) == frozenset({"RB1"})
    # a deletion from the intron into exon 2 is not
    assert engine.quiet_genes(VariantKey("chr13", s2 - 12, "A" * 14, "A")) is None
