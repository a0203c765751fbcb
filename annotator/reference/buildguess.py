"""Infer the genome build from REF alleles when the header says nothing.

Many real VCFs carry no ``##contig`` lengths or ``##reference`` line.  The
REF allele of a record is a sample of the genome it was called against: where
a record falls inside the sequence resmark embeds for a build, its REF either
matches that build or not.  A build is accepted when at least
``MIN_CHECKED`` REF alleles could be checked against it and at most
``MAX_MISMATCH_RATE`` of them disagree, and the other build does not also
fit.  Otherwise the caller is asked for ``--build``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from annotator.core import chromnames
from annotator.core.genome import BUILDS, named_builds

log = logging.getLogger(__name__)

MIN_CHECKED = 3
MAX_MISMATCH_RATE = 0.1
MAX_RECORDS = 500_000  # bound on the extra pass over an unindexed file

# fetch(build, chrom, start, end) -> bases or None when not embedded
Fetch = Callable[[str, str, int, int], "str | None"]


class Allele(Protocol):
    """A record's position and REF as written (an ``InputRecord`` is one)."""

    @property
    def chrom(self) -> str: ...
    @property
    def pos(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def alts(self) -> tuple[str, ...]: ...


_BASES = frozenset("ACGTN")


@dataclass(frozen=True)
class BuildGuess:
    build: str | None
    checked: dict[str, int]
    mismatched: dict[str, int]

    def explain(self) -> str:
        parts = [
            f"{b}: {self.checked[b] - self.mismatched[b]}/{self.checked[b]} REF alleles match"
            for b in BUILDS
        ]
        return "; ".join(parts)


def guess_build(records: Iterable[tuple[str, int, str]], fetch: Fetch) -> BuildGuess:
    """``records`` yields (chrom, pos, ref) as written in the file."""
    checked = dict.fromkeys(BUILDS, 0)
    mismatched = dict.fromkeys(BUILDS, 0)
    for n, (chrom, pos, ref) in enumerate(records):
        if n >= MAX_RECORDS:
            break
        ref = ref.upper()
        if not ref or set(ref) - set("ACGT"):
            continue
        canon = chromnames.canonical(chrom)
        for build in BUILDS:
            seq = fetch(build, canon, pos, pos + len(ref) - 1)
            if seq is None or len(seq) != len(ref):
                continue
            checked[build] += 1
            if seq.upper() != ref:
                mismatched[build] += 1
    fits = [
        b for b in BUILDS
        if checked[b] >= MIN_CHECKED and mismatched[b] <= MAX_MISMATCH_RATE * checked[b]
    ]
    result = BuildGuess(fits[0] if len(fits) == 1 else None, checked, mismatched)
    log.info("build from REF alleles: %s -> %s", result.explain(), result.build)
    return result


class Evidence:
    """REF alleles seen while reading, for the build check (bounded, duplicates once)."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self.limit = limit
        self._seen: dict[tuple[str, int, str], None] = {}

    def add(self, rec: Allele) -> None:
        # only records with a sequence ALT: the REF of a symbolic or breakend record is
        # often a placeholder (N, or any base) rather than the genome's base
        if len(self._seen) < self.limit and any(set(a.upper()) <= _BASES for a in rec.alts if a):
            self._seen.setdefault((rec.chrom, rec.pos, rec.ref), None)

    def alleles(self) -> list[tuple[str, int, str]]:
        return list(self._seen)

    def consistent_with(self, build: str, fetch: Fetch) -> bool:
        """Enough REF alleles checked against ``build`` and few disagree: nothing to look into."""
        checked = mismatched = 0
        for chrom, pos, ref in self._seen:
            ref = ref.upper()
            if not ref or set(ref) - set("ACGT"):
                continue
            seq = fetch(build, chromnames.canonical(chrom), pos, pos + len(ref) - 1)
            if seq is None or len(seq) != len(ref):
                continue
            checked += 1
            mismatched += seq.upper() != ref
        return checked >= MIN_CHECKED and mismatched <= MAX_MISMATCH_RATE * checked


CONTRADICTED_RATE = 0.5  # most checked REF alleles disagree with the stated build


def contradiction(guess: BuildGuess, stated: str) -> str | None:
    """``decisive`` when the alleles fit the other build and most disagree with ``stated``;
    ``suspect`` when many disagree; None otherwise."""
    checked, bad = guess.checked.get(stated, 0), guess.mismatched.get(stated, 0)
    other = guess.checked.get(guess.build, 0) if guess.build is not None else 0
    if guess.build is not None and guess.build != stated and (
        bad >= CONTRADICTED_RATE * checked if checked >= MIN_CHECKED else other >= 2 * MIN_CHECKED
    ):
        return "decisive"
    if checked >= MIN_CHECKED and bad > MAX_MISMATCH_RATE * checked:
        return "suspect"
    return None


# liftOver chain names say "hg19Tohg38": the target is after "To"
_CHAIN_TARGET = re.compile(r"(?i)to(hg19|hg38|grch37|grch38)\b")


def _named_build(text: str) -> str | None:
    found = named_builds(text)
    return next(iter(found)) if len(found) == 1 else None


def fallback_build(
    guess: BuildGuess, in_regions: dict[str, int], file_name: str, header_lines: Sequence[str]
) -> tuple[str | None, str]:
    """The build when the alleles alone fall short of ``MIN_CHECKED``; (None, "") if still open.

    In order, each only when unambiguous: (1) weak allele evidence: one build
    has no mismatch and at least two matching REF alleles while no allele
    matches the other (or one, while every allele checked against the other mismatches); (2) a liftOver chain's target named in the header;
    (3) one build named in the header's tool lines (``##SnpEffCmd=... hg19``);
    (4) a build named in the file name (``T001.grch38.vcf.gz``, ``x_hg19.vcf``);
    (5) records fall in panel-gene regions of one build only (under the other
    the file would annotate nothing).  The caller logs the reason as a warning.
    """
    ok = {b: guess.checked[b] - guess.mismatched[b] for b in BUILDS}
    # two matches against none, or one match where the other build's alleles all mismatch
    weak = [b for b in BUILDS if ok[b] >= 1 and guess.mismatched[b] == 0
            and all(ok[o] == 0 and (ok[b] >= 2 or guess.mismatched[o] >= 1)
                    for o in BUILDS if o != b)]
    if len(weak) == 1:
        return weak[0], f"REF alleles, weakly ({guess.explain()})"
    for line in header_lines:
        if line.lower().startswith("##liftoverchainfile") and (m := _CHAIN_TARGET.search(line)):
            target = _named_build(m.group(1))
            if target is not None:
                return target, f"liftOver target in the header ({m.group(1)})"
    meta = [ln for ln in header_lines if ln.startswith("##")
            and not ln.startswith(("##INFO", "##FORMAT", "##FILTER", "##ALT", "##contig"))]
    in_header = {b for ln in meta if (b := _named_build(ln)) is not None}
    if len(in_header) == 1:
        only = in_header.pop()
        return only, f"a build named in the header's tool lines ({only})"
    named = _named_build(file_name)
    if named is not None:
        return named, f"the file name ({file_name})"
    touched = [b for b in BUILDS if in_regions.get(b, 0) > 0]
    if len(touched) == 1:
        return touched[0], (f"records fall in panel-gene regions of {touched[0]} only "
                            f"({in_regions[touched[0]]} records)")
    return None, ""
