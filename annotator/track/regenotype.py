"""Re-genotype tracked variants from BAM/CRAM reads with pysam.

For every tracked allele the reads at its position are taken from a pysam
pileup and each read is classified from its own alignment (CIGAR and query
sequence) as ALT, REF, OTHER or uninformative:

* reads that are unmapped, secondary, supplementary, QC-fail or duplicates
  (``SKIP_FLAGS``) or below ``min_mapping_quality`` are skipped;
* SNV/MNV: the read must align every REF base; the minimum base quality over
  them must reach ``min_base_quality``; the bases decide ALT/REF/OTHER;
* indels: every indel of the read near the site is normalised (trimmed and
  left-aligned with the reference) and compared with the tracked key, so an
  aligner that placed the indel elsewhere in a repeat still counts as ALT;
  a read is REF only if it aligns across the whole repeat the indel could
  move in (plus one base) with no indel there;
* both mates of a pair overlapping the site count once; mates that disagree
  are not counted (``discordant_pairs``).

Depth is ALT + REF + OTHER fragments; VAF is ALT / depth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from annotator.core import chromnames, genome
from annotator.core.models import VariantKey
from annotator.core.normalize import normalise
from annotator.errors import InputError, TimepointError

log = logging.getLogger(__name__)

MIN_BASE_QUALITY = 20
MIN_MAPPING_QUALITY = 20
FLAG_UNMAPPED = 0x4
FLAG_SECONDARY = 0x100
FLAG_QCFAIL = 0x200
FLAG_DUPLICATE = 0x400
FLAG_SUPPLEMENTARY = 0x800
SKIP_FLAGS = FLAG_UNMAPPED | FLAG_SECONDARY | FLAG_QCFAIL | FLAG_DUPLICATE | FLAG_SUPPLEMENTARY
INDEL_WINDOW = 60  # read indels this far from the repeat are compared with the key
REPEAT_LOOKAHEAD = 200  # reference bases fetched to find how far an indel can shift
MAX_PILEUP_DEPTH = 10_000_000

# fetch(chrom, start, end) -> plus-strand bases (1-based inclusive) or None
Fetch = Callable[[str, int, int], "str | None"]

_CIGAR_M, _CIGAR_I, _CIGAR_D, _CIGAR_N, _CIGAR_S, _CIGAR_EQ, _CIGAR_X = 0, 1, 2, 3, 4, 7, 8
_ALIGNED = (_CIGAR_M, _CIGAR_EQ, _CIGAR_X)


@dataclass(frozen=True, slots=True)
class AlleleCounts:
    alt: int
    ref: int
    other: int
    discordant_pairs: int = 0
    filtered_reads: int = 0  # skipped by flag or mapping quality
    low_quality: int = 0  # base quality below the threshold at the site

    @property
    def depth(self) -> int:
        return self.alt + self.ref + self.other

    @property
    def vaf(self) -> float | None:
        return self.alt / self.depth if self.depth else None


@dataclass(frozen=True)
class _Walk:
    """One read's alignment: aligned ref->query positions, indels (0-based ref coordinates)."""

    aligned: dict[int, int]
    deletions: tuple[tuple[int, int, int], ...]  # (ref start, length, query pos before)
    insertions: tuple[tuple[int, int, int], ...]  # (ref pos before, query start, length)
    ref_start: int
    ref_end: int  # exclusive


def _walk(read: Any) -> _Walk:
    aligned: dict[int, int] = {}
    dels: list[tuple[int, int, int]] = []
    ins: list[tuple[int, int, int]] = []
    r = read.reference_start
    q = 0
    for op, n in read.cigartuples or ():
        if op in _ALIGNED:
            for i in range(n):
                aligned[r + i] = q + i
            r += n
            q += n
        elif op == _CIGAR_I:
            ins.append((r - 1, q, n))
            q += n
        elif op == _CIGAR_D:
            dels.append((r, n, q - 1))
            r += n
        elif op == _CIGAR_N:
            r += n
        elif op == _CIGAR_S:
            q += n
    return _Walk(aligned, tuple(dels), tuple(ins), read.reference_start, r)


