"""Chromosome naming: the only module that knows about ``chr`` prefixes.

Inside resmark every primary-assembly chromosome is named in UCSC style
(``chr1`` .. ``chr22``, ``chrX``, ``chrY``, ``chrM``).  Input files may use
UCSC (``chr1``), Ensembl/NCBI (``1``, ``MT``) or RefSeq accession
(``NC_000001.11``) names; ``canonical()`` maps all of them to one form and
``Naming`` remembers how a particular file spelled each contig so that output
(annotated VCF, region queries) uses the file's own names.

Names that are not primary chromosomes (alts, decoys, HLA, unplaced) pass
through unchanged: they are never on the panel, but they are still counted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PRIMARY: tuple[str, ...] = tuple(f"chr{i}" for i in range(1, 23)) + ("chrX", "chrY", "chrM")

# RefSeq accession versions of the primary chromosomes (NCBI assembly reports).
_REFSEQ_VERSIONS: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "GRCh37": MappingProxyType(
            dict(
                zip(
                    PRIMARY[:24],
                    (10, 11, 11, 11, 9, 11, 13, 10, 11, 10, 9, 11, 10, 8, 9, 9, 10, 9, 9, 10, 8, 10, 10, 9),
                    strict=True,
                )
            )
        ),
        "GRCh38": MappingProxyType(
            dict(
                zip(
                    PRIMARY[:24],
                    (11, 12, 12, 12, 10, 12, 14, 11, 12, 11, 10, 12, 11, 9, 10, 10, 11, 10, 10, 11, 9, 11, 11, 10),
                    strict=True,
                )
            )
        ),
    }
)
_MITO_REFSEQ = "NC_012920.1"

_REFSEQ_RE = re.compile(r"^NC_0000(\d\d)\.(\d+)$")
_PLAIN_RE = re.compile(r"^(?:chr)?(\d{1,2}|X|Y|M|MT)$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)  # a pure function called per record with a file's few names
def canonical(name: str) -> str:
    """Return the UCSC-style name for a primary chromosome, else ``name`` unchanged."""
    m = _PLAIN_RE.match(name)
    if m:
        core = m.group(1).upper()
        if core.isdigit():
            n = int(core)
            return f"chr{n}" if 1 <= n <= 22 else name
        return "chrM" if core in ("M", "MT") else f"chr{core}"
    m = _REFSEQ_RE.match(name)
    if m:
        n = int(m.group(1))
        if 1 <= n <= 22:
            return f"chr{n}"
        if n == 23:
            return "chrX"
        if n == 24:
            return "chrY"
        return name
    if name == _MITO_REFSEQ:
        return "chrM"
    return name


def is_primary(name: str) -> bool:
    return canonical(name) in PRIMARY


def refseq_build(name: str) -> str | None:
    """The build a RefSeq chromosome accession belongs to, if it names one."""
    m = _REFSEQ_RE.match(name)
    if not m:
        return None
    chrom = canonical(name)
    version = int(m.group(2))
    for build, versions in _REFSEQ_VERSIONS.items():
        if versions.get(chrom) == version:
            return build
    return None


def style_of(name: str) -> str:
    """``ucsc`` (chr1), ``ensembl`` (1) or ``refseq`` (NC_000001.11); ``other`` otherwise."""
    if _REFSEQ_RE.match(name) or name == _MITO_REFSEQ:
        return "refseq"
    if _PLAIN_RE.match(name):
        return "ucsc" if name.lower().startswith("chr") else "ensembl"
    return "other"


def to_style(chrom: str, style: str, build: str | None = None) -> str:
    """Spell canonical ``chrom`` in ``style``; RefSeq needs the build."""
    chrom = canonical(chrom)
    if chrom not in PRIMARY or style in ("ucsc", "other"):
        return chrom
    if style == "ensembl":
        return "MT" if chrom == "chrM" else chrom[3:]
    if style == "refseq":
        if chrom == "chrM":
            return _MITO_REFSEQ
        if build is None or build not in _REFSEQ_VERSIONS:
            raise ValueError(f"RefSeq chromosome names need a known build, not {build!r}")
        number = {"chrX": 23, "chrY": 24}.get(chrom) or int(chrom[3:])
        return f"NC_{number:06d}.{_REFSEQ_VERSIONS[build][chrom]}"
    raise ValueError(f"unknown chromosome naming style {style!r}")


@dataclass(frozen=True)
class Naming:
    """How one file spells its contigs: canonical name -> the file's own name."""

    native: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_contigs(cls, names: Iterable[str]) -> Naming:
        native: dict[str, str] = {}
        for n in names:
            native.setdefault(canonical(n), n)
        return cls(MappingProxyType(native))

    def in_file(self, chrom: str) -> str | None:
        """The file's name for canonical ``chrom``; None when the file lacks it."""
        return self.native.get(canonical(chrom))

    @property
    def style(self) -> str:
        styles = {style_of(n) for c, n in self.native.items() if c in PRIMARY}
        return styles.pop() if len(styles) == 1 else ("mixed" if styles else "other")
