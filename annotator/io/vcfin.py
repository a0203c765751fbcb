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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from annotator import chromnames
from annotator.errors import InputError, UsageError
from annotator.models import ReadSupport
from annotator.readsupport import FieldNumbers, extract

log = logging.getLogger(__name__)

# INFO keys carried through as text: upstream annotations and SV/CNV descriptors.
CARRIED_INFO = (
    "CSQ", "ANN", "EFF", "BCSQ",
    "SVTYPE", "END", "SVLEN", "CN", "CIPOS", "CIEND", "MATEID", "EVENT",
    "FOLD_CHANGE", "FOLD_CHANGE_LOG", "LOG2", "LOG2R", "GENE", "GENES",
)
TUMOUR_NAMES = frozenset({"TUMOR", "TUMOUR"})


@dataclass(frozen=True)
class VcfHeader:
    path: str
    samples: tuple[str, ...]
    tumour_sample: str | None
    tumour_index: int | None
    tumour_reason: str
    contigs: Mapping[str, int | None]
    reference_line: str | None
    numbers: FieldNumbers
    lines: tuple[str, ...]
    indexed: bool
    index_path: str | None
    naming: chromnames.Naming
    total_records_from_index: int | None = None
    assembly_hints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InputRecord:
    index: int  # order in which the record was read (0-based)
    chrom: str  # as written in the file
    pos: int
    id: str
    ref: str
    alts: tuple[str, ...]
    filters: tuple[str, ...]
    qual: float | None
    support: tuple[ReadSupport, ...]  # one per ALT
    info: Mapping[str, str] = field(default_factory=dict)
    format_cn: float | None = None  # FORMAT CN of the tumour sample (CNV callers)

    def where(self) -> str:
        return f"record {self.index + 1} ({self.chrom}:{self.pos})"


def index_for(path: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            return candidate
    return None


def _parse_header_line(line: str) -> dict[str, str]:
    inner = line[line.index("<") + 1 : line.rindex(">")] if "<" in line else ""
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
        try:
            self._vcf = cyvcf2.VCF(str(self.path), gts012=True, lazy=True)
        except (OSError, ValueError, Exception) as e:  # cyvcf2 raises bare Exception
            raise InputError(f"cannot open as VCF/BCF ({_clean(e)})", path=self.path) from e
        self.header = self._read_header(sample)
        self._tumour = self.header.tumour_index
        # records in the file when known (index statistics, or counted by regionscan)
        self.total_records: int | None = self.header.total_records_from_index

    def _read_header(self, sample: str | None) -> VcfHeader:
        raw = self._vcf.raw_header or ""
        lines = tuple(line for line in raw.splitlines() if line)
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
        samples = tuple(self._vcf.samples)
        name, idx, reason = choose_tumour(samples, sample, header_tumour, str(self.path))
        index = index_for(self.path)
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
        if regions is None:
            yield from self._convert(iter(self._vcf), 0)
            return
        if not self.header.indexed:
            from annotator.io.regionscan import unindexed_records

            yield from unindexed_records(self, regions)
            return
        yield from self._query(self._vcf, regions)

    def _query(self, vcf: Any, regions: Sequence[tuple[str, int, int]]) -> Iterator[InputRecord]:
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
        numbers = self.header.numbers
        t = self._tumour
        while True:
            try:
                v = next(it)
            except StopIteration:
                return
            except Exception as e:  # noqa: BLE001 - htslib parse failures
                raise InputError(
                    f"cannot parse record after record {index} ({_clean(e)})", path=self.path
                ) from e
            alts = tuple(v.ALT) if v.ALT else ()
            ref = v.REF or ""
            fmt = _format_getter(v, t)
            info = _info_getter(v)
            support = tuple(
                extract(fmt, info, ref, a, i + 1, numbers) for i, a in enumerate(alts)
            )
            filters = tuple(v.FILTERS or ())
            carried: dict[str, str] = {}
            for key in CARRIED_INFO:
                val = info(key)
                if val is not None:
                    carried[key] = _text(val)
            cn_values = fmt("CN") if t is not None else ()
            qual = v.QUAL
            yield InputRecord(
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
            )
            index += 1

    def close(self) -> None:
        self._vcf.close()


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


def _info_getter(v: Any) -> Any:
    def get(name: str) -> Any:
        try:
            return v.INFO.get(name)
        except Exception:  # noqa: BLE001 - malformed INFO values
            return None

    return get
