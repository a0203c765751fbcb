"""Reading only the panel regions of a VCF that has no index.

The cost of annotating should follow the panel, not the file, so records
outside the regions must not become Python objects:

* a sorted bgzipped VCF is read once by ``annotator.io.bgzfscan``, which
  hashes it, counts its records and keeps, under the input's header, the
  lines that may reach a region (CHROM and POS looked at with numpy over
  whole chunks of text, no object per record); htslib indexes that small
  file in a temporary directory and region queries read it exactly as they
  would the whole file (same records, order and numbering).  A bgzipped
  file that pass cannot vouch for (unsorted, malformed, damaged) is indexed
  on the fly by htslib as a whole (``pysam.tabix_index`` into a temporary
  directory; the input is never touched) and read the same way;
* a plain or ordinary-gzip VCF (and a bgzipped one htslib cannot index,
  e.g. unsorted) is pre-filtered as text in the same pass that checks its
  structure and hashes it (``annotator.io.vcfcheck.scan_text``, made over
  whole chunks by ``annotator.io.textscan``): only CHROM, POS and the
  length of REF of each line are looked at, with numpy, and kept lines go
  to a small temporary VCF that cyvcf2 parses;
* a BCF without index, and any file under ``SMALL_FILE`` bytes, is read
  record by record by htslib, but only records inside the regions are
  converted.

Several region sets can be read in one pass (the panel regions of both
builds, so that REF alleles can show which build the file really is): each
record comes out once per set it touches, as ``(set number, record)``, with
``record.index`` counted within its set exactly as a read of that set alone
would count it.

Memory stays bounded in every case: lines are streamed, never collected.
The reader's ``total_records`` is set to the number of records in the file
so the caller can account for the ones skipped.

This module never imports the reader (``annotator.io.vcfin``); the reader
passes itself as a ``RegionReader``.
"""

from __future__ import annotations

import bisect
import gzip
import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Protocol

from annotator.core import chromnames
from annotator.errors import InputError
from annotator.io import bgzfscan
from annotator.io.textscan import RegionSelect
from annotator.io.vcfcheck import Container, Scan, Select
from annotator.io.vcfmodel import HtsRecord, HtsVcf, InputRecord, VcfHeader

log = logging.getLogger(__name__)

Region = tuple[str, int, int]
Tagged = tuple[int, InputRecord]  # (number of the region set, record)
# below this size (bytes on disk) parsing every record costs less than indexing or
# pre-filtering; panel-sized VCFs of a cohort take this path
SMALL_FILE = 2 << 20


class RegionReader(Protocol):
    """What this module needs from the VCF reader (``annotator.io.vcfin.VcfSource``)."""

    path: Path  # the name the user gave (messages)
    file: Path  # the bytes to open (the path itself, or a copy of a pipe)
    container: Container
    header: VcfHeader
    total_records: int | None
    index_wanted: bool  # build the whole file's index on the way (for the annotated VCF)

    def scan_all(self, select: Select | None = None, sink: IO[bytes] | None = None) -> Scan: ...

    def htslib_records(self) -> Iterator[HtsRecord]: ...  # checked (vcfcheck.SafeVcf)

    def convert(self, it: Iterator[HtsRecord], start_index: int) -> Iterator[InputRecord]: ...

    def query(self, vcf: HtsVcf, regions: Sequence[Region]) -> Iterator[InputRecord]: ...

    def declare(self, vcf: HtsVcf, names: Iterable[str]) -> None: ...

    def known_sha256(self, digest: str) -> None: ...  # of ``file``, taken by a pass that read it all

    def known_index(self, raw: bytes) -> None: ...  # ``file``'s tabix index, built by a pass that read it all


