"""What the VCF reader yields: the parsed header and one record per input line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from annotator.core import chromnames
from annotator.core.models import ReadSupport
from annotator.io.readsupport import FieldNumbers

if TYPE_CHECKING:
    import cyvcf2

# cyvcf2's classes, named here once (it ships no type stubs: mypy sees them unchecked)
HtsVcf: TypeAlias = "cyvcf2.VCF"  # (or annotator.io.vcfcheck.SafeVcf, which delegates to one)
HtsRecord: TypeAlias = "cyvcf2.Variant"


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
    # the matched normal when the header or the sample names make it recognisable
    normal_sample: str | None = None
    normal_index: int | None = None


class InputRecord(NamedTuple):
    """One VCF record as the reader hands it on (immutable).

    A named tuple, not a frozen dataclass: the reader makes one per record, and a
    frozen dataclass of these 12 fields takes ~2 us to build (one ``object.__setattr__``
    per field), a tenth of the whole per-record cost of a panel-dense file.
    """

    index: int  # type: ignore[assignment]  # (shadows tuple.index) order read, 0-based
    chrom: str  # as written in the file
    pos: int
    id: str
    ref: str
    alts: tuple[str, ...]
    filters: tuple[str, ...]
    qual: float | None
    support: Sequence[ReadSupport]  # one per ALT (io.vcfrecord.LazySupport: read when used)
    info: Mapping[str, str] = MappingProxyType({})
    format_cn: float | None = None  # FORMAT CN of the tumour sample (CNV callers)
    line: int | None = None  # line number in a text VCF read from the start

    def where(self) -> str:
        if self.line is not None:
            return f"line {self.line} (record {self.index + 1}, {self.chrom}:{self.pos})"
        return f"record {self.index + 1} ({self.chrom}:{self.pos})"
