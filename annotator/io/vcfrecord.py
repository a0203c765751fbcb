"""One cyvcf2 record -> ``InputRecord``: the only place that reads cyvcf2 record fields."""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from annotator.io.readsupport import FieldNumbers, FormatGetter, InfoGetter, extract
from annotator.io.vcfmodel import HtsRecord, InputRecord

# INFO keys carried through as text: upstream annotations and SV/CNV descriptors.
CARRIED_INFO = (
    "CSQ", "ANN", "EFF", "BCSQ",
    "SVTYPE", "END", "SVLEN", "CN", "CIPOS", "CIEND", "MATEID", "EVENT",
    "FOLD_CHANGE", "FOLD_CHANGE_LOG", "LOG2", "LOG2R", "GENE", "GENES",
    "CHR2", "CT", "INV3", "INV5", "SVINSSEQ",
)

def to_record(
    v: HtsRecord, index: int, line: int | None, numbers: FieldNumbers, t: int | None
) -> InputRecord:
    """One cyvcf2 record as an ``InputRecord`` (``t``: the tumour column, None for sites-only)."""
    alts = tuple(v.ALT) if v.ALT else ()
    ref = v.REF or ""
    fmt = _format_getter(v, t)
    info = _info_getter(v)
    support = tuple(extract(fmt, info, ref, a, i + 1, numbers) for i, a in enumerate(alts))
    filters = tuple(v.FILTERS or ())
    carried: dict[str, str] = {}
    for key in CARRIED_INFO:
        val = info(key)
        if val is not None:
            carried[key] = _text(val)
    cn_values = fmt("CN") if t is not None else ()
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


def _format_getter(v: HtsRecord, t: int | None) -> FormatGetter:
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


def _info_getter(v: HtsRecord) -> InfoGetter:
    def get(name: str) -> Any:
        try:
            return v.INFO.get(name)
        except Exception:  # noqa: BLE001 - malformed INFO values
            return None

    return get