def file_kind(path: Path) -> str:
    """``bgzf``, ``gzip``, ``bcf`` or ``text`` from the first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:3] == b"BCF":
        return "bcf"
    if head[:2] != b"\x1f\x8b":
        return "text"
    # BGZF: gzip with FEXTRA holding the 'BC' subfield (SAM/BAM specification, 4.1)
    bgzf = len(head) >= 14 and bool(head[3] & 4) and head[12:14] == b"BC"
    with gzip.open(path, "rb") as fh:
        if fh.read(3) == b"BCF":
            return "bcf"
    return "bgzf" if bgzf else "gzip"


class Spans:
    """Membership test of (chrom as written, start, end) against sorted merged regions."""

    def __init__(self, regions: Sequence[Region]) -> None:
        self.ends: dict[str, list[int]] = {}
        self.starts: dict[str, list[int]] = {}
        for chrom, start, end in regions:
            self.starts.setdefault(chrom, []).append(start)
            self.ends.setdefault(chrom, []).append(end)
        self._native: dict[str, str] = {}

    def canonical(self, native: str) -> str:
        name = self._native.get(native)
        if name is None:
            name = self._native[native] = chromnames.canonical(native)
        return name

    def touches(self, native: str, start: int, end: int) -> bool:
        chrom = self._native.get(native) or self.canonical(native)
        starts = self.starts.get(chrom)
        if starts is None:
            return False
        i = bisect.bisect_right(starts, end) - 1
        return i >= 0 and self.ends[chrom][i] >= start


_Spans = Spans  # the former private name


def unindexed_records(source: RegionReader, sets: Sequence[Sequence[Region]]) -> Iterator[Tagged]:
    """Records of ``source`` (no index) that overlap each region set, in file order per set."""
    path = source.file
    kind = file_kind(path)
    if kind == "bcf" or path.stat().st_size < SMALL_FILE:
        yield from _checked_records(source, sets)
        return
    if kind == "bgzf":
        with tempfile.TemporaryDirectory(prefix="resmark-index-") as tmp:
            kept = _near_regions(source, sets, Path(tmp))
            if kept is not None:
                vcf, found = kept
                try:
                    source.declare(vcf, found.chroms)
                    source.total_records = found.records
                    source.known_sha256(found.sha256)
                    if found.index is not None:
                        source.known_index(found.index)
                    yield from _query_sets(source, vcf, sets)
                finally:
                    vcf.close()
                return
            index = Path(tmp) / "input.tbi"
            vcf = _index_on_the_fly(path, index)
            if vcf is not None:
                try:
                    source.declare(vcf, _index_contigs(path, index))
                    source.total_records = _num_records(vcf)
                    yield from _query_sets(source, vcf, sets)
                finally:
                    vcf.close()
                return
    yield from _text_records(source, sets)


def _query_sets(source: RegionReader, vcf: HtsVcf, sets: Sequence[Sequence[Region]]
                ) -> Iterator[Tagged]:
    """Each region set's records, tagged with the set's number."""
    for k, regions in enumerate(sets):
        for rec in source.query(vcf, regions):
            yield k, rec


def _near_regions(source: RegionReader, sets: Sequence[Sequence[Region]], tmp: Path
                  ) -> tuple[HtsVcf, bgzfscan.Found] | None:
    """The input's header and its lines near the regions, indexed by htslib in ``tmp``.

    One pass over the file (``annotator.io.bgzfscan``); a query of this small
    file returns what the same query of the whole file would.  None when the
    file is not sorted or not as that pass expects (it says why in the log).
    """
    import cyvcf2
    import numpy as np
    import pysam

    from annotator.io import htslog

    union = {c: (np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))
             for c, (a, b) in bgzfscan.merged(sets).items()}
    spans = Spans([])  # only for its CHROM-name cache

    def regions(native: str) -> tuple[np.ndarray, np.ndarray] | None:
        return union.get(spans.canonical(native))

    kept = tmp / "near-panel.vcf"
    try:
        with open(kept, "wb") as sink:
            found = bgzfscan.scan(source.file, regions, sink, index=source.index_wanted)
    except bgzfscan.GiveUp as e:
        log.info("%s: indexing the whole file instead of one pass (%s)", source.path, e)
        return None
    except OSError as e:
        raise InputError(f"cannot read ({e.strerror or e})", path=source.path) from e
    log.debug("%s: %d records, %d near the regions", source.path, found.records, found.kept)
    try:
        with htslog.quiet(str(source.path)):
            gz = pysam.tabix_index(str(kept), preset="vcf", force=True)
    except OSError as e:
        log.info("%s: the lines near the regions cannot be indexed (%s); indexing the whole file",
                 source.path, " ".join(str(e).split()))
        return None
    return cyvcf2.VCF(str(gz), gts012=True, lazy=True), found


def _index_contigs(path: Path, index: Path) -> list[str]:
    import pysam

    with pysam.TabixFile(str(path), index=str(index)) as tbx:
        return [str(c) for c in tbx.contigs]


def _index_on_the_fly(path: Path, index: Path) -> HtsVcf | None:
    import cyvcf2
    import pysam

    from annotator.io import htslog

    try:
        with htslog.quiet(str(path)):
            pysam.tabix_index(str(path), preset="vcf", index=str(index), force=True)
    except OSError as e:
        log.warning("%s: cannot index on the fly (%s); reading it as text", path, " ".join(str(e).split()))
        return None
    vcf = cyvcf2.VCF(str(path), gts012=True, lazy=True)
    vcf.set_index(str(index))
    return vcf


def _num_records(vcf: HtsVcf) -> int | None:
    try:
        return int(vcf.num_records)
    except Exception:  # noqa: BLE001 - index without statistics
        return None


class _Tagger:
    """Numbers each record within every set it touches."""

    def __init__(self, sets: Sequence[Sequence[Region]]) -> None:
        self.spans = [Spans(regions) for regions in sets]
        self.counts = [0] * len(sets)

    def any(self, native: bytes | str, start: int, end: int) -> bool:
        name = native.decode("utf-8", "replace") if isinstance(native, bytes) else native
        return any(s.touches(name, start, end) for s in self.spans)

    def tag(self, rec: InputRecord, end: int) -> Iterator[Tagged]:
        for k, spans in enumerate(self.spans):
            if spans.touches(rec.chrom, rec.pos, end):
                index = self.counts[k]
                self.counts[k] += 1
                yield k, rec if rec.index == index else rec._replace(index=index)


def _text_records(source: RegionReader, sets: Sequence[Sequence[Region]]) -> Iterator[Tagged]:
    import cyvcf2
    import numpy as np

    tagger = _Tagger(sets)
    names: dict[bytes, str] = {}
    union = {c: (np.array(a, dtype=np.int64), np.array(b, dtype=np.int64))
             for c, (a, b) in bgzfscan.merged(sets).items()}

    def near(native: str) -> tuple[np.ndarray, np.ndarray] | None:
        return union.get(tagger.spans[0].canonical(native)) if tagger.spans else None

    def exact(chrom: bytes, pos: int, ref_len: int) -> bool:
        name = names.get(chrom)
        if name is None:
            name = names[chrom] = chrom.decode("utf-8", "replace")
        return tagger.any(name, pos, pos + max(ref_len - 1, 0))

    # the union of the sets as arrays: the scan tests most lines in numpy, the rest with ``exact``
    select = RegionSelect(exact, near)

    with tempfile.TemporaryDirectory(prefix="resmark-scan-") as tmp:
        kept_path = Path(tmp) / "panel.vcf"
        try:
            with open(kept_path, "wb") as out:
                scan = source.scan_all(select=select, sink=out)
        except OSError as e:
            raise InputError(f"cannot write the pre-filtered copy ({e.strerror or e})",
                             path=source.path) from e
        source.total_records = scan.records - len(scan.skip)
        vcf = cyvcf2.VCF(str(kept_path), gts012=True, lazy=True)
        try:
            source.declare(vcf, scan.chroms)
            for rec in source.convert(iter(vcf), 0):
                yield from tagger.tag(rec, rec.pos + max(len(rec.ref) - 1, 0))
        finally:
            vcf.close()


def _checked_records(source: RegionReader, sets: Sequence[Sequence[Region]]) -> Iterator[Tagged]:
    """Every record parsed by htslib, but only those inside a region set converted."""
    if source.container.text:
        source.scan_all()
    tagger = _Tagger(sets)
    total = 0
    ends: list[int] = []

    def inside() -> Iterator[HtsRecord]:
        nonlocal total
        for v in source.htslib_records():
            total += 1
            end = int(v.end)
            if tagger.any(v.CHROM, v.POS, end):
                ends.append(end)
                yield v

    for rec in source.convert(inside(), 0):
        yield from tagger.tag(rec, ends.pop())
    source.total_records = total
