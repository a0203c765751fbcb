"""Reference bases: the embedded bgzipped region FASTA or a user's indexed FASTA."""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core import chromnames, genome
from annotator.errors import ReferenceError_
from annotator.reference.transcripts import SequenceContig

if TYPE_CHECKING:
    import pysam

log = logging.getLogger(__name__)

_REGION_NAME = re.compile(r"^(.+):(\d+)-(\d+)$")


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
        self._fasta: pysam.FastaFile | None = None
        # the contig (and its bases) of the last fetch: a sorted file asks for the same one
        # again and again (two contigs that overlap hold the same bases there)
        self._last: tuple[SequenceContig, str] | None = None

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
        last = self._last
        if last is not None:
            c, seq = last
            if c.chrom == chrom and c.start <= start and end <= c.end:
                return seq[start - c.start : end - c.start + 1]
        found = self._find(chrom, start, end)
        if found is None:
            return None
        seq = self._contig_seq(found)
        self._last = (found, seq)
        return seq[start - found.start : end - found.start + 1]


class UserFasta:
    """A user's faidx-indexed (optionally bgzipped) FASTA; contigs named 1 / chr1 / NC_000001.11.

    Contigs named ``chr17:7661779-7687550`` (what ``samtools faidx genome.fa
    REGION...`` writes) hold that 1-based inclusive region, so a FASTA of
    extracted gene regions serves as well as the whole genome for those genes.
    A primary chromosome whose length differs from the build's is an error
    (the FASTA is of another assembly than the variants).
    """

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
        self._regions: dict[str, list[tuple[int, int, str]]] = {}
        expected = genome.get(build).lengths
        for line, (name, length) in enumerate(
            zip(self._fa.references, self._fa.lengths, strict=True), start=1
        ):
            m = _REGION_NAME.match(name)
            if m and chromnames.canonical(m.group(1)) in chromnames.PRIMARY:
                start, end = int(m.group(2)), int(m.group(3))
                if end - start + 1 != length:
                    raise ReferenceError_(
                        f"contig {name} holds {length} bases, not the {end - start + 1} its name says",
                        path=path, where=f"line {line} of the .fai index",
                    )
                self._regions.setdefault(chromnames.canonical(m.group(1)), []).append((start, end, name))
                continue
            canon = chromnames.canonical(name)
            want = expected.get(canon)
            if want is not None and canon != "chrM" and int(length) != want:
                raise ReferenceError_(
                    f"contig {name} is {length} bp, but {canon} of {build} (the variants' build) "
                    f"is {want} bp: this FASTA is of another assembly",
                    path=path, where=f"line {line} of the .fai index",
                )
            if canon not in self._names:
                self._names[canon] = name
                self._lengths[canon] = int(length)
        for lst in self._regions.values():
            lst.sort()
        if not (set(self._names) & set(expected)) and not self._regions:
            shown = ", ".join(list(self._fa.references)[:5])
            raise ReferenceError_(
                f"no contig matches a {build} chromosome (contigs: {shown}); "
                "name them chr1 / 1 / NC_000001.11, or chr17:START-END for extracted regions",
                path=path, where="line 1 of the .fai index",
            )

    def covers(self, chrom: str, start: int, end: int) -> bool:
        length = self._lengths.get(chrom)
        if length is not None and start >= 1 and end <= length:
            return True
        return self._region(chrom, start, end) is not None

    def _region(self, chrom: str, start: int, end: int) -> tuple[int, int, str] | None:
        lst = self._regions.get(chrom)
        if not lst:
            return None
        i = bisect.bisect_right(lst, (start, float("inf"), "")) - 1
        for j in range(i, max(i - 4, -1), -1):
            s, e, name = lst[j]
            if s <= start and end <= e:
                return lst[j]
        return None

    def fetch(self, chrom: str, start: int, end: int) -> str | None:
        length = self._lengths.get(chrom)
        if length is not None and start >= 1 and end <= length:
            return str(self._fa.fetch(self._names[chrom], start - 1, end)).upper()
        region = self._region(chrom, start, end)
        if region is None:
            return None
        s, _, name = region
        return str(self._fa.fetch(name, start - s, end - s + 1)).upper()
