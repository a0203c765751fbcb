"""One cyvcf2 record -> ``InputRecord``: the only place that reads cyvcf2 record fields."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import overload

from annotator.core.models import ReadSupport
from annotator.errors import InputError
from annotator.io.readsupport import FieldNumbers, SupportReader
from annotator.io.vcfmodel import HtsRecord, InputRecord, VcfHeader

# INFO keys carried through as text: upstream annotations and SV/CNV descriptors.
CARRIED_INFO = (
    "CSQ", "ANN", "EFF", "BCSQ",
    "SVTYPE", "END", "SVLEN", "CN", "CIPOS", "CIEND", "MATEID", "EVENT",
    "FOLD_CHANGE", "FOLD_CHANGE_LOG", "LOG2", "LOG2R", "GENE", "GENES",
    "CHR2", "CT", "INV3", "INV5", "SVINSSEQ",
)
_CARRIED = frozenset(CARRIED_INFO)
_NO_INFO: MappingProxyType[str, str] = MappingProxyType({})  # read-only: one shared for records without
FormatGetter = Callable[[str], Sequence[float | str]]
InfoGetter = Callable[[str], object]  # a cyvcf2 INFO value (None: absent), only str()'d


def support_reader(header: VcfHeader) -> SupportReader:
    """Read-support extractor for this header, with the normal column the header names
    (``annotator.io.samplehints``)."""
    return SupportReader.from_header(header.numbers, header.samples, header.tumour_index,
                                     header.normal_index)


def to_record(
    v: HtsRecord, index: int, line: int | None, numbers: FieldNumbers, t: int | None,
    support_reader: SupportReader | None = None, path: str | None = None,
) -> InputRecord:
    """One cyvcf2 record as an ``InputRecord`` (``t``: the tumour column, None for sites-only).

    ``support_reader`` is built once per file (``support_reader(header)``); without it one
    is built here, without sample names (no carriage across samples). The read support
    and the carried INFO are read from ``v`` when first asked for (``LazySupport``,
    ``LazyInfo``): most records of a panel-dense file need neither; a fault found then is
    an ``InputError`` naming ``path`` and the record, as one found now would be.
    """
    alts = tuple(v.ALT) if v.ALT else ()
    ref = v.REF or ""
    reader = support_reader or SupportReader.from_header(numbers, (), t)
    cn_values = _format_getter(v, t)("CN") if t is not None and "CN" in numbers.format else ()
    qual = v.QUAL
    support = LazySupport(reader, v, ref, alts, path, index, line)
    return InputRecord(
        index, v.CHROM, v.POS, v.ID or ".", ref, alts, tuple(v.FILTERS or ()),
        None if qual is None or (isinstance(qual, float) and math.isnan(qual)) else qual,
        support, LazyInfo(support), _first_float(cn_values), line,
    )


def _error(path: str | None, index: int, line: int | None, what: str, e: Exception) -> InputError:
    """The error a deferred read raises, naming the file and record (as ``VcfSource`` would)."""
    where = f"line {line}" if line is not None else f"record {index + 1}"
    text = " ".join(str(e).split()) or type(e).__name__
    return InputError(f"cannot read this record's {what} ({text})", path=path, where=where)


class LazySupport(Sequence[ReadSupport]):
    """The record's ``ReadSupport`` per ALT, read from the cyvcf2 record on first use.

    Safe after the reader is closed: a cyvcf2 ``Variant`` owns its record and holds its
    ``VCF``, whose header lives until both are gone (61 bundled and external files read
    the same support before and after ``close``).
    """

    __slots__ = ("_reader", "v", "_ref", "_alts", "_path", "_index", "_line", "_values")

    def __init__(self, reader: SupportReader, v: HtsRecord, ref: str, alts: tuple[str, ...],
                 path: str | None, index: int, line: int | None) -> None:
        self._reader, self.v, self._ref, self._alts = reader, v, ref, alts
        self._path, self._index, self._line = path, index, line  # named by a deferred error
        self._values: tuple[ReadSupport, ...] | None = None

    def error(self, what: str, e: Exception) -> InputError:
        return _error(self._path, self._index, self._line, what, e)

    def _read(self) -> tuple[ReadSupport, ...]:
        if self._values is None:
            try:
                self._values = self._reader.read(self.v, self._ref, self._alts)
            except InputError:
                raise
            except Exception as e:  # noqa: BLE001 - odd values must not become tracebacks
                raise self.error("read support", e) from e
        return self._values

    def __len__(self) -> int:
        return len(self._alts)  # ``read`` gives one per ALT

    @overload
    def __getitem__(self, i: int) -> ReadSupport: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ReadSupport]: ...
    def __getitem__(self, i: int | slice) -> ReadSupport | Sequence[ReadSupport]:
        return self._read()[i]

    def __iter__(self) -> Iterator[ReadSupport]:
        return iter(self._read())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like the tuple it stands for, compared by value

    def __repr__(self) -> str:
        return repr(self._read())

    def shows_alt_reads(self, i: int) -> bool:
        """Does the sample's AD show reads of ALT ``i`` (0-based), read from the AD cell alone
        (no support built)? False: unknown without reading the support."""
        if self._values is not None:
            return False
        try:
            return self._reader.has_alt_reads(self.v, i + 1, len(self._alts))
        except Exception as e:  # noqa: BLE001 - odd values must not become tracebacks
            raise self.error("read support", e) from e


def allele_not_carried(support: Sequence[ReadSupport], i: int) -> bool:
    """Is ALT ``i`` (0-based) one the sample does not carry while another sample does?"""
    if isinstance(support, LazySupport) and support.shows_alt_reads(i):
        return False  # reads of it: carried (what ``SupportReader.read`` would say)
    s = support[i] if i < len(support) else None
    return s is not None and s.carried is False and bool(s.carried_by)


class LazyInfo(Mapping[str, str]):
    """The record's ``CARRIED_INFO`` keys as text, read from the cyvcf2 record on first use."""

    __slots__ = ("_of", "_values")

    def __init__(self, of: LazySupport) -> None:
        self._of = of  # the same record's support: its cyvcf2 record and where it was read
        self._values: Mapping[str, str] | None = None

    def _read(self) -> Mapping[str, str]:
        if self._values is None:
            of = self._of
            try:
                carried = _carried_info(of.v)
            except Exception as e:  # noqa: BLE001 - odd values must not become tracebacks
                raise of.error("INFO", e) from e
            self._values = MappingProxyType(carried) if carried else _NO_INFO
        return self._values

    def __getitem__(self, key: str) -> str:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return repr(dict(self._read()))


