"""Reading VCF/BCF (plain, bgzipped, BCF) with cyvcf2.

Produces ``InputRecord`` values that hold everything later stages need, so
no other module touches cyvcf2 objects.  With a ``.tbi``/``.csi`` index only
the requested regions are read.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from annotator.core import chromnames
from annotator.errors import InputError, UsageError
from annotator.io import vcfcheck
from annotator.io.readsupport import FieldNumbers, SupportReader, normal_from_lines
from annotator.io.vcfmodel import InputRecord, VcfHeader

log = logging.getLogger(__name__)

# INFO keys carried through as text: upstream annotations and SV/CNV descriptors.
CARRIED_INFO = (
    "CSQ", "ANN", "EFF", "BCSQ",
    "SVTYPE", "END", "SVLEN", "CN", "CIPOS", "CIEND", "MATEID", "EVENT",
    "FOLD_CHANGE", "FOLD_CHANGE_LOG", "LOG2", "LOG2R", "GENE", "GENES",
    "CHR2", "CT", "INV3", "INV5", "SVINSSEQ",
)
_CARRIED = frozenset(CARRIED_INFO)
TUMOUR_NAMES = frozenset({"TUMOR", "TUMOUR"})


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
    """Pick the tumour column: --sample, ##tumor_sample, the only sample, a TUMOR column."""
    if requested is not None:
        if requested not in samples:
            listed = ", ".join(samples) if samples else "none (sites-only VCF)"
            raise UsageError(
                f"sample {requested!r} is not in the header; samples are: {listed}", path=path
            )
        return requested, samples.index(requested), "--sample"
    if not samples:
        return None, None, "sites-only VCF (no sample columns)"
    if header_tumour and header_tumour in samples:
        return header_tumour, samples.index(header_tumour), "##tumor_sample header"
    if len(samples) == 1:
        return samples[0], 0, "only sample in the file"
    named = [s for s in samples if s.upper() in TUMOUR_NAMES]
    if len(named) == 1:
        return named[0], samples.index(named[0]), "column named TUMOR"
    raise UsageError(
        f"{len(samples)} samples and no ##tumor_sample header; choose one with --sample "
        f"(samples: {', '.join(samples)})",
        path=path,
    )