def repeat_end(key: VariantKey, fetch: Fetch | None) -> int:
    """Last reference base (1-based) an indel's placement can reach when shifted right."""
    if len(key.ref) == len(key.alt):
        return key.pos + len(key.ref) - 1
    if fetch is None:
        return key.pos + len(key.ref)
    start = key.pos + 1
    seq = fetch(key.chrom, start, start + REPEAT_LOOKAHEAD)
    if not seq:
        return key.pos + len(key.ref)
    unit = key.ref[1:] if len(key.ref) > len(key.alt) else key.alt[1:]
    deleted = len(key.ref) > len(key.alt)
    i = len(unit) if deleted else 0  # first base after the deleted bases (or after pos)
    shift = 0
    while i < len(seq) and seq[i] == unit[shift % len(unit)]:
        i += 1
        shift += 1
    return start + i - 1


class ReadGenotyper:
    """An open BAM/CRAM; ``count(key)`` re-genotypes one allele.  Use as a context manager."""

    def __init__(
        self,
        path: str | Path,
        *,
        build: str | None,
        fetch: Fetch | None,
        fasta: str | Path | None = None,
        min_base_quality: int = MIN_BASE_QUALITY,
        min_mapping_quality: int = MIN_MAPPING_QUALITY,
    ) -> None:
        import pysam

        self.path = Path(path)
        if not self.path.exists():
            raise InputError("BAM/CRAM file not found", path=self.path)
        kwargs: dict[str, Any] = {}
        if fasta is not None:
            kwargs["reference_filename"] = str(fasta)
        try:
            self._bam = pysam.AlignmentFile(str(self.path), "rc" if self._is_cram() else "rb", **kwargs)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot open as BAM/CRAM ({' '.join(str(e).split())})", path=self.path) from e
        if not self._bam.has_index():
            self._bam.close()
            raise InputError("BAM/CRAM has no index (.bai/.crai/.csi); run samtools index", path=self.path)
        self.fetch = fetch
        self.min_bq = min_base_quality
        self.min_mapq = min_mapping_quality
        self.native = {chromnames.canonical(n): n for n in self._bam.references}
        self._check_build(build)

    def _is_cram(self) -> bool:
        return self.path.suffix.lower() == ".cram"

    def _check_build(self, build: str | None) -> None:
        lengths = dict(zip(self._bam.references, self._bam.lengths, strict=True))
        evidence = genome.infer_build(lengths, None)
        if build is not None and evidence.build is not None and evidence.build != build:
            raise TimepointError(
                f"reads are aligned to {evidence.build} ({'; '.join(evidence.reasons)}) "
                f"but the timepoint's variants are {build}",
                path=self.path,
            )

    def __enter__(self) -> ReadGenotyper:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._bam.close()

    # ------------------------------------------------------------------ counting
    def count(self, key: VariantKey) -> AlleleCounts:
        native = self.native.get(chromnames.canonical(key.chrom))
        if native is None:
            return AlleleCounts(0, 0, 0)
        span_end = repeat_end(key, self.fetch)
        per_fragment: dict[str, list[str]] = {}
        filtered = low_q = 0
        columns = self._bam.pileup(
            native, key.pos - 1, key.pos, truncate=True, stepper="nofilter",
            ignore_overlaps=False, ignore_orphans=False, min_base_quality=0,
            min_mapping_quality=0, max_depth=MAX_PILEUP_DEPTH,
        )
        for column in columns:
            if column.reference_pos != key.pos - 1:
                continue
            for pr in column.pileups:
                read = pr.alignment
                if read.flag & SKIP_FLAGS or read.mapping_quality < self.min_mapq:
                    filtered += 1
                    continue
                allele = self._classify(read, key, span_end)
                if allele is None:
                    continue
                if allele == "lowq":
                    low_q += 1
                    continue
                per_fragment.setdefault(str(read.query_name), []).append(allele)
        alt = ref = other = discordant = 0
        for alleles in per_fragment.values():
            if len(set(alleles)) > 1:
                discordant += 1
                continue
            a = alleles[0]
            if a == "alt":
                alt += 1
            elif a == "ref":
                ref += 1
            else:
                other += 1
        return AlleleCounts(alt, ref, other, discordant, filtered, low_q)

    def _classify(self, read: Any, key: VariantKey, span_end: int) -> str | None:
        seq = read.query_sequence
        quals = read.query_qualities
        if seq is None:
            return None
        w = _walk(read)
        if len(key.ref) == len(key.alt):
            return self._classify_substitution(w, seq, quals, key)
        return self._classify_indel(w, seq, quals, key, span_end)

    def _qual_ok(self, quals: Any, positions: list[int]) -> bool:
        if quals is None:
            return True  # no qualities stored ('*'): nothing to filter on
        return all(quals[q] >= self.min_bq for q in positions)

    def _classify_substitution(self, w: _Walk, seq: str, quals: Any, key: VariantKey) -> str | None:
        qpos = []
        for i in range(len(key.ref)):
            q = w.aligned.get(key.pos - 1 + i)
            if q is None:
                # deleted or not covered: a deletion over the site is another allele
                covered = w.ref_start <= key.pos - 1 + i < w.ref_end
                return "other" if covered and i == 0 else None
            qpos.append(q)
        if not self._qual_ok(quals, qpos):
            return "lowq"
        bases = "".join(seq[q] for q in qpos).upper()
        if bases == key.alt:
            return "alt"
        if bases == key.ref:
            return "ref"
        return "other"

    def _classify_indel(
        self, w: _Walk, seq: str, quals: Any, key: VariantKey, span_end: int
    ) -> str | None:
        lo = key.pos - 1 - INDEL_WINDOW  # 0-based bounds of the indels worth comparing
        hi = span_end + INDEL_WINDOW
        other_in_repeat = False
        for rstart, length, qbefore in w.deletions:
            if not lo <= rstart <= hi:
                continue
            if self._deletion_matches(key, rstart, length):
                qpos = [q for q in (qbefore, qbefore + 1) if 0 <= q < len(seq)]
                return "alt" if self._qual_ok(quals, qpos) else "lowq"
            if key.pos - 1 <= rstart <= span_end:
                other_in_repeat = True
        for rbefore, qstart, length in w.insertions:
            if not lo <= rbefore <= hi:
                continue
            inserted = seq[qstart : qstart + length].upper()
            if self._insertion_matches(key, rbefore, inserted, seq, qstart):
                qpos = list(range(qstart, qstart + length))
                return "alt" if self._qual_ok(quals, qpos) else "lowq"
            if key.pos - 1 <= rbefore <= span_end:
                other_in_repeat = True
        # REF (or another allele) only if the read spans the whole repeat plus one base
        first, last = key.pos - 1, span_end  # 0-based: padding base .. one past the repeat
        if not (first in w.aligned and last in w.aligned and w.ref_start <= first and last < w.ref_end):
            return None
        if other_in_repeat:
            return "other"
        if not self._qual_ok(quals, [w.aligned[first]]):
            return "lowq"
        return "ref"

    def _deletion_matches(self, key: VariantKey, rstart: int, length: int) -> bool:
        if len(key.ref) - len(key.alt) != length or len(key.alt) != 1:
            return False
        pos = rstart  # 1-based position of the base before the deletion
        if pos == key.pos:
            return True
        if self.fetch is None:
            return False
        ref = self.fetch(key.chrom, pos, pos + length)
        if not ref:
            return False
        return normalise(key.chrom, pos, ref, ref[0], self.fetch).key == key

    def _insertion_matches(
        self, key: VariantKey, rbefore: int, inserted: str, seq: str, qstart: int
    ) -> bool:
        if len(key.alt) - len(key.ref) != len(inserted) or len(key.ref) != 1:
            return False
        pos = rbefore + 1  # 1-based base before the insertion
        if pos == key.pos and key.alt[1:] == inserted:
            return True
        if self.fetch is None:
            return False
        base = self.fetch(key.chrom, pos, pos)
        if not base:
            return False
        return normalise(key.chrom, pos, base, base + inserted, self.fetch).key == key
