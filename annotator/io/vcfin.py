"""Reading VCF/BCF (plain, bgzipped, BCF) with cyvcf2: one reader per input file.

``VcfSource`` sniffs the container, reads the header (and which column is
the tumour, ``annotator.io.samplehints``), and yields ``InputRecord`` values
that hold everything later stages need, so no other module touches cyvcf2
objects.  With a ``.tbi``/``.csi`` index only the requested regions are
read; without one ``annotator.io.regionscan`` filters in the same pass that
checks (and hashes) the file.  ``sha256()`` is the digest of the bytes read,
taken while reading where the pass read every byte in Python.

A pipe or FIFO input is first copied once (``annotator.io.inputbytes.Spool``):
``VcfSource(copy, name=original)`` names the original in every message.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import IO

from annotator.core import chromnames
from annotator.errors import InputError, ResmarkError
from annotator.io import headerless, htslog, samplehints, vcfcheck
from annotator.io.inputbytes import Spool, sha256_of
from annotator.io.readsupport import FieldNumbers
from annotator.io.regionscan import Region, Tagged
from annotator.io.vcfmodel import HtsRecord, HtsVcf, InputRecord, VcfHeader
from annotator.io.vcfrecord import CARRIED_INFO, support_reader, to_record  # noqa: F401 - CARRIED_INFO: former home

log = logging.getLogger(__name__)

TUMOUR_NAMES = samplehints.TUMOUR_NAMES


class DuplicateSamples(InputError):
    """The #CHROM line names one sample twice (htslib refuses such a header)."""

    def __init__(self, path: str | Path, names: tuple[str, ...]) -> None:
        self.names = names
        dup = sorted({n for n in names if names.count(n) > 1})
        super().__init__(
            f"the #CHROM line names sample(s) {', '.join(map(repr, dup))} more than once; "
            "htslib cannot read such a header (rename the columns, e.g. "
            "`bcftools reheader -s new_names.txt`)",
            path=path,
        )


def index_for(path: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            return candidate
    return None


def usable_index(path: Path, container: vcfcheck.Container) -> Path | None:
    """The index next to ``path`` if it can be trusted for region queries, else None."""
    index = index_for(path)
    if index is None:
        return None
    is_bcf_name = path.name.lower().endswith(".bcf")
    fits = (container.kind == "bgzf-text" and not is_bcf_name) or (
        container.kind == "bgzf-bcf" and is_bcf_name and index.suffix == ".csi"
    )
    if not fits:
        log.warning("%s: ignoring %s: it cannot index a %s file; reading the whole file",
                    path, index.name, container.kind)
        return None
    try:
        stale = index.stat().st_mtime < path.stat().st_mtime
    except OSError:
        return None
    if stale:
        # an index older than its data may describe another (e.g. unsorted) version of the file
        log.warning("%s: ignoring %s: it is older than the file; reading the whole file "
                    "(re-index with `tabix -p vcf` to speed this up)", path, index.name)
        return None
    return index


def _parse_header_line(line: str) -> dict[str, str]:
    start, end = line.find("<"), line.rfind(">")
    inner = line[start + 1 : end] if 0 <= start < end else line[start + 1 :] if start >= 0 else ""
    out: dict[str, str] = {}
    for m in re.finditer(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^,]*)', inner):
        out[m.group(1)] = m.group(2).strip('"')
    return out


def choose_tumour(
    samples: Sequence[str], requested: str | None, header_tumour: str | None, path: str
) -> tuple[str | None, int | None, str]:
    """Pick the tumour column (the former interface: only ``##tumor_sample`` as a hint)."""
    hints = samplehints.Hints(((header_tumour, "##tumor_sample header"),)
                              if header_tumour and header_tumour in samples else ())
    c = samplehints.choose(samples, requested, hints, path)
    return c.tumour, c.tumour_index, c.reason


