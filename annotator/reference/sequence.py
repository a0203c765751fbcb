"""Reference bases: the embedded bgzipped region FASTA or a user's indexed FASTA."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from annotator.core import chromnames, genome
from annotator.errors import ReferenceError_
from annotator.reference.transcripts import SequenceContig

log = logging.getLogger(__name__)


class EmbeddedSequence:
    """Gene-region sequence shipped with resmark; whole contigs are cached on first use."""

    def __init__(self, fasta: Path, contigs: Iterable[SequenceContig]) -> None:
        self.path = fasta
        self._by_chrom: dict[str, list[SequenceContig]] = {}
        for c in contigs:
            self._by_chrom.setdefault(c.chrom, []).append(c)
        for lst in self._by_chrom.values():
            lst.sort(key=lambda c: c.start)
        self._starts = {k: [c.start for c in v] for k, v in self._by_chrom.items()}
        self._cache: dict[str, str] = {}
        self._fasta: Any = None

    def _contig_seq(self, contig: SequenceContig) -> str:
        seq = self._cache.get(contig.name)
        if seq is None:
            if self._fasta is None:
                import pysam

                try:
                    self._fasta = pysam.FastaFile(str(self.path))
                except (OSError, ValueError) as exc:
                    raise ReferenceError_(f"cannot open embedded FASTA: {exc}", path=self.path) from exc
            seq = str(self._fasta.fetch(contig.name)).upper()
            self._cache[contig.name] = seq
        return seq

    def covers(self, chrom: str, start: int, end: int) -> bool:
        return self._find(chrom, start, end) is not None

    def _find(self, chrom: str, start: int, end: int) -> SequenceContig | None:
        starts = self._starts.get(chrom)
        if not starts:
            return None
        i = bisect.bisect_right(starts, start) - 1
        # Contigs never nest deeply; look back a little for an enclosing one.
        for j in range(i, max(i - 3, -1), -1):
            c = self._by_chrom[chrom][j]
            if c.start <= start and end <= c.end:
                return c
        return None

    def fetch(self, chrom: str, start: int, end: int) -> str | None:
        c = self._find(chrom, start, end)
        if c is None:
            return None
        return self._contig_seq(c)[start - c.start : end - c.start + 1]


class UserFasta:
    """Any faidx-indexed (optionally bgzipped) FASTA; contigs named 1 / chr1 / NC_000001.11."""

    def __init__(self, path: str | Path, build: str) -> None:
        import pysam

        self.path = Path(path)
        try:
            self._fa = pysam.FastaFile(str(path))
        except (OSError, ValueError) as exc:
            raise ReferenceError_(
                f"cannot open FASTA (it needs a .fai index, and .gzi when bgzipped): {exc}",
                path=path,
            ) from exc
        self._names: dict[str, str] = {}
        self._lengths: dict[str, int] = {}
        for name, length in zip(self._fa.references, self._fa.lengths, strict=True):
            canon = chromnames.canonical(name)
            if canon not in self._names:
                self._names[canon] = name
                self._lengths[canon] = int(length)
        evidence = genome.infer_build(dict(zip(self._fa.references, self._fa.lengths, strict=True)), None)
        if evidence.build is not None and evidence.build != build:
            raise ReferenceError_(
                f"FASTA looks like {evidence.build} ({'; '.join(evidence.reasons)}), "
                f"but the variants are {build}",
                path=path,
            )

    def covers(self, chrom: str, start: int, end: int) -> bool:
        length = self._lengths.get(chrom)
        return length is not None and start >= 1 and end <= length

    def fetch(self, chrom: str, start: int, end: int) -> str | None:
        if not self.covers(chrom, start, end):
            return None
        return str(self._fa.fetch(self._names[chrom], start - 1, end)).upper()
