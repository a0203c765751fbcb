"""Reading only the panel regions of a VCF that has no index.

The cost of annotating should follow the panel, not the file, so records
outside the regions must not become Python objects:

* a bgzipped VCF is indexed on the fly by htslib (``pysam.tabix_index``
  into a temporary directory; the input is never touched) and then read
  through region queries like an indexed file.  Building the index reads
  the file once in C and keeps only the index in memory;
* a plain or ordinary-gzip VCF (and a bgzipped one htslib cannot index,
  e.g. unsorted) is pre-filtered as text: only CHROM, POS and the length of
  REF of each line are looked at, and kept lines go to a small temporary VCF
  that cyvcf2 parses;
* a BCF without index, and any file under ``SMALL_FILE`` bytes, is read
  record by record by htslib, but only records inside the regions are
  converted.

Memory stays bounded in every case: lines are streamed, never collected.
``source.total_records`` is set to the number of records in the file so
the caller can account for the ones skipped.
"""

from __future__ import annotations

import bisect
import gzip
import logging
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.core import chromnames
from annotator.errors import InputError

if TYPE_CHECKING:
    from annotator.io.vcfmodel import InputRecord

    # the reader (annotator.io.vcfin.VcfSource) passes itself; this module does not import it
    VcfSource = Any

log = logging.getLogger(__name__)

Region = tuple[str, int, int]
# below this size (bytes on disk) parsing every record costs less than indexing or
# pre-filtering; panel-sized VCFs of a cohort take this path
SMALL_FILE = 2 << 20


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


class _Spans:
    """Membership test of (chrom, start, end) against sorted merged regions."""

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


def unindexed_records(source: VcfSource, regions: Sequence[Region]) -> Iterator[InputRecord]:
    """Records of ``source`` (no index) that overlap ``regions``, in file order per region."""
    path = source.path
    kind = file_kind(path)
    if kind == "bcf" or path.stat().st_size < SMALL_FILE:
        yield from _checked_records(source, regions)
        return
    if kind == "bgzf":
        with tempfile.TemporaryDirectory(prefix="resmark-index-") as tmp:
            index = Path(tmp) / "input.tbi"
            vcf = _index_on_the_fly(path, index)
            if vcf is not None:
                try:
                    _declare(source, vcf, _index_contigs(path, index))
                    source.total_records = _num_records(vcf)
                    yield from source._query(vcf, regions)
                finally:
                    vcf.close()
                return
    yield from _text_records(source, regions)


def _index_contigs(path: Path, index: Path) -> list[str]:
    import pysam

    with pysam.TabixFile(str(path), index=str(index)) as tbx:
        return [str(c) for c in tbx.contigs]


def _declare(source: VcfSource, vcf: Any, names: Iterable[str]) -> None:
    """Declare contigs the header lacks: htslib mis-parses records of undeclared contigs."""
    have = set(source.header.contigs)
    for name in names:
        if name not in have:
            try:
                vcf.add_to_header(f"##contig=<ID={name}>")
            except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
                raise InputError(f"contig name {name!r} is not valid", path=source.path) from e


def _index_on_the_fly(path: Path, index: Path) -> Any:
    import cyvcf2
    import pysam

    try:
        pysam.tabix_index(str(path), preset="vcf", index=str(index), force=True)
    except OSError as e:
        log.warning("%s: cannot index on the fly (%s); reading it as text", path, " ".join(str(e).split()))
        return None
    vcf = cyvcf2.VCF(str(path), gts012=True, lazy=True)
    vcf.set_index(str(index))
    return vcf


def _num_records(vcf: Any) -> int | None:
    try:
        return int(vcf.num_records)
    except Exception:  # noqa: BLE001 - index without statistics
        return None


def _text_records(source: VcfSource, regions: Sequence[Region]) -> Iterator[InputRecord]:
    import cyvcf2

    path = source.path
    source._scan_all()  # the structural checks of annotator.io.vcfcheck, once
    chroms = source._vcf.scan.chroms if source._vcf.scan is not None else []
    spans = _Spans(regions)
    total = 0
    with tempfile.TemporaryDirectory(prefix="resmark-scan-") as tmp:
        kept_path = Path(tmp) / "panel.vcf"
        opener = gzip.open if file_kind(path) != "text" else open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace") as fh, open(
                kept_path, "w", encoding="utf-8"
            ) as out:
                for n, line in enumerate(fh, start=1):
                    if line.startswith("#"):
                        out.write(line)
                        continue
                    if not line.strip():
                        continue
                    total += 1
                    t1 = line.find("\t")
                    t2 = line.find("\t", t1 + 1)
                    t3 = line.find("\t", t2 + 1)
                    t4 = line.find("\t", t3 + 1)
                    if t4 < 0:
                        raise InputError("fewer than 5 tab-separated columns", path=path, where=f"line {n}")
                    try:
                        pos = int(line[t1 + 1 : t2])
                    except ValueError as e:
                        raise InputError(f"POS {line[t1 + 1 : t2]!r} is not a number", path=path,
                                         where=f"line {n}") from e
                    if spans.touches(line[:t1], pos, pos + max(t4 - t3 - 2, 0)):
                        out.write(line)
        except (OSError, EOFError, UnicodeError) as e:
            raise InputError(f"cannot read ({' '.join(str(e).split())})", path=path) from e
        source.total_records = total
        vcf = cyvcf2.VCF(str(kept_path), gts012=True, lazy=True)
        try:
            _declare(source, vcf, chroms)
            yield from source._convert(iter(vcf), 0)
        finally:
            vcf.close()


def _checked_records(source: VcfSource, regions: Sequence[Region]) -> Iterator[InputRecord]:
    """Every record parsed by htslib, but only those inside the regions converted."""
    if source.container.text:
        source._scan_all()
    spans = _Spans(regions)
    total = 0

    def inside() -> Iterator[object]:
        nonlocal total
        for v in source._vcf:
            total += 1
            if spans.touches(v.CHROM, v.POS, v.end):
                yield v

    yield from source._convert(inside(), 0)
    source.total_records = total