class VcfSource:
    """An open VCF/BCF file with its parsed header."""

    def __init__(self, path: str | Path, sample: str | None = None) -> None:
        import cyvcf2

        self.path = Path(path)
        if not self.path.exists():
            raise InputError("file not found", path=self.path)
        if self.path.is_dir():
            raise InputError("is a directory, not a VCF/BCF file", path=self.path)
        self.container = vcfcheck.sniff(self.path)
        if self.path.name.lower().endswith(".bcf") and self.container.text:
            log.warning("%s: named .bcf but holds text VCF; reading it as VCF", self.path)
        if self.container.text:
            vcfcheck.scan_text(self.path, self.container, set(), header_only=True)
        self._hts_level: int | None = None
        captured: list[str] = []
        try:
            with vcfcheck.captured_stderr(captured):
                vcf = cyvcf2.VCF(str(self.path), gts012=True, lazy=True)
            self._vcf = vcfcheck.SafeVcf(vcf, self.path, self.container)
        except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
            why = vcfcheck.htslib_message(captured) or _clean(e).replace(str(self.path), "it")
            if "is not valid bcf or vcf" in why:
                why = "htslib does not recognise the content as VCF or BCF"
                if self.container.text and _first_line(self.path).startswith("#CHROM"):
                    why += " (the file has no ##fileformat line; add '##fileformat=VCFv4.2' as line 1)"
            raise InputError(f"htslib cannot read this file: {why}", path=self.path) from e
        for line in captured[:5]:
            log.info("%s: htslib: %s", self.path, line)
        if not log.isEnabledFor(logging.DEBUG):
            # htslib would print warnings for every odd record; resmark reports faults itself
            self._hts_level = vcfcheck.hts_log_level(vcfcheck.HTS_LOG_OFF)
        try:
            self.header = self._read_header(sample)
        except BaseException:
            self.close()
            raise
        self._tumour = self.header.tumour_index
        self.support = _support_reader(self.header)
        log.debug("%s: read support from %s", self.path, self.support.describe())
        self._declared: set[int] = set()
        # records in the file when known (index statistics, or counted by regionscan)
        self.total_records: int | None = self.header.total_records_from_index

    def _read_header(self, sample: str | None) -> VcfHeader:
        raw = self._vcf.raw_header or ""
        # "\n" only: str.splitlines() would also split at form feeds and other controls
        lines = tuple(line.rstrip("\r") for line in raw.split("\n") if line)
        if not lines or not lines[-1].startswith("#CHROM"):
            raise InputError("no #CHROM header line; is this a VCF?", path=self.path)
        contigs: dict[str, int | None] = {}
        reference_line = None
        header_tumour = None
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
            elif line.startswith("##tumor_sample="):
                header_tumour = line.split("=", 1)[1].strip()
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
        name, idx, reason = choose_tumour(samples, sample, header_tumour, str(self.path))
        index = usable_index(self.path, self.container)
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
            tumour_sample=name,
            tumour_index=idx,
            tumour_reason=reason,
            contigs=MappingProxyType(contigs),
            reference_line=reference_line,
            numbers=FieldNumbers(MappingProxyType(fmt_numbers), MappingProxyType(info_numbers)),
            lines=lines,
            indexed=index is not None,
            index_path=str(index) if index else None,
            naming=chromnames.Naming.from_contigs(names),
            total_records_from_index=total,
            assembly_hints=tuple(hints),
        )

    def records(
        self, regions: Sequence[tuple[str, int, int]] | None = None
    ) -> Iterator[InputRecord]:
        """All records, or only those overlapping ``regions``.

        ``regions`` are canonical (chrom, start, end), 1-based inclusive,
        sorted and non-overlapping; records spanning two regions are read once.
        Without an index, ``annotator.io.regionscan`` skips the other records
        without parsing them (and sets ``total_records``).
        """
        if self.container.text and regions is None:
            self._scan_all()
        if regions is None:
            yield from self._convert(iter(self._vcf), 0)
            return
        if not self.header.indexed:
            from annotator.io.regionscan import unindexed_records

            # runs _scan_all() itself wherever htslib will parse every line
            yield from unindexed_records(self, regions)
            return
        yield from self._query(self._vcf, regions)

    def _scan_all(self) -> None:
        """Check every line of a text VCF, then declare its contigs to htslib.

        htslib builds broken records from a bad line whose contig the header
        does not declare; once every contig is declared it reports the fault.
        """
        if self._vcf.scan is None:
            self._vcf.scan = vcfcheck.scan_text(self.path, self.container, set(self.header.contigs))
            self._declare(self._vcf)

    def _declare(self, vcf: Any) -> None:
        if id(vcf) in self._declared:
            return
        self._declared.add(id(vcf))
        lines: dict[str, int] = {}
        if self._vcf.scan is not None:
            lines = self._vcf.scan.chroms
            names = list(lines)
        elif self.container.kind == "bgzf-text":
            names = _index_contigs(self.path)
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

    def _query(self, vcf: Any, regions: Sequence[tuple[str, int, int]]) -> Iterator[InputRecord]:
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
                for rec in self._convert(it, count):
                    count += 1
                    if rec.pos <= prev_end:
                        continue  # already read through the previous region
                    yield rec
            previous[chrom] = end

    def _guess_native(self, chrom: str) -> str | None:
        for name in self._vcf.seqnames or []:
            if chromnames.canonical(name) == chrom:
                return str(name)
        return None

    def _convert(self, it: Iterator[Any], start_index: int) -> Iterator[InputRecord]:
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

    def _record(self, v: Any, index: int, line: int | None) -> InputRecord:
        numbers = self.header.numbers
        t = self._tumour
        alts = tuple(v.ALT) if v.ALT else ()
        ref = v.REF or ""
        # the read-support extractor was chosen once from the header (annotator.io.readsupport)
        support = self.support.read(v, ref, alts)
        filters = tuple(v.FILTERS or ())
        carried = _carried_info(v)
        cn_values = _format_getter(v, t)("CN") if t is not None and "CN" in numbers.format else ()
        qual = v.QUAL
        return InputRecord(
            index=index,
            chrom=v.CHROM,
            pos=v.POS,
            id=v.ID or ".",
            ref=ref,
            alts=alts,
            filters=filters,
            qual=None if qual is None or (isinstance(qual, float) and math.isnan(qual)) else qual,
            support=support,
            info=MappingProxyType(carried),
            format_cn=_first_float(cn_values),
            line=line,
        )

    def close(self) -> None:
        vcf = getattr(self, "_vcf", None)
        if vcf is not None:
            vcf.close()
        if getattr(self, "_hts_level", None) is not None:
            vcfcheck.hts_log_level(self._hts_level)
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

    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", errors="replace") as fh:
            return str(fh.readline())
    except (OSError, EOFError):
        return ""