def _text(val: object) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    if isinstance(val, (tuple, list)):
        return ",".join(_text(x) for x in val)
    if isinstance(val, bytes):
        return val.decode("utf-8", "replace")
    return str(val)


def _first_float(values: Sequence[float | str]) -> float | None:
    for x in values:
        try:
            f = float(x)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(f) or f <= -2147483647 else f
    return None


def _format_getter(v: HtsRecord, t: int | None) -> FormatGetter:
    def get(name: str) -> Sequence[float | str]:
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


def _carried_info(v: HtsRecord) -> dict[str, str]:
    """The CARRIED_INFO keys present in the record: one pass over its INFO (a few keys)
    instead of 23 look-ups, each of which would rebuild ``v.INFO``."""
    carried: dict[str, str] = {}
    try:
        for key, val in v.INFO:
            if key in _CARRIED and val is not None:
                carried[key] = _text(val)
    except Exception:  # noqa: BLE001 - malformed INFO values: keep what one-by-one reading gives
        carried = {}
        info = _info_getter(v)
        for key in CARRIED_INFO:
            val = info(key)
            if val is not None:
                carried[key] = _text(val)
    if not carried:
        return carried  # most records of a caller's VCF carry none of these keys
    return {k: carried[k] for k in CARRIED_INFO if k in carried}


def _info_getter(v: HtsRecord) -> InfoGetter:
    try:
        info = v.INFO  # fetched once: each v.INFO builds a new object
    except Exception:  # noqa: BLE001 - malformed INFO values
        return lambda name: None

    def get(name: str) -> object:
        try:
            return info.get(name)
        except Exception:  # noqa: BLE001 - malformed INFO values
            return None

    return get
