"""One cyvcf2 record -> ``InputRecord``: the only place that reads cyvcf2 record fields."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import MappingProxyType

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
    support_reader: SupportReader | None = None,
) -> InputRecord:
    """One cyvcf2 record as an ``InputRecord`` (``t``: the tumour column, None for sites-only).

    ``support_reader`` is built once per file (``support_reader(header)``); without it one
    is built here, without sample names (no carriage across samples).
    """
    alts = tuple(v.ALT) if v.ALT else ()
    ref = v.REF or ""
    reader = support_reader or SupportReader.from_header(numbers, (), t)
    support = reader.read(v, ref, alts)
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
        info=MappingProxyType(carried) if carried else _NO_INFO,
        format_cn=_first_float(cn_values),
        line=line,
    )


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
