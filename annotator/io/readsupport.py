"""Tumour read support (alt reads, depth, VAF) from whatever the caller wrote.

Callers disagree on where they put read counts.  ``extract`` tries the
sources below in order and records which one it used.  A value the caller
did not write stays ``None``; it is never turned into 0.

=====================  ==================================================
source label            fields
=====================  ==================================================
Strelka2:SNV-tier1      FORMAT AU/CU/GU/TU (first = tier-1 count)
Strelka2:indel-tier1    FORMAT TIR/TAR (first = tier-1 count)
VarScan:FREQ/RD/AD      FORMAT FREQ ("12.5%"), RD (ref), AD (alt, Number=1), DP
VarDict:AF/VD/DP        FORMAT VD (alt), DP, AF
FreeBayes:RO/AO         FORMAT RO, AO (Number=A), DP
PCGR:ADT/DPT            FORMAT ADT (ref,alt), DPT
FORMAT:AD/DP/AF         FORMAT AD (Number=R) with DP and AF/VF when present
                        (Mutect2, SAGE, GATK, MuSE, RADIA, DRAGEN, TSO500)
INFO:TVAF/TDP           INFO TVAF, TDP (PCGR, tumour-only pipelines)
INFO:AF/DP              INFO AF/DP, only when INFO has no AN (AF from AC/AN
                        is a genotype frequency, not a VAF)
=====================  ==================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from annotator.core.models import ReadSupport

# getter(name) -> list of values for the chosen sample ([] when absent/missing)
FormatGetter = Callable[[str], Sequence[Any]]
InfoGetter = Callable[[str], Any]


@dataclass(frozen=True)
class FieldNumbers:
    """``Number=`` of FORMAT and INFO fields, from the header (R, A, 1, ., ...)."""

    format: Mapping[str, str]
    info: Mapping[str, str]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, str):
        v = v.strip()
        if v in ("", "."):
            return None
        pct = v.endswith("%")
        try:
            f = float(v.rstrip("%"))
        except ValueError:
            return None
        return f / 100.0 if pct else f
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    # cyvcf2 marks missing integers with INT32_MIN (and vector end with MIN+1)
    if math.isnan(f) or f <= -2147483647:
        return None
    return f


def _int(v: Any) -> int | None:
    f = _num(v)
    return None if f is None else int(round(f))


def _at(values: Sequence[Any], i: int) -> Any:
    return values[i] if 0 <= i < len(values) else None


def _vaf(alt: int | None, depth: int | None) -> float | None:
    if alt is None or depth is None or depth <= 0:
        return None
    return alt / depth


def _per_allele(values: Sequence[Any], number: str | None, allele: int) -> Any:
    """Value for ALT ``allele`` (1-based) of a field with header ``Number``."""
    if number == "R":
        return _at(values, allele)
    if number == "A" or len(values) > 1:
        return _at(values, allele - 1)
    return _at(values, 0)


def extract(
    fmt: FormatGetter,
    info: InfoGetter,
    ref: str,
    alt: str,
    allele: int,
    numbers: FieldNumbers,
) -> ReadSupport:
    """Read support for ALT ``allele`` (1-based index in the input record)."""
    for fn in (_strelka, _varscan, _vardict, _freebayes, _pcgr, _ad):
        rs = fn(fmt, ref, alt, allele, numbers)
        if rs is not None:
            return rs
    return _info(info, allele, numbers)


def _strelka(
    fmt: FormatGetter, ref: str, alt: str, allele: int, numbers: FieldNumbers
) -> ReadSupport | None:
    tir, tar = fmt("TIR"), fmt("TAR")
    if tir and tar:
        a, r = _int(_at(tir, 0)), _int(_at(tar, 0))
        if a is None or r is None:
            return ReadSupport(source="Strelka2:indel-tier1")
        return ReadSupport(_vaf(a, a + r), a + r, a, "Strelka2:indel-tier1")
    if len(ref) == 1 and len(alt) == 1 and fmt("AU"):
        counts = {b: _int(_at(fmt(f"{b}U"), 0)) for b in "ACGT"}
        a, r = counts.get(alt.upper()), counts.get(ref.upper())
        if a is None or r is None:
            return ReadSupport(source="Strelka2:SNV-tier1")
        return ReadSupport(_vaf(a, a + r), a + r, a, "Strelka2:SNV-tier1")
    return None


def _varscan(
    fmt: FormatGetter, ref: str, alt: str, allele: int, numbers: FieldNumbers
) -> ReadSupport | None:
    freq = fmt("FREQ")
    if not freq:
        return None
    vaf = _num(_per_allele(freq, numbers.format.get("FREQ"), allele))
    a = _int(_per_allele(fmt("AD"), numbers.format.get("AD"), allele))
    r = _int(_at(fmt("RD"), 0))
    depth = _int(_at(fmt("DP"), 0))
    if depth is None and a is not None and r is not None:
        depth = a + r
    return ReadSupport(vaf, depth, a, "VarScan:FREQ/RD/AD")


def _vardict(
    fmt: FormatGetter, ref: str, alt: str, allele: int, numbers: FieldNumbers
) -> ReadSupport | None:
    vd = fmt("VD")
    if not vd:
        return None
    a = _int(_at(vd, 0))
    depth = _int(_at(fmt("DP"), 0))
    vaf = _num(_per_allele(fmt("AF"), numbers.format.get("AF"), allele))
    if vaf is None:
        vaf = _vaf(a, depth)
    return ReadSupport(vaf, depth, a, "VarDict:AF/VD/DP")


def _freebayes(
    fmt: FormatGetter, ref: str, alt: str, allele: int, numbers: FieldNumbers
) -> ReadSupport | None:
    ao, ro = fmt("AO"), fmt("RO")
    if not ao or not ro:
        return None
    a = _int(_at(ao, allele - 1))
    r = _int(_at(ro, 0))
    alts = [_int(x) for x in ao]
    total = None if r is None or any(x is None for x in alts) else r + sum(x or 0 for x in alts)
    depth = _int(_at(fmt("DP"), 0))
    return ReadSupport(_vaf(a, total), depth if depth is not None else total, a, "FreeBayes:RO/AO")


def _pcgr(
    fmt: FormatGetter, ref: str, alt: str, allele: int, numbers: FieldNumbers
) -> ReadSupport | None:
    adt = fmt("ADT")
    if not adt:
        return None
    a = _int(_at(adt, allele))
    depth = _int(_at(fmt("DPT"), 0))
    counts = [_int(x) for x in adt]
    if depth is None and all(c is not None for c in counts):
        depth = sum(c or 0 for c in counts)
    return ReadSupport(_vaf(a, depth), depth, a, "PCGR:ADT/DPT")


def _ad(
    fmt: FormatGetter, ref: str, alt: str, allele: int, numbers: FieldNumbers
) -> ReadSupport | None:
    ad = fmt("AD")
    if not ad:
        return None
    number = numbers.format.get("AD", "R")
    counts = [_int(x) for x in ad]
    if number == "R" or len(counts) > 1:
        a = _at(counts, allele)
        ad_total = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    else:  # Number=1 / A alt-only AD (rare outside VarScan)
        a = _at(counts, allele - 1)
        ad_total = None
    depth = _int(_at(fmt("DP"), 0))
    vaf: float | None = None
    for tag in ("AF", "VF"):
        values = fmt(tag)
        if values:
            vaf = _num(_per_allele(values, numbers.format.get(tag), allele))
            if vaf is not None:
                break
    if vaf is None:
        vaf = _vaf(a, ad_total)
    if depth is None:
        depth = ad_total
    return ReadSupport(vaf, depth, a, "FORMAT:AD/DP/AF")


def _info(info: InfoGetter, allele: int, numbers: FieldNumbers) -> ReadSupport:
    tvaf = info("TVAF")
    if tvaf is not None:
        vaf = _num(_per_allele(_as_list(tvaf), numbers.info.get("TVAF"), allele))
        depth = _int(info("TDP"))
        # the caller wrote no alt count; vaf*depth would be a guess, so leave it missing
        return ReadSupport(vaf, depth, None, "INFO:TVAF/TDP")
    af = info("AF")
    if af is not None and info("AN") is None:
        vaf = _num(_per_allele(_as_list(af), numbers.info.get("AF"), allele))
        depth = _int(info("DP"))
        return ReadSupport(vaf, depth, None, "INFO:AF/DP")
    return ReadSupport()


def _as_list(v: Any) -> Sequence[Any]:
    if isinstance(v, (list, tuple)):
        return v
    if isinstance(v, str) and "," in v:
        return v.split(",")
    return [v]
