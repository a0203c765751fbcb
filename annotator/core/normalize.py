"""Allele normalisation: split, trim, left-align, so one variant has one key.

Follows the ``vt normalize`` / ``bcftools norm`` algorithm (Tan et al. 2015):
trim shared suffix, then shared prefix (keeping one padding base for indels),
and shift indels left while the last bases of REF and ALT agree, extending
with reference sequence on the left when an allele runs out.  Without
reference sequence only trimming is done; the result is still a valid VCF
allele and is marked as not left-aligned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from annotator.core.models import VariantKey

# fetch(chrom, start, end) -> plus-strand bases (1-based inclusive) or None
SequenceFetcher = Callable[[str, int, int], "str | None"]

_BASES = frozenset("ACGTN")
MAX_SHIFT = 10_000  # bound on left-shifting through long repeats


class Normalised(NamedTuple):
    """``normalise``'s answer (a named tuple: one per allele of a dense file, cheap to make)."""

    key: VariantKey
    left_aligned: bool  # False when reference sequence was not available


def is_simple_allele(allele: str) -> bool:
    if len(allele) == 1:  # most alleles: a frozenset lookup, no set built
        return allele in _BASES
    return bool(allele) and set(allele) <= _BASES


def trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Remove shared suffix then shared prefix, keeping alleles non-empty."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def normalise(
    chrom: str, pos: int, ref: str, alt: str, fetch: SequenceFetcher | None
) -> Normalised:
    """Trim and left-align one biallelic REF/ALT pair (uppercase, ACGTN only)."""
    ref, alt = ref.upper(), alt.upper()
    if len(ref) == 1 == len(alt):  # a substitution of one base: nothing to trim or shift
        return Normalised(VariantKey(chrom, pos, ref, alt), True)
    pos, ref, alt = trim(pos, ref, alt)
    if len(ref) == len(alt):
        return Normalised(VariantKey(chrom, pos, ref, alt), True)
    if fetch is None:
        return Normalised(VariantKey(chrom, pos, ref, alt), False)
    shifted = _left_align(chrom, pos, ref, alt, fetch)
    if shifted is None:
        return Normalised(VariantKey(chrom, pos, ref, alt), False)
    return Normalised(VariantKey(chrom, *shifted), True)


def _left_align(
    chrom: str, pos: int, ref: str, alt: str, fetch: SequenceFetcher
) -> tuple[int, str, str] | None:
    steps = 0
    while True:
        if ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
            steps += 1
            if steps > MAX_SHIFT:
                return None
        if not ref or not alt:
            if pos <= 1:
                return None
            base = fetch(chrom, pos - 1, pos - 1)
            if not base:
                return None
            ref, alt, pos = base.upper() + ref, base.upper() + alt, pos - 1
            continue
        if ref[-1] != alt[-1]:
            break
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt
