"""Reads -> fragments -> molecules: the counting units of re-genotyping.

A *fragment* is one sequenced template: both mates of a pair count once, and
mates that disagree are dropped (``discordant_pairs``).  A *molecule* is a
family of fragments that came from one original DNA molecule:

* ``MI`` tag (fgbio ``GroupReadsByUmi`` / consensus callers): the family id;
  a ``/A`` or ``/B`` suffix (fgbio's paired/duplex strategy) names the
  strand, and the family is a duplex when both strands are seen;
* ``aD`` and ``bD`` tags (fgbio ``CallDuplexConsensusReads``): a duplex
  consensus read, a duplex molecule by itself when both are > 0;
* ``UG`` tag (UMI-tools ``group``): the family id;
* ``RX`` (raw UMI) without ``MI``: UMI + fragment position (outer ends and
  orientation) is the family;
* no UMI tag and ``by_position`` requested: fragment position alone (PCR
  duplicates without duplicate flags collapse);
* otherwise each fragment is its own molecule (unit ``reads``).

A family's allele is the allele of a strict majority of its fragments (else
the family is ``discordant``).  A duplex family's two strands are called
separately; when they disagree the family is discordant, when they agree it
counts once as a duplex molecule.  Flagged duplicates never reach here
(they are skipped with the other filtered reads).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pysam import AlignedSegment

UNITS = ("reads", "position_families", "umi_families", "duplex_families")
_RANK = {u: i for i, u in enumerate(UNITS)}


class ReadTags(NamedTuple):
    """What one read says about its molecule (from ``family_of``; a tuple: made once per fragment)."""

    family: object  # hashable family id
    unit: str  # one of UNITS
    strand: str | None = None  # "A" / "B" (single strand of a duplex family), "AB" (duplex consensus)


def family_of(read: AlignedSegment, *, by_position: bool) -> ReadTags:
    """The molecule family of a pysam ``AlignedSegment``."""
    has_tag = read.has_tag
    if has_tag("MI"):
        mi = str(read.get_tag("MI"))
        if len(mi) > 2 and mi[-2] == "/" and mi[-1] in "AB":
            return ReadTags(("MI", mi[:-2]), "duplex_families", mi[-1])
        if has_tag("aD") and has_tag("bD"):
            a, b = int(read.get_tag("aD")), int(read.get_tag("bD"))
            strand = "AB" if a > 0 and b > 0 else ("A" if a > 0 else "B")
            return ReadTags(("MI", mi), "duplex_families", strand)
        return ReadTags(("MI", mi), "umi_families")
    if has_tag("aD") and has_tag("bD"):  # duplex consensus without MI: the read is the molecule
        a, b = int(read.get_tag("aD")), int(read.get_tag("bD"))
        strand = "AB" if a > 0 and b > 0 else ("A" if a > 0 else "B")
        return ReadTags(("Q", read.query_name), "duplex_families", strand)
    if has_tag("UG"):
        return ReadTags(("UG", str(read.get_tag("UG"))), "umi_families")
    if has_tag("RX"):
        return ReadTags(("RX", str(read.get_tag("RX")), position_key(read)), "umi_families")
    if by_position:
        return ReadTags(("P", position_key(read)), "position_families")
    return ReadTags(("F", read.query_name), "reads")


def position_key(read: AlignedSegment) -> tuple[object, ...]:
    """Outer coordinates and orientation of the read's fragment (same for both mates)."""
    r = read
    if r.is_paired and not r.mate_is_unmapped and r.reference_id == r.next_reference_id:
        left = min(r.reference_start, r.next_reference_start)
        r1_reverse = r.is_reverse if r.is_read1 else r.mate_is_reverse
        return (r.reference_id, left, abs(r.template_length), r1_reverse)
    five = r.reference_end if r.is_reverse else r.reference_start
    return (r.reference_id, five, r.is_reverse)


@dataclass
class FragmentTally:
    """Alleles seen per fragment and the family of each fragment, at one site."""

    by_position: bool = False
    alleles: dict[str, list[str]] = field(default_factory=dict)
    tags: dict[str, ReadTags] = field(default_factory=dict)

    def add(self, read: AlignedSegment, allele: str) -> None:
        name = str(read.query_name)
        self.alleles.setdefault(name, []).append(allele)
        if name not in self.tags:
            self.tags[name] = family_of(read, by_position=self.by_position)


@dataclass(frozen=True, slots=True)
class Tally:
    alt: int = 0
    ref: int = 0
    other: int = 0
    discordant: int = 0
    duplex_alt: int = 0
    duplex: int = 0
    unit: str = "reads"


def _count(alleles: Iterable[str]) -> tuple[int, int, int]:
    c = Counter(alleles)
    return c.get("alt", 0), c.get("ref", 0), c.get("other", 0)


def fragments(t: FragmentTally) -> tuple[dict[str, str], int]:
    """Concordant fragments (name -> allele) and the number of discordant mate pairs."""
    out: dict[str, str] = {}
    discordant = 0
    for name, alleles in t.alleles.items():
        first = alleles[0]
        if any(a != first for a in alleles[1:]):
            discordant += 1
        else:
            out[name] = first
    return out, discordant


def _majority(alleles: list[str]) -> str | None:
    if not alleles:
        return None
    first = alleles[0]
    if all(a == first for a in alleles):  # the usual family: every copy agrees
        return first
    (top, n), *rest = Counter(alleles).most_common(2)
    return top if 2 * n > len(alleles) else None


def molecules(t: FragmentTally, frags: dict[str, str]) -> Tally:
    """Collapse concordant fragments into molecule families (rules in the module docstring)."""
    unit = "reads"
    groups: dict[object, list[tuple[str, str | None]]] = {}
    for name, allele in frags.items():
        tags = t.tags[name]
        if _RANK[tags.unit] > _RANK[unit]:
            unit = tags.unit
        groups.setdefault(tags.family, []).append((allele, tags.strand))
    if unit == "reads":
        alt, ref, other = _count(frags.values())
        return Tally(alt, ref, other, 0, 0, 0, unit)
    counts = {"alt": 0, "ref": 0, "other": 0}
    discordant = duplex = duplex_alt = 0
    for members in groups.values():
        call, is_duplex = _family_allele(members)
        if call is None:
            discordant += 1
            continue
        counts[call] += 1
        if is_duplex:
            duplex += 1
            duplex_alt += call == "alt"
    return Tally(counts["alt"], counts["ref"], counts["other"], discordant, duplex_alt, duplex, unit)


def _family_allele(members: list[tuple[str, str | None]]) -> tuple[str | None, bool]:
    """(allele or None when discordant, seen as a duplex)."""
    if all(st is None for _, st in members):  # no strand information: plain majority
        return _majority([a for a, _ in members]), False
    consensus = [a for a, s in members if s == "AB"]
    strand_a = [a for a, s in members if s == "A"]
    strand_b = [a for a, s in members if s == "B"]
    if not (consensus or strand_a or strand_b):
        return _majority([a for a, _ in members]), False
    calls = [_majority(x) for x in (strand_a, strand_b) if x]
    if any(c is None for c in calls):
        return None, False
    per_strand = {c for c in calls if c is not None}
    dup = _majority(consensus) if consensus else None
    if consensus and dup is None:
        return None, False
    alleles = per_strand | ({dup} if dup else set())
    if len(alleles) != 1:
        return None, False
    allele = next(iter(alleles))
    return allele, bool(consensus) or len(calls) == 2