class VcfSource:
    """An open VCF/BCF file with its parsed header: the one reader of an input file."""

    def __init__(
        self, path: str | Path, sample: str | None = None, *, name: str | Path | None = None,
        sha256: str | None = None, rename_samples: bool = False,
    ) -> None:
        import cyvcf2

        self.file = Path(path)  # the bytes read
        self.path = Path(name) if name is not None else self.file  # the name in messages
        self._sha256 = sha256
        self.built_index: bytes | None = None  # ``known_index``
        self.index_wanted = True  # whether a reading pass should build the index (annotated VCF)
        self._hts_level: int | None = None
        self.renamed_samples: tuple[str, ...] = ()
        if not self.file.exists():
            raise InputError("file not found", path=self.path)
        if self.file.is_dir():
            raise InputError("is a directory, not a VCF/BCF file", path=self.path)
        with self._named():
            self.container = vcfcheck.sniff(self.file)
            if self.path.name.lower().endswith(".bcf") and self.container.text:
                log.warning("%s: named .bcf but holds text VCF; reading it as VCF", self.path)
            head = None
            if self.container.text:
                head = vcfcheck.scan_text(self.file, self.container, set(), header_only=True)
                if len(set(head.samples)) < len(head.samples) and not rename_samples:
                    raise DuplicateSamples(self.path, head.samples)
        captured: list[str] = []
        try:
            with htslog.captured_stderr(captured):
                vcf = cyvcf2.VCF(str(self.file), gts012=True, lazy=True)
            self._vcf = vcfcheck.SafeVcf(vcf, self.file, self.container)
        except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
            if self.container.text:
                with self._named():  # a truncated or damaged file: say that, not htslib's echo
                    vcfcheck.scan_text(self.file, self.container, set())
            why = htslog.htslib_message(captured) or _clean(e).replace(str(self.file), "it")
            if "is not valid bcf or vcf" in why:
                why = "htslib does not recognise the content as VCF or BCF"
                if self.container.text and _first_line(self.file).startswith("#CHROM"):
                    why += " (the file has no ##fileformat line; add '##fileformat=VCFv4.2' as line 1)"
            if "Duplicated sample name" in why and head is None:
                why += " (rename the columns, e.g. `bcftools reheader -s new_names.txt`)"
            raise InputError(f"htslib cannot read this file: {why}", path=self.path) from e
        finally:
            htslog.report(str(self.path), captured)
        if not log.isEnabledFor(logging.DEBUG):
            # htslib would print warnings for every odd record; resmark reports faults itself
            self._hts_level = htslog.hts_log_level(htslog.HTS_LOG_OFF)
        try:
            self.header = self._read_header(sample)
        except BaseException:
            self.close()
            raise
        self._tumour = self.header.tumour_index
        # the read-support extractor, chosen once from the header (annotator.io.readsupport)
        self.support = support_reader(self.header)
        self._declared: set[int] = set()
        # records in the file when known (index statistics, or counted by regionscan)
        self.total_records: int | None = self.header.total_records_from_index

    @classmethod
    def open(cls, path: str | Path, sample: str | None, spool: Spool) -> VcfSource:
        """The reader of input ``path``: a pipe is copied once, repeated sample names renamed."""
        readable = spool.readable(path)
        missing, skip = headerless.missing_header(readable)
        if missing or skip:
            readable = spool.headed(path, missing, skip)
            if skip:
                log.warning("%s: %d line(s) before the header are not VCF; skipped", path, skip)
            if missing:
                log.warning("%s: the file has no %s; read it with %s added", path,
                            "##fileformat line" if len(missing) == 1 else "header",
                            " and ".join(m.split("\t")[0] for m in missing))
        try:
            return cls(readable, sample, name=path, sha256=spool.sha256(path))
        except DuplicateSamples as e:
            copy = spool.renamed(path, e.names)
            source = cls(copy, sample, name=path, sha256=spool.sha256(path), rename_samples=True)
            log.warning("%s: the #CHROM line repeats sample names (%s); read as %s", path,
                        ", ".join(e.names), ", ".join(source.header.samples))
            source.renamed_samples = source.header.samples
            return source

    def rewind(self) -> None:
        """Read the file again from its first record (same reader; checks are kept)."""
        import cyvcf2

        scan = self._vcf.scan
        self._vcf.close()
        self._vcf = vcfcheck.SafeVcf(cyvcf2.VCF(str(self.file), gts012=True, lazy=True),
                                     self.file, self.container)
        self._vcf.scan = scan
        self._declared.clear()
        if scan is not None:
            self._declare(self._vcf)

    @contextlib.contextmanager
    def _named(self) -> Iterator[None]:
        """Errors about the copy of a pipe name the pipe the user gave."""
        try:
            yield
        except ResmarkError as e:
            if self.file == self.path or e.path != str(self.file):
                raise
            raise type(e)(e.message, path=self.path, where=e.where) from e

    def _read_header(self, sample: str | None) -> VcfHeader:
        raw = self._vcf.raw_header or ""
        # "\n" only: str.splitlines() would also split at form feeds and other controls
        lines = tuple(line.rstrip("\r") for line in raw.split("\n") if line)
        if not lines or not lines[-1].startswith("#CHROM"):
            raise InputError("no #CHROM header line; is this a VCF?", path=self.path)
        contigs: dict[str, int | None] = {}
        reference_line = None
        hints: list[str] = []
        fmt_numbers: dict[str, str] = {}
        info_numbers: dict[str, str] = {}
        for line in lines:
            if line.startswith("##contig="):
                fields = _parse_header_line(line)
                if "ID" in fields:
                    length = fields.get("length")
                    contigs[fields["ID"]] = int(length) if length and length.isdigit() else None
                    if "assembly" in fields:
                        hints.append(fields["assembly"])
            elif line.startswith("##reference="):
                reference_line = line.split("=", 1)[1]
            elif line.startswith("##FORMAT=") or line.startswith("##INFO="):
                fields = _parse_header_line(line)
                target = fmt_numbers if line.startswith("##FORMAT") else info_numbers
                if "ID" in fields:
                    target[fields["ID"]] = fields.get("Number", ".")
            elif line.startswith(("##assembly=", "##genome=", "##source_reference")):
                hints.append(line)
        try:
            samples = tuple(self._vcf.samples)
        except UnicodeDecodeError as e:
            raise InputError(
                "a sample name in the #CHROM line is not valid UTF-8; re-encode the header as UTF-8",
                path=self.path,
            ) from e
        choice = samplehints.choose(
            samples, sample, samplehints.header_hints(lines, samples), str(self.path)
        )
        if choice.reason not in ("--sample", "##tumor_sample header", "only sample in the file",
                                 "column named TUMOR", "sites-only VCF (no sample columns)"):
            log.warning("%s: tumour sample %s chosen because %s%s", self.path, choice.tumour,
                        choice.reason, "" if choice.normal is None else f"; normal {choice.normal}")
        index = usable_index(self.file, self.container)
        total = None
        if index is not None:
            try:
                total = int(self._vcf.num_records)
            except Exception:  # noqa: BLE001 - index without statistics
                total = None
        names = list(contigs) or list(self._vcf.seqnames or [])
        return VcfHeader(
            path=str(self.path),
            samples=samples,
            tumour_sample=choice.tumour,
            tumour_index=choice.tumour_index,
            tumour_reason=choice.reason,
            contigs=MappingProxyType(contigs),
            reference_line=reference_line,
            numbers=FieldNumbers(MappingProxyType(fmt_numbers), MappingProxyType(info_numbers)),
            lines=lines,
            indexed=index is not None,
            index_path=str(index) if index else None,
            naming=chromnames.Naming.from_contigs(names),
            total_records_from_index=total,
            assembly_hints=tuple(hints),
            normal_sample=choice.normal,
            normal_index=choice.normal_index,
        )

    def records(self, regions: Sequence[Region] | None = None) -> Iterator[InputRecord]:
        """All records, or only those overlapping ``regions``.

        ``regions`` are canonical (chrom, start, end), 1-based inclusive,
        sorted and non-overlapping; records spanning two regions are read once.
        Without an index, ``annotator.io.regionscan`` skips the other records
        without parsing them (and sets ``total_records``).
        """
        if regions is None:
            with self._named():
                if self.container.text:
                    self.scan_all()
                yield from self.convert(iter(self._vcf), 0)
            return
        for _, rec in self.records_in_sets([regions]):
            yield rec

    def records_in_sets(self, sets: Sequence[Sequence[Region]]) -> Iterator[Tagged]:
        """``(k, record)`` for each region set ``k`` a record overlaps, from one pass.

        A record's ``index`` counts within its set, as ``records(sets[k])``
        would count it; an unindexed file is read once for all sets.
        """
        with self._named():
            if not self.header.indexed:
                from annotator.io.regionscan import unindexed_records

                yield from unindexed_records(self, sets)
                return
            for k, regions in enumerate(sets):
                for rec in self.query(self._vcf, regions):
                    yield k, rec

    # -- the interface annotator.io.regionscan reads through (RegionReader) --------------

    def scan_all(self, select: vcfcheck.Select | None = None,
                 sink: IO[bytes] | None = None) -> vcfcheck.Scan:
        """Check every line of a text VCF (once), then declare its contigs to htslib.

        htslib builds broken records from a bad line whose contig the header
        does not declare; once every contig is declared it reports the fault.
        With ``select`` and ``sink`` the same pass writes the kept lines.
        """
        if self._vcf.scan is None:
            self._vcf.scan = vcfcheck.scan_text(self.file, self.container, set(self.header.contigs),
                                                select=select, sink=sink)
            self._declare(self._vcf)
        elif sink is not None:
            # already checked (an earlier pass): filter only
            vcfcheck.scan_text(self.file, self.container, set(self.header.contigs),
                               select=select, sink=sink)
        return self._vcf.scan

    _scan_all = scan_all  # the former private name

    def htslib_records(self) -> Iterator[HtsRecord]:
        """This file's cyvcf2 records, checked (blank lines dropped, faults named)."""
        return iter(self._vcf)

    def declare(self, vcf: HtsVcf, names: Iterable[str]) -> None:
        """Declare contigs the header lacks: htslib mis-parses records of undeclared contigs."""
        have = set(self.header.contigs)
        for name in names:
            if name not in have:
                try:
                    vcf.add_to_header(f"##contig=<ID={name}>")
                except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
                    raise InputError(f"contig name {name!r} is not valid", path=self.path) from e

    def known_index(self, raw: bytes) -> None:
        """``file``'s tabix index (decompressed) built by a pass that read all of it.

        The annotated VCF's block copy needs the input's index; without this it would
        have htslib index the whole file again (``annotator.io.vcfcopy``)."""
        self.built_index = raw

    def known_sha256(self, digest: str) -> None:
        """The digest of ``file`` taken by a pass that read all of it (no second read)."""
        if self._sha256 is None:
            self._sha256 = digest

    def sha256(self) -> str:
        """sha256 of the input's bytes: from the pass that read them, else read for it."""
        scan = self._vcf.scan if getattr(self, "_vcf", None) is not None else None
        if self._sha256 is None and scan is not None and scan.sha256 is not None:
            self._sha256 = scan.sha256
        if self._sha256 is None:
            self._sha256 = sha256_of(self.file)
        return self._sha256

    def _declare(self, vcf: HtsVcf) -> None:
        if id(vcf) in self._declared:
            return
        self._declared.add(id(vcf))
        lines: dict[str, int] = {}
        if self._vcf.scan is not None:
            lines = self._vcf.scan.chroms
            names = list(lines)
        elif self.container.kind == "bgzf-text":
            names = _index_contigs(self.file)
        else:
            return  # BCF headers declare every contig
        have = set(self.header.contigs)
        for name in names:
            if name not in have:
                try:
                    vcf.add_to_header(f"##contig=<ID={name}>")
                except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
                    where = f"line {lines[name]}" if name in lines else None
                    raise InputError(f"CHROM {name[:40]!r} is not a valid contig name for htslib",
                                     path=self.path, where=where) from e

    def query(self, vcf: HtsVcf, regions: Sequence[Region]) -> Iterator[InputRecord]:
        self._declare(vcf)
        count = 0
        previous: dict[str, int] = {}
        for chrom, start, end in regions:
            native = self.header.naming.in_file(chrom) or self._guess_native(chrom)
            if native is None:
                continue
            try:
                it = vcf(f"{native}:{start}-{end}")
            except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
                raise InputError(f"index query failed ({_clean(e)})", path=self.path) from e
            prev_end = previous.get(chrom, 0)
            with warnings.catch_warnings():
                # cyvcf2 warns for every region without records: expected for a panel query
                warnings.filterwarnings("ignore", message="no intervals found", category=UserWarning)
                for rec in self.convert(it, count):
                    count += 1
                    if rec.pos <= prev_end:
                        continue  # already read through the previous region
                    yield rec
            previous[chrom] = end

    _query = query  # the former private name

    def _guess_native(self, chrom: str) -> str | None:
        for name in self._vcf.seqnames or []:
            if chromnames.canonical(name) == chrom:
                return str(name)
        return None

    def convert(self, it: Iterator[HtsRecord], start_index: int) -> Iterator[InputRecord]:
        index = start_index
        if it is not self._vcf and type(it).__name__ == "VCF":
            self._declare(it)  # a temporary VCF made of this file's lines
        while True:
            before = self._vcf.raw
            try:
                v = next(it)
            except StopIteration:
                return
            except InputError:
                raise
            except Exception as e:  # noqa: BLE001 - htslib parse failures
                raise InputError(
                    f"cannot parse record after record {index} ({_clean(e)})", path=self.path
                ) from e
            line = self._vcf.last_line if self._vcf.raw != before else None
            try:
                rec = self._record(v, index, line)
            except Exception as e:  # noqa: BLE001 - odd values must not become tracebacks
                where = f"line {line}" if line is not None else f"record {index + 1}"
                raise InputError(f"cannot read this record ({_clean(e)})", path=self.path,
                                 where=where) from e
            yield rec
            index += 1

    _convert = convert  # the former private name

    def _record(self, v: HtsRecord, index: int, line: int | None) -> InputRecord:
        return to_record(v, index, line, self.header.numbers, self._tumour, self.support, str(self.path))

    def close(self) -> None:
        vcf = getattr(self, "_vcf", None)
        if vcf is not None:
            vcf.close()
        if getattr(self, "_hts_level", None) is not None:
            htslog.hts_log_level(self._hts_level)
            self._hts_level = None


def _index_contigs(path: Path) -> list[str]:
    """Contig names in the tabix/CSI index of a bgzipped VCF (declared to htslib before queries)."""
    import pysam

    try:
        with pysam.TabixFile(str(path)) as tbx:
            return [str(c) for c in tbx.contigs]
    except (OSError, ValueError):
        return []


def _first_line(path: Path) -> str:
    import gzip

    opener: Callable[..., IO[str]] = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", errors="replace") as fh:
            return str(fh.readline(1 << 20))
    except (OSError, EOFError):
        return ""


def _clean(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