def _clean(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _text(val: Any) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, (tuple, list)):
        return ",".join(_text(x) for x in val)
    if isinstance(val, bytes):
        return val.decode("utf-8", "replace")
    return str(val)


def _first_float(values: Sequence[Any]) -> float | None:
    for x in values:
        try:
            f = float(x)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(f) or f <= -2147483647 else f
    return None


def _format_getter(v: Any, t: int | None) -> Any:
    def get(name: str) -> Sequence[Any]:
        if t is None:
            return ()
        try:
            arr = v.format(name)
        except Exception:  # noqa: BLE001 - cyvcf2 raises on undeclared tags
            return ()
        if arr is None:
            return ()
        row = arr[t]
        if isinstance(row, (str, bytes)):
            text = row.decode() if isinstance(row, bytes) else row
            return [x for x in text.split(",")] if text not in ("", ".") else ()
        values = list(row.tolist()) if hasattr(row, "tolist") else [row]
        if len(values) == 1 and isinstance(values[0], (str, bytes)):
            text = values[0].decode() if isinstance(values[0], bytes) else values[0]
            return text.split(",") if text not in ("", ".") else ()
        return [x for x in values if not (isinstance(x, int) and x == -2147483647)]

    return get


def _carried_info(v: Any) -> dict[str, str]:
    """The CARRIED_INFO keys present in the record: one pass over its INFO (a few keys)
    instead of 23 look-ups, each of which would rebuild ``v.INFO``."""
    carried: dict[str, str] = {}
    try:
        items = iter(v.INFO)
        for key, val in items:
            if key in _CARRIED and val is not None:
                carried[key] = _text(val)
    except Exception:  # noqa: BLE001 - malformed INFO values: keep what one-by-one reading gives
        carried = {}
        info = _info_getter(v)
        for key in CARRIED_INFO:
            val = info(key)
            if val is not None:
                carried[key] = _text(val)
    return {k: carried[k] for k in CARRIED_INFO if k in carried}


def _info_getter(v: Any) -> Any:
    try:
        info = v.INFO  # fetched once per record: each v.INFO builds a new object
    except Exception:  # noqa: BLE001 - malformed INFO values
        return lambda name: None

    def get(name: str) -> Any:
        try:
            return info.get(name)
        except Exception:  # noqa: BLE001 - malformed INFO values
            return None

    return get


def _support_reader(header: VcfHeader) -> SupportReader:
    """Read-support extractor for this header; the normal column from the header model
    when it names one, else from a ``##normal_sample`` line."""
    normal = getattr(header, "normal_index", None)
    if normal is None:
        normal = normal_from_lines(header.lines, header.samples, header.tumour_index)
    return SupportReader.from_header(header.numbers, header.samples, header.tumour_index, normal)
