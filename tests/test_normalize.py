"""Trimming and left-alignment (vt/bcftools norm semantics) on small sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from annotator.core.normalize import normalise, trim

# 1-based toy chromosome: position 1 is 'G'
SEQ = "GATTACACACACAGGGTTTTTC"


def fetch(chrom: str, start: int, end: int) -> str | None:
    if start < 1 or end > len(SEQ):
        return None
    return SEQ[start - 1 : end]


def test_trim_shared_suffix_and_prefix():
    assert trim(10, "CAT", "CGT") == (11, "A", "G")
    assert trim(5, "ACAC", "AC") == (5, "ACA", "A")


def test_deletion_in_repeat_moves_left():
    # 1-based 5..13 is "ACACACACA"; deleting one "CA" unit anywhere in it gives the
    # same haplotype, whose left-most representation is T(4)AC>T
    right = normalise("c", 11, "ACA", "A", fetch).key
    left = normalise("c", 5, "ACA", "A", fetch).key
    assert right == left == type(left)("c", 4, "TAC", "T")


def test_insertion_in_homopolymer_moves_left():
    # T homopolymer at 17-21; inserting T after 21 equals inserting after 16
    key = normalise("c", 21, "T", "TT", fetch).key
    assert (key.pos, key.ref, key.alt) == (16, "G", "GT")


def test_without_sequence_only_trims():
    n = normalise("c", 21, "TC", "TTC", None)
    assert (n.key.pos, n.key.ref, n.key.alt, n.left_aligned) == (21, "T", "TT", False)


def test_snv_and_mnv_unchanged():
    assert normalise("c", 3, "T", "G", fetch).key.pos == 3
    assert normalise("c", 3, "TT", "GC", fetch).key.ref == "TT"


@st.composite
def indels(draw):
    start = draw(st.integers(2, len(SEQ) - 4))
    length = draw(st.integers(1, 3))
    if draw(st.booleans()):
        ref = SEQ[start - 1 : start + length]  # deletion of `length` bases after anchor
        return start, ref, ref[0]
    ins = draw(st.text(alphabet="ACGT", min_size=1, max_size=3))
    ref = SEQ[start - 1]
    return start, ref, ref + ins


def apply(pos: int, ref: str, alt: str) -> str:
    return SEQ[: pos - 1] + alt + SEQ[pos - 1 + len(ref) :]


@given(indels())
def test_normalisation_is_idempotent_and_keeps_the_haplotype(v):
    pos, ref, alt = v
    first = normalise("c", pos, ref, alt, fetch).key
    second = normalise("c", first.pos, first.ref, first.alt, fetch).key
    assert first == second
    assert apply(first.pos, first.ref, first.alt) == apply(pos, ref, alt)
