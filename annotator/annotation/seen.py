"""What a sample's pass keeps per allele, bounded for dense files.

* ``SeenAlleles``: the normalised alleles met so far, to reject a second record
  with the same allele as a duplicate.  A dense panel has ~1M of them; a
  ``VariantKey`` in a dict costs ~170 bytes, so single-base substitutions of
  A/C/G/T (most of them) are kept as one 64-bit code each in a sorted array
  per chromosome: straight away when the code follows the array's last one
  (a sorted file), else through the dict, which they leave in batches once
  the reader has passed their position.  Membership stays exact: every
  lookup consults both, and a lookup below a chromosome's highest code (an
  unsorted file) searches the array.
* ``kept_unmatched``: which interpreted alterations without a rule match the
  sample still needs after the pass (the flags read copy-number losses,
  ``annotation.qc`` reads variants without model or sequence); the others
  are counted in the accounting but not held.
"""

from __future__ import annotations

import bisect
from array import array

from annotator.core.models import Alteration, VariantKey

# annotation.qc's NO_MODEL and NO_SEQUENCE (qc reads the pipeline's types: importing it here
# would close a cycle; tests/test_dense_streaming.py checks the two stay equal)
NO_MODEL = ("gene_variant",)
NO_SEQUENCE = "coding_sequence_variant"

_CODE = {"A": 0, "C": 1, "G": 2, "T": 3}
MOVE_AT = 50_000  # keys in the dict before substitutions behind the reader move to the arrays


class SeenAlleles:
    """A set of ``VariantKey`` (``add_new`` / ``in``), compact for substitutions (module docstring)."""

    def __init__(self, move_at: int = MOVE_AT) -> None:
        self.recent: set[VariantKey] = set()
        self.moved: dict[str, array[int]] = {}  # chrom -> sorted codes pos*16 + ref*4 + alt
        self.moved_max: dict[str, int] = {}
        self.move_at = move_at
        self.next_move = move_at

    def __len__(self) -> int:
        return len(self.recent) + sum(len(a) for a in self.moved.values())

    def __contains__(self, key: VariantKey) -> bool:
        return key in self.recent or self._moved_has(key)

    def _moved_has(self, key: VariantKey) -> bool:
        top = self.moved_max.get(key.chrom)
        if top is None or key.pos * 16 > top:  # a sorted file: past every moved key
            return False
        code = _code(key)
        if code is None or code > top:
            return False
        codes = self.moved[key.chrom]
        i = bisect.bisect_left(codes, code)
        return i < len(codes) and codes[i] == code

    def add_new(self, key: VariantKey, reader_chrom: str, reader_pos: int) -> bool:
        """Add ``key`` unless the set holds it already: was it new? The reader is at
        ``reader_chrom:reader_pos`` (the record's own position).

        A substitution past the chromosome's highest code (a sorted file: nearly all of
        them) is new and goes straight to the end of its array, with no hashing; any
        other key is looked up in both and, when new, added to the dict (every
        substitution in the dict has a code below that highest one)."""
        code = _code(key)
        if code is not None:
            top = self.moved_max.get(key.chrom)
            if top is None:
                self.moved[key.chrom] = array("q", (code,))
                self.moved_max[key.chrom] = code
                return True
            if code > top:
                self.moved[key.chrom].append(code)
                self.moved_max[key.chrom] = code
                return True
            if self._moved_has(key):
                return False
        recent = self.recent
        n = len(recent)
        recent.add(key)
        if len(recent) == n:
            return False
        if len(recent) >= self.next_move:
            self._move(reader_chrom, reader_pos)
        return True

    def _move(self, chrom: str, pos: int) -> None:
        """Substitutions behind the reader (other chromosomes, or before ``pos``) to the arrays."""
        batch: dict[str, list[int]] = {}
        stay: set[VariantKey] = set()
        for k in self.recent:
            code = _code(k) if k.chrom != chrom or k.pos < pos else None
            if code is None:
                stay.add(k)
            else:
                batch.setdefault(k.chrom, []).append(code)
        for c, codes in batch.items():
            codes.sort()
            have = self.moved.get(c)
            if have is None:
                self.moved[c] = array("q", codes)
            elif codes[0] > have[-1]:  # a sorted file: the batch follows what moved before
                have.extend(codes)
            else:
                self.moved[c] = array("q", sorted([*have, *codes]))
            self.moved_max[c] = self.moved[c][-1]
        self.recent = stay
        # what stays (indels, other alleles, the current position) does not trigger a move again
        self.next_move = len(stay) + self.move_at


def _code(key: VariantKey) -> int | None:
    if len(key.ref) != 1 or len(key.alt) != 1:
        return None
    r, a = _CODE.get(key.ref), _CODE.get(key.alt)
    if r is None or a is None:
        return None
    return key.pos * 16 + r * 4 + a


def kept_unmatched(alteration: Alteration) -> bool:
    """Is an alteration without a rule match still read after the pass?

    ``knowledge.matcher.compute_flags`` reads unmatched alterations only for
    copy-number losses (biallelic loss with a second hit); ``annotation.qc``
    counts variants without a transcript model or without sequence.
    """
    consequence = tuple(alteration.consequence or ())
    return (alteration.alteration_class == "loss" or consequence == NO_MODEL
            or (NO_SEQUENCE in consequence and alteration.alteration_class == "unclassified"))
