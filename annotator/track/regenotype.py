"""Re-genotype tracked variants from BAM/CRAM reads with pysam's pileup columns.

For every tracked allele the pileup columns at (and, for indels, across the
repeat around) its position are read; each read is classified from what the
column says about it (aligned base and query position, deletion, the indel
that follows the base) as ALT, REF, OTHER or uninformative, without walking
the read's CIGAR in Python:

* reads that are unmapped, secondary, supplementary, QC-fail or duplicates
  (``SKIP_FLAGS``) or below ``min_mapping_quality`` are skipped;
* SNV/MNV: the read must align every REF base; the minimum base quality over
  them must reach ``min_base_quality``; the bases decide ALT/REF/OTHER; a
  deletion over the (first) base is OTHER;
* indels: every indel the read carries at a column of the repeat the indel
  could move in is normalised (trimmed and left-aligned with the reference)
  and compared with the tracked key, so an aligner that placed the indel
  elsewhere in a repeat still counts as ALT; a read is REF only if it aligns
  across the whole repeat (plus one base) with no indel there;
* both mates of a pair overlapping the site count once; mates that disagree
  are not counted (``discordant_pairs``);
* fragments are then grouped into molecules (UMI families, duplex families,
  position families when asked): ``annotator.track.molecules``.

Depth is ALT + REF + OTHER fragments; VAF is ALT / depth.  The molecule
counts (``alt_molecules`` ...) use the unit named in ``unit``.

These are the counts ``samtools mpileup`` / ``bcftools mpileup -a AD`` give
on the same reads with the same filters (``bench/bench_track.py`` compares
them and times both).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypedDict

from annotator.core import chromnames, genome
from annotator.core.models import VariantKey
from annotator.core.normalize import normalise
from annotator.errors import InputError, TimepointError
from annotator.io.htslog import silenced
from annotator.track.molecules import FragmentTally, fragments, molecules

if TYPE_CHECKING:
    from pysam import AlignedSegment, AlignmentFile, PileupColumn
    from typing_extensions import Unpack

log = logging.getLogger(__name__)

MIN_BASE_QUALITY = 20
MIN_MAPPING_QUALITY = 20
FLAG_UNMAPPED = 0x4
FLAG_SECONDARY = 0x100
FLAG_QCFAIL = 0x200
FLAG_DUPLICATE = 0x400
FLAG_SUPPLEMENTARY = 0x800
SKIP_FLAGS = FLAG_UNMAPPED | FLAG_SECONDARY | FLAG_QCFAIL | FLAG_DUPLICATE | FLAG_SUPPLEMENTARY
REPEAT_LOOKAHEAD = 200  # reference bases fetched to find how far an indel can shift
MAX_PILEUP_DEPTH = 10_000_000

# fetch(chrom, start, end) -> plus-strand bases (1-based inclusive) or None
Fetch = Callable[[str, int, int], "str | None"]


class _ReadCounts(TypedDict, total=False):  # the AlleleCounts fields from_reads passes through
    discordant_pairs: int
    filtered_reads: int
    low_quality: int
    discordant_molecules: int
    duplex_molecules: int
    duplex_alt_molecules: int
    duplicate_reads: int
    unit: str


@dataclass(frozen=True, slots=True)
class AlleleCounts:
    """Counts of one allele at one timepoint.

    ``alt``/``ref``/``other`` are fragments (read pairs counted once).  The
    ``*_molecules`` fields count the same evidence in ``unit``: ``reads``
    (no molecule information: molecules = fragments), ``position_families``
    (fragments with the same outer coordinates collapsed, on request),
    ``umi_families`` (``MI``/``UG`` tags, or ``RX`` + position),
    ``duplex_families`` (fgbio ``/A`` ``/B`` strands or ``aD``/``bD`` duplex
    consensus reads).  ``duplex_molecules``/``duplex_alt_molecules``: the
    families seen on both strands (all alleles / ALT).
    """

    alt: int
    ref: int
    other: int
    discordant_pairs: int = 0
    filtered_reads: int = 0  # skipped by flag or mapping quality
    low_quality: int = 0  # base quality below the threshold at the site
    alt_molecules: int = 0
    ref_molecules: int = 0
    other_molecules: int = 0
    discordant_molecules: int = 0  # families without a majority allele (or strands disagreeing)
    duplex_molecules: int = 0
    duplex_alt_molecules: int = 0
    duplicate_reads: int = 0  # flagged duplicates among filtered_reads
    unit: str = "reads"

    @classmethod
    def from_reads(cls, alt: int, ref: int, other: int, **kw: Unpack[_ReadCounts]) -> AlleleCounts:
        """Counts without molecule information (molecules = fragments)."""
        return cls(alt, ref, other, alt_molecules=alt, ref_molecules=ref, other_molecules=other, **kw)

    @property
    def depth(self) -> int:
        return self.alt + self.ref + self.other

    @property
    def vaf(self) -> float | None:
        return self.alt / self.depth if self.depth else None

    @property
    def molecule_depth(self) -> int:
        return self.alt_molecules + self.ref_molecules + self.other_molecules

    @property
    def molecule_vaf(self) -> float | None:
        d = self.molecule_depth
        return self.alt_molecules / d if d else None


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
    """An open BAM/CRAM; ``count(key)`` re-genotypes one allele.  Use as a context manager.

    Opening checks what would otherwise give silent "no coverage": the index
    must load and agree with the file (the first read is found through it),
    and at least one contig must be a chromosome of the build.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        build: str | None,
        fetch: Fetch | None,
        fasta: str | Path | None = None,
        min_base_quality: int = MIN_BASE_QUALITY,
        min_mapping_quality: int = MIN_MAPPING_QUALITY,
        by_position: bool = False,
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError("BAM/CRAM file not found", path=self.path)
        self._bam = self._open(fasta)
        try:
            self._check_index()
            self.native = {chromnames.canonical(n): n for n in self._bam.references}
            self._check_contigs()
            self._check_build(build)
        except BaseException:
            self.close()
            raise
        self.fetch = fetch
        self.min_bq = min_base_quality
        self.min_mapq = min_mapping_quality
        self.by_position = by_position

    def _is_cram(self) -> bool:
        return self.path.suffix.lower() == ".cram"

    def _open(self, fasta: str | Path | None) -> AlignmentFile:
        import pysam

        reference = str(fasta) if fasta is not None else None  # None: pysam's default
        try:
            with silenced():
                return pysam.AlignmentFile(str(self.path), "rc" if self._is_cram() else "rb",
                                           reference_filename=reference)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot open as BAM/CRAM ({_one_line(e)})", path=self.path) from e

    def _index_files(self) -> list[Path]:
        suffixes = (".crai",) if self._is_cram() else (".bai", ".csi")
        found = [Path(f"{self.path}{s}") for s in suffixes] + [self.path.with_suffix(s) for s in suffixes]
        return [f for f in found if f.exists()]

    def _check_index(self) -> None:
        if not self._bam.has_index():
            files = self._index_files()
            if files:
                raise InputError(
                    f"index {files[0].name} cannot be read (corrupt or not an index of this file); "
                    "re-create it with samtools index", path=self.path,
                )
            raise InputError("BAM/CRAM has no index (.bai/.crai/.csi); run samtools index", path=self.path)
        # a stale or foreign index loads fine and then finds nothing: the first mapped read
        # of the file must be found through the index at its own position
        try:
            with silenced():
                first = next((r for r in self._bam.head(1000) if not r.is_unmapped), None)
                if first is None:
                    return
                name = first.reference_name
                assert name is not None
                hits = self._bam.fetch(name, first.reference_start, first.reference_start + 1)
                found = any(r.query_name == first.query_name for r in islice(hits, 100_000))
        except (OSError, ValueError, StopIteration) as e:
            raise InputError(
                f"index does not match the file ({_one_line(e)}); re-create it with samtools index",
                path=self.path,
            ) from e
        if not found:
            raise InputError(
                "index does not match the file (the first read is not found through it); "
                "re-create it with samtools index", path=self.path,
            )

    def _check_contigs(self) -> None:
        if not any(chromnames.is_primary(n) for n in self._bam.references):
            shown = ", ".join(list(self._bam.references)[:5]) or "none"
            raise InputError(
                f"no contig of the BAM/CRAM is a human chromosome (contigs: {shown}"
                f"{', ...' if self._bam.nreferences > 5 else ''})", path=self.path,
            )

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
        try:
            with silenced():
                self._bam.close()
        except OSError as e:  # htslib reports an earlier read error again on close
            log.debug("closing %s: %s", self.path, e)

    # ------------------------------------------------------------------ counting
    def count(self, key: VariantKey) -> AlleleCounts:
        native = self.native.get(chromnames.canonical(key.chrom))
        if native is None:
            return AlleleCounts.from_reads(0, 0, 0)
        tally = FragmentTally(by_position=self.by_position)
        try:
            with silenced():
                if len(key.ref) == len(key.alt):
                    filtered, dups, low_q = self._substitution(native, key, tally)
                else:
                    filtered, dups, low_q = self._indel(native, key, repeat_end(key, self.fetch), tally)
        except (OSError, ValueError) as e:
            raise InputError(
                f"cannot read {key.chrom}:{key.pos} ({_one_line(e)})", path=self.path
            ) from e
        frags, discordant = fragments(tally)
        alt = ref = other = 0
        for a in frags.values():
            if a == "alt":
                alt += 1
            elif a == "ref":
                ref += 1
            else:
                other += 1
        m = molecules(tally, frags)
        return AlleleCounts(
            alt, ref, other, discordant, filtered, low_q,
            alt_molecules=m.alt, ref_molecules=m.ref, other_molecules=m.other,
            discordant_molecules=m.discordant, duplex_molecules=m.duplex,
            duplex_alt_molecules=m.duplex_alt, duplicate_reads=dups, unit=m.unit,
        )

    def _columns(self, native: str, start0: int, end0: int) -> Iterator[PileupColumn]:
        """Pileup columns start0..end0 (0-based, inclusive), every read (we filter ourselves)."""
        return self._bam.pileup(
            native, start0, end0 + 1, truncate=True, stepper="nofilter",
            ignore_overlaps=False, ignore_orphans=False, min_base_quality=0,
            min_mapping_quality=0, max_depth=MAX_PILEUP_DEPTH,
        )

    def _skip(self, read: AlignedSegment) -> bool:
        return bool(read.flag & SKIP_FLAGS) or read.mapping_quality < self.min_mapq

    def _substitution(self, native: str, key: VariantKey, tally: FragmentTally) -> tuple[int, int, int]:
        first, n = key.pos - 1, len(key.ref)
        filtered = dups = low_q = 0
        min_bq = self.min_bq
        # read id -> (read, bases so far, lowest base quality); None once the read is uninformative
        state: dict[tuple[str, int], tuple[AlignedSegment, list[str], int] | None] = {}
        for column in self._columns(native, first, first + n - 1):
            i = column.reference_pos - first
            # bases and qualities of every read of the column, in C (same order as .pileups)
            bases = column.get_query_sequences(mark_matches=False, mark_ends=False, add_indels=False)
            quals = column.get_query_qualities()
            for j, pr in enumerate(column.pileups):
                read = pr.alignment
                if i == 0:
                    if read.flag & SKIP_FLAGS or read.mapping_quality < self.min_mapq:
                        filtered += 1
                        dups += bool(read.flag & FLAG_DUPLICATE)
                        continue
                    if pr.is_del:
                        tally.add(read, "other")  # a deletion over the site is another allele
                        if n > 1:
                            state[(read.query_name or "", read.flag & 0xC0)] = None
                        continue
                    if pr.is_refskip or pr.query_position is None:
                        continue
                    if n == 1:  # SNV: decided here
                        if quals[j] < min_bq:  # missing qualities ('*') read as 255
                            low_q += 1
                            continue
                        b = bases[j].upper()
                        tally.add(read, "alt" if b == key.alt else "ref" if b == key.ref else "other")
                        continue
                    state[(read.query_name or "", read.flag & 0xC0)] = (read, [bases[j]], quals[j])
                    continue
                rid = (read.query_name or "", read.flag & 0xC0)
                st = state.get(rid)
                if st is None:
                    continue
                if pr.is_del or pr.is_refskip or pr.query_position is None:
                    state[rid] = None
                    continue
                st[1].append(bases[j])
                state[rid] = (st[0], st[1], min(st[2], quals[j]))
        for st in state.values():
            if st is None or len(st[1]) != n:
                continue
            read, got, lowest = st
            if lowest < min_bq:
                low_q += 1
                continue
            allele = "".join(got).upper()
            tally.add(read, "alt" if allele == key.alt else "ref" if allele == key.ref else "other")
        return filtered, dups, low_q

    def _qual_ok(self, read: AlignedSegment, positions: list[int]) -> bool:
        quals = read.query_qualities
        if quals is None:
            return True  # no qualities stored ('*'): nothing to filter on
        return all(quals[q] >= self.min_bq for q in positions if 0 <= q < len(quals))

    def _indel(
        self, native: str, key: VariantKey, span_end: int, tally: FragmentTally
    ) -> tuple[int, int, int]:
        first, last = key.pos - 1, span_end  # 0-based: padding base .. one past the repeat
        filtered = dups = low_q = 0
        reads: dict[tuple[str, int], _IndelRead] = {}
        matches: dict[tuple[object, ...], bool] = {}
        # indels anchored one base before the padding base up to the repeat's end can be this one
        for column in self._columns(native, first - 1, last):
            c = column.reference_pos
            edge = c in (first, last)
            col_quals = column.get_query_qualities() if c == first else None
            for j, pr in enumerate(column.pileups):
                if not edge and pr.indel == 0:
                    continue  # inside the repeat only the reads' indels matter
                read = pr.alignment
                rid = (read.query_name or "", read.flag & 0xC0)
                if c == first:
                    if self._skip(read):
                        filtered += 1
                        dups += bool(read.flag & FLAG_DUPLICATE)
                        continue
                    r = reads.setdefault(rid, _IndelRead(read))
                    r.at_site = True
                    r.first_q = None if pr.is_del or pr.is_refskip else pr.query_position
                    r.first_qual = col_quals[j] if col_quals is not None else 255
                elif rid not in reads:
                    if c > first:
                        continue  # not over the site: never classified
                    reads[rid] = _IndelRead(read)
                r = reads[rid]
                if c == last:
                    r.last_ok = not (pr.is_del or pr.is_refskip) and pr.query_position is not None
                if pr.indel == 0 or pr.is_del or pr.is_refskip or pr.query_position is None:
                    continue
                q = pr.query_position
                if pr.indel < 0:
                    event: tuple[object, ...] = ("del", c + 1, -pr.indel)
                    quals = [q, q + 1]
                else:
                    seq = read.query_sequence or ""
                    event = ("ins", c + 1, seq[q + 1 : q + 1 + pr.indel].upper())
                    quals = list(range(q + 1, q + 1 + pr.indel))
                if event not in matches:
                    matches[event] = self._event_matches(key, event)
                if matches[event]:
                    r.alt_quals = r.alt_quals if r.alt_quals is not None else quals
                elif (event[0] == "del" and first - 1 <= c <= last - 1) or (event[0] == "ins" and first <= c <= last):
                    r.other_in_repeat = True
        for r in reads.values():
            if not r.at_site:
                continue
            allele = self._indel_allele(r)
            if allele == "lowq":
                low_q += 1
            elif allele is not None:
                tally.add(r.read, allele)
        return filtered, dups, low_q

    def _indel_allele(self, r: _IndelRead) -> str | None:
        if r.alt_quals is not None:
            return "alt" if self._qual_ok(r.read, r.alt_quals) else "lowq"
        # REF (or another allele) only if the read spans the whole repeat plus one base
        if r.first_q is None or not r.last_ok:
            return None
        if r.other_in_repeat:
            return "other"
        return "ref" if r.first_qual >= self.min_bq else "lowq"  # missing qualities read as 255

    def _event_matches(self, key: VariantKey, event: tuple[object, ...]) -> bool:
        kind, pos, what = event
        assert isinstance(pos, int)
        if kind == "del":
            assert isinstance(what, int)
            return self._deletion_matches(key, pos, what)
        assert isinstance(what, str)
        return self._insertion_matches(key, pos, what)

    def _deletion_matches(self, key: VariantKey, pos: int, length: int) -> bool:
        """``pos``: 1-based base before the deletion."""
        if len(key.ref) - len(key.alt) != length or len(key.alt) != 1:
            return False
        if pos == key.pos:
            return True
        if self.fetch is None:
            return False
        ref = self.fetch(key.chrom, pos, pos + length)
        if not ref:
            return False
        return normalise(key.chrom, pos, ref, ref[0], self.fetch).key == key

    def _insertion_matches(self, key: VariantKey, pos: int, inserted: str) -> bool:
        """``pos``: 1-based base before the insertion."""
        if len(key.alt) - len(key.ref) != len(inserted) or len(key.ref) != 1:
            return False
        if pos == key.pos and key.alt[1:] == inserted:
            return True
        if self.fetch is None:
            return False
        base = self.fetch(key.chrom, pos, pos)
        if not base:
            return False
        return normalise(key.chrom, pos, base, base + inserted, self.fetch).key == key


@dataclass
class _IndelRead:
    """What the pileup columns said about one read across an indel's repeat."""

    read: AlignedSegment
    at_site: bool = False  # present at the padding base's column (else not classified)
    first_q: int | None = None  # query position aligned to the padding base
    first_qual: int = 255  # its base quality
    last_ok: bool = False  # aligned (not deleted) at the base after the repeat
    alt_quals: list[int] | None = None  # query positions whose quality decides a matching indel
    other_in_repeat: bool = False


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
