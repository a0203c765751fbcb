"""Genome builds: contig lengths and build detection from a VCF header."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from annotator.core import chromnames
from annotator.errors import InputError, UsageError

BUILDS = ("GRCh37", "GRCh38")


@dataclass(frozen=True)
class GenomeBuild:
    name: str
    ucsc_name: str
    lengths: Mapping[str, int]


def _lengths(values: tuple[int, ...]) -> Mapping[str, int]:
    return MappingProxyType(dict(zip(chromnames.PRIMARY, values, strict=True)))


GRCH37 = GenomeBuild(
    "GRCh37",
    "hg19",
    _lengths(
        (249250621, 243199373, 198022430, 191154276, 180915260, 171115067, 159138663,
         146364022, 141213431, 135534747, 135006516, 133851895, 115169878, 107349540,
         102531392, 90354753, 81195210, 78077248, 59128983, 63025520, 48129895,
         51304566, 155270560, 59373566, 16569)
    ),
)
GRCH38 = GenomeBuild(
    "GRCh38",
    "hg38",
    _lengths(
        (248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973,
         145138636, 138394717, 133797422, 135086622, 133275309, 114364328, 107043718,
         101991189, 90338345, 83257441, 80373285, 58617616, 64444167, 46709983,
         50818468, 156040895, 57227415, 16569)
    ),
)
_BY_NAME = MappingProxyType({"GRCh37": GRCH37, "GRCh38": GRCH38})

_ALIASES = (
    ("GRCh38", re.compile(r"grch38|hg38|hs38|b38|gca_000001405\.15|gca_000001405\.2[0-9]", re.I)),
    ("GRCh37", re.compile(r"grch37|hg19|hs37|b37|human_g1k_v37|gca_000001405\.1[0-4]\b", re.I)),
)


# the same aliases as whole words, for free text (file names, tool command lines)
_NAMED = tuple(
    (build, re.compile(r"(?<![a-z0-9])(?:" + p.pattern + r")(?![0-9])", re.I))
    for build, p in _ALIASES
)


def named_builds(text: str) -> frozenset[str]:
    """Builds that ``text`` names as a word (``T001.grch38.vcf.gz``, ``SnpEff hg19``)."""
    return frozenset(build for build, pattern in _NAMED if pattern.search(text))


def get(name: str) -> GenomeBuild:
    """Look up a build by name or alias (``hg38``, ``GRCh38`` ...)."""
    for build, pattern in _ALIASES:
        if pattern.search(name):
            return _BY_NAME[build]
    raise UsageError(f"unknown genome build {name!r}; use one of {', '.join(BUILDS)}")


@dataclass(frozen=True)
class BuildEvidence:
    build: str | None
    reasons: tuple[str, ...]


def infer_build(
    contig_lengths: Mapping[str, int | None], reference_line: str | None, extra: Iterable[str] = ()
) -> BuildEvidence:
    """Infer the build from ``##contig`` lengths, RefSeq names and ``##reference``.

    Contig lengths are the strongest evidence; a disagreement between sources
    is reported by returning ``build=None`` with all reasons.
    """
    votes: dict[str, list[str]] = {}
    for name, length in contig_lengths.items():
        refseq = chromnames.refseq_build(name)
        if refseq:
            votes.setdefault(refseq, []).append(f"contig {name} is a {refseq} accession")
            continue
        chrom = chromnames.canonical(name)
        if length is None or chrom not in chromnames.PRIMARY or chrom == "chrM":
            continue
        for b in _BY_NAME.values():
            if b.lengths[chrom] == length:
                votes.setdefault(b.name, []).append(f"##contig {name} length {length}")
    texts = [t for t in (reference_line, *extra) if t]
    for text in texts:
        for build, pattern in _ALIASES:
            if pattern.search(text):
                votes.setdefault(build, []).append(f"header names {text.strip()[:80]!r}")
                break
    if len(votes) == 1:
        (build, why), = votes.items()
        return BuildEvidence(build, tuple(why[:3]))
    reasons = tuple(r for why in votes.values() for r in why[:2])
    return BuildEvidence(None, reasons)


def resolve_build(requested: str, evidence: BuildEvidence, path: str) -> GenomeBuild:
    """Combine ``--build`` with header evidence; a conflict is an error."""
    if requested.lower() == "auto":
        if evidence.build is None:
            if evidence.reasons:
                raise InputError(
                    "header evidence for the genome build conflicts ("
                    + "; ".join(evidence.reasons)
                    + "); pass --build GRCh37 or --build GRCh38",
                    path=path,
                )
            raise InputError(
                "cannot tell the genome build from the header (no ##contig lengths or "
                "##reference); pass --build GRCh37 or --build GRCh38",
                path=path,
            )
        return _BY_NAME[evidence.build]
    build = get(requested)
    if evidence.build is not None and evidence.build != build.name:
        raise InputError(
            f"--build {build.name} conflicts with the header, which says {evidence.build} ("
            + "; ".join(evidence.reasons)
            + ")",
            path=path,
        )
    return build
