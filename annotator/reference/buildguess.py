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
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from annotator.core import chromnames
from annotator.core.genome import BUILDS

log = logging.getLogger(__name__)

MIN_CHECKED = 3
MAX_MISMATCH_RATE = 0.1
MAX_RECORDS = 500_000  # bound on the extra pass over an unindexed file

# fetch(build, chrom, start, end) -> bases or None when not embedded
Fetch = Callable[[str, str, int, int], "str | None"]


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
