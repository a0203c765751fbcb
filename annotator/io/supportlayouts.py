"""Callers' read-support layouts: which FORMAT/INFO fields each caller writes and
how they give alt reads, ref reads, depth and VAF (the table is in ``annotator.io.readsupport``,
which chooses among these once per header)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from annotator.core.models import ReadSupport

Value = int | float | str | None
Getter = Callable[[str], Sequence[Value]]  # tag -> values of one sample ([] when absent)
INT_MISSING = -2147483648
INT_VECTOR_END = -2147483647


@dataclass(frozen=True)
class FieldNumbers:
    """``Number=`` of FORMAT and INFO fields, from the header (R, A, 1, ., ...)."""

    format: Mapping[str, str]
    info: Mapping[str, str]


# -- value conversion -----------------------------------------------------------------
def _num(v: Value | bytes) -> float | None:
    if type(v) is float:  # most values: htslib floats (NaN is missing)
        return None if v != v or v <= INT_VECTOR_END else v
    if type(v) is int:
        return None if v <= INT_VECTOR_END else float(v)
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
    if math.isnan(f) or f <= INT_VECTOR_END:
        return None
    return f


def _int(v: Value | bytes) -> int | None:
    if type(v) is int:  # htslib int32 values: int(round(float(v))) is v itself
        return None if v <= INT_VECTOR_END else v
    f = _num(v)
    return None if f is None or math.isinf(f) else int(round(f))


def split_text(text: str) -> list[Value]:
    return [None if x in ("", ".") else x for x in text.split(",")] if text not in ("", ".") else []


T = TypeVar("T")


def _at(values: Sequence[T], i: int) -> T | None:
    return values[i] if 0 <= i < len(values) else None


def _allele(values: Sequence[Value], number: str | None, i: int, n_alts: int) -> Value:
    """Value for ALT ``i`` (1-based) of a field with header ``Number``.

    ``Number=.`` fields are read by their length: n_alts + 1 values are per
    allele including REF (RADIA's AF), n_alts values per ALT.
    """
    if not values:
        return None
    if number == "R":
        return _at(values, i)
    if number == "A":
        return _at(values, i - 1)
    if len(values) == n_alts + 1 and number != "1":
        return _at(values, i)
    if len(values) == n_alts and (n_alts > 1 or number != "1" or len(values) == 1):
        return _at(values, i - 1)
    return None


def _ratio(alt: int | None, depth: int | None) -> float | None:
    if alt is None or depth is None or depth <= 0:
        return None
    return alt / depth


def _fields(**parts: str | None) -> str | None:
    return _fields_text(tuple(parts.items()))


@functools.lru_cache(maxsize=4096)
def _fields_text(parts: tuple[tuple[str, str | None], ...]) -> str | None:
    # the same few descriptions repeat on every record: a pure function, memoised
    text = "; ".join(f"{k}={v}" for k, v in parts if v)
    return text or None


# -- FORMAT layouts -------------------------------------------------------------------
ReadFn = Callable[[Getter, str, str, int, int, FieldNumbers], "ReadSupport | None"]


@dataclass(frozen=True)
class Layout:
    label: str
    needs: frozenset[str]  # all must be declared (header) and present (record)
    uses: tuple[str, ...]  # also read when present
    read: ReadFn

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted(self.needs)) + self.uses


def _strelka_snv(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    r_b, a_b = ref.upper(), alt.upper()
    if len(r_b) != 1 or len(a_b) != 1 or r_b not in "ACGT" or a_b not in "ACGT":
        return None
    a, r = _int(_at(g(f"{a_b}U"), 0)), _int(_at(g(f"{r_b}U"), 0))
    label = "Strelka2:SNV-tier1"
    if a is None or r is None:
        return ReadSupport(source=label)
    return ReadSupport(_ratio(a, a + r), a + r, a, label, r, _fields(
        alt=f"FORMAT/{a_b}U[tier1]", ref=f"FORMAT/{r_b}U[tier1]", depth="alt+ref", vaf="alt/depth"))


def _strelka_indel(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    a, r = _int(_at(g("TIR"), 0)), _int(_at(g("TAR"), 0))
    label = "Strelka2:indel-tier1"
    if a is None or r is None:
        return ReadSupport(source=label)
    return ReadSupport(_ratio(a, a + r), a + r, a, label, r, _fields(
        alt="FORMAT/TIR[tier1]", ref="FORMAT/TAR[tier1]", depth="alt+ref", vaf="alt/depth"))


_CAVEMAN = tuple(f"{d}{b}Z" for d in "FR" for b in "ACGT")


def _caveman(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    r_b, a_b = ref.upper(), alt.upper()
    if len(r_b) != 1 or len(a_b) != 1 or r_b not in "ACGT" or a_b not in "ACGT":
        return None
    counts = {t: _int(_at(g(t), 0)) for t in _CAVEMAN}
    if any(c is None for c in counts.values()):
        return ReadSupport(source="CaVEMan:allele-counts")
    a = (counts[f"F{a_b}Z"] or 0) + (counts[f"R{a_b}Z"] or 0)
    r = (counts[f"F{r_b}Z"] or 0) + (counts[f"R{r_b}Z"] or 0)
    depth = sum(c or 0 for c in counts.values())
    pm = _num(_at(g("PM"), 0))
    return ReadSupport(pm if pm is not None else _ratio(a, depth), depth, a, "CaVEMan:allele-counts", r,
                       _fields(alt=f"FORMAT/F{a_b}Z+R{a_b}Z", ref=f"FORMAT/F{r_b}Z+R{r_b}Z",
                               depth="FORMAT/F*Z+R*Z", vaf="FORMAT/PM" if pm is not None else "alt/depth"))


def _varscan(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    vaf = _num(_allele(g("FREQ"), nb.format.get("FREQ"), i, n))
    a = _int(_allele(g("AD"), nb.format.get("AD"), i, n))
    r = _int(_at(g("RD"), 0))
    depth = _int(_at(g("DP"), 0))
    dsrc = "FORMAT/DP"
    if depth is None and a is not None and r is not None:
        depth, dsrc = a + r, "alt+ref"
    return ReadSupport(vaf, depth, a, "VarScan:FREQ/RD/AD", r, _fields(
        alt="FORMAT/AD" if a is not None else None, ref="FORMAT/RD" if r is not None else None,
        depth=dsrc if depth is not None else None, vaf="FORMAT/FREQ" if vaf is not None else None))


def _vardict(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    a = _int(_at(g("VD"), 0))
    depth = _int(_at(g("DP"), 0))
    vaf = _num(_allele(g("AF"), nb.format.get("AF"), i, n))
    vsrc = "FORMAT/AF"
    if vaf is None:
        vaf, vsrc = _ratio(a, depth), "alt/depth"
    ad = g("AD")
    r, rsrc = None, None
    if len(ad) >= 2:
        r, rsrc = _int(ad[0]), "FORMAT/AD[0]"
    elif g("RD"):
        rd = [_int(x) for x in g("RD")]
        if all(x is not None for x in rd):
            r, rsrc = sum(x or 0 for x in rd), "FORMAT/RD[fwd]+RD[rev]"
    return ReadSupport(vaf, depth, a, "VarDict:AF/VD/DP", r, _fields(
        alt="FORMAT/VD", ref=rsrc if r is not None else None, depth="FORMAT/DP", vaf=vsrc))


def _iontorrent(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    a = _int(_allele(g("FAO"), nb.format.get("FAO", "A"), i, n))
    depth = _int(_at(g("FDP"), 0))
    r = _int(_at(g("FRO"), 0))
    vaf = _num(_allele(g("AF"), nb.format.get("AF", "A"), i, n))
    vsrc = "FORMAT/AF"
    if vaf is None:
        vaf, vsrc = _ratio(a, depth), "alt/depth"
    return ReadSupport(vaf, depth, a, "IonTorrent:FAO/FDP", r, _fields(
        alt="FORMAT/FAO", ref="FORMAT/FRO" if r is not None else None, depth="FORMAT/FDP", vaf=vsrc))


def _freebayes(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    ao = [_int(x) for x in g("AO")]
    a = _at(ao, i - 1) if len(ao) == n else (ao[0] if n == 1 and ao else None)
    r = _int(_at(g("RO"), 0)) if g("RO") else None
    depth = _int(_at(g("DP"), 0))
    if g("RO"):
        total = None if r is None or any(x is None for x in ao) else r + sum(x or 0 for x in ao)
        return ReadSupport(_ratio(a, total), depth if depth is not None else total, a, "FreeBayes:RO/AO", r,
                           _fields(alt="FORMAT/AO", ref="FORMAT/RO",
                                   depth="FORMAT/DP" if depth is not None else "FORMAT/RO+AO",
                                   vaf="alt/(RO+AO)"))
    return ReadSupport(_ratio(a, depth), depth, a, "FreeBayes:AO/DP", None,
                       _fields(alt="FORMAT/AO", depth="FORMAT/DP", vaf="alt/depth"))


def _platypus(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    a = _int(_allele(g("NV"), nb.format.get("NV", "A"), i, n))
    depth = _int(_allele(g("NR"), nb.format.get("NR", "A"), i, n)) if len(g("NR")) > 1 else _int(
        _at(g("NR"), 0))
    return ReadSupport(_ratio(a, depth), depth, a, "Platypus:NV/NR", None,
                       _fields(alt="FORMAT/NV", depth="FORMAT/NR", vaf="alt/depth"))


def _pcgr(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    adt = [_int(x) for x in g("ADT")]
    a = _at(adt, i)
    r = _at(adt, 0)
    depth = _int(_at(g("DPT"), 0))
    dsrc = "FORMAT/DPT"
    if depth is None and adt and all(c is not None for c in adt):
        depth, dsrc = sum(c or 0 for c in adt), "sum(FORMAT/ADT)"
    return ReadSupport(_ratio(a, depth), depth, a, "PCGR:ADT/DPT", r, _fields(
        alt=f"FORMAT/ADT[{i}]", ref="FORMAT/ADT[0]", depth=dsrc, vaf="alt/depth"))


_VAF_TAGS = ("AF", "VF", "FA", "VAF")


def _ad(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    ad = g("AD")
    counts = [x if type(x) is int and x > INT_VECTOR_END else _int(x) for x in ad]
    number = nb.format.get("AD", "R")
    r = None
    if number == "R" or len(counts) == n + 1:
        a, asrc = _at(counts, i), f"FORMAT/AD[{i}]"
        r = _at(counts, 0)
        ad_total = None if None in counts else sum(counts)  # type: ignore[arg-type]
    else:  # Number=1 / A alt-only AD
        a, asrc = (_at(counts, i - 1) if len(counts) == n else None), "FORMAT/AD"
        ad_total = None
    dp = g("DP")
    depth = _int(dp[0]) if dp else None
    dsrc = "FORMAT/DP"
    vaf: float | None = None
    vsrc = None
    for tag in _VAF_TAGS:
        values = g(tag)
        if values:
            vaf = _num(_allele(values, nb.format.get(tag), i, n))
            if vaf is not None:
                vsrc = _VAF_SOURCES[tag]
                break
    if vaf is None:
        vaf, vsrc = _ratio(a, ad_total), "alt/sum(AD)"
    if depth is None:
        depth, dsrc = ad_total, "sum(FORMAT/AD)"
    return ReadSupport(vaf, depth, a, AD_SOURCE, r, _fields(
        alt=asrc if a is not None else None, ref="FORMAT/AD[0]" if r is not None else None,
        depth=dsrc if depth is not None else None, vaf=vsrc if vaf is not None else None))


_VAF_SOURCES = {t: f"FORMAT/{t}" for t in _VAF_TAGS}
AD_SOURCE = "FORMAT:AD/DP/AF"


VafRows = tuple[Sequence[Sequence[Value]], "str | None", str]  # (per-sample values, Number, source)


def ad_alt(counts: Sequence[Value], i: int, n: int, ad_r: bool) -> Value:
    """ALT ``i``'s (1-based, of ``n``) count in one sample's AD: REF first (Number=R, or
    n + 1 values), else alt-only (Number=A/1 with n values)."""
    if ad_r or len(counts) == n + 1:
        return counts[i] if i < len(counts) else None
    return _at(counts, i - 1) if len(counts) == n else None


def ad_values(ad: Sequence[Sequence[Value]], dp: Sequence[Sequence[Value]] | None,
              vafs: Sequence[VafRows], j: int, i: int, n: int, ad_r: bool,
              ) -> tuple[float | None, int | None, int | None, int | None, str | None]:
    """``_ad`` for sample ``j`` (vaf, depth, alt reads, ref reads, fields of ``ReadSupport``)
    from the record's AD and DP rows and its VAF tags' rows, in ``_VAF_TAGS``
    order (``ad_r``: the header says AD is Number=R); the reader builds these once per record."""
    counts = ad[j] if j < len(ad) else ()
    r = None
    a = ad_alt(counts, i, n, ad_r)
    if ad_r or len(counts) == n + 1:
        asrc = _AD_INDEX[i] if i < len(_AD_INDEX) else f"FORMAT/AD[{i}]"
        r = counts[0] if counts else None
        ad_total = None if None in counts else sum(counts)  # type: ignore[arg-type]
    else:  # Number=1 / A alt-only AD
        asrc = "FORMAT/AD"
        ad_total = None
    dpv = dp[j] if dp is not None and j < len(dp) else ()
    depth = _int(dpv[0]) if dpv else None
    dsrc = "FORMAT/DP"
    vaf: float | None = None
    vsrc = None
    for rows, number, src in vafs:
        values = rows[j] if j < len(rows) else ()
        if values:
            vaf = _num(_allele(values, number, i, n))
            if vaf is not None:
                vsrc = src
                break
    if vaf is None:
        vaf, vsrc = _ratio(a, ad_total), "alt/sum(AD)"  # type: ignore[arg-type]
    if depth is None:
        depth, dsrc = ad_total, "sum(FORMAT/AD)"
    # _fields(alt=, ref=, depth=, vaf=) without the keyword dict (this runs per allele and sample)
    return vaf, depth, a, r, _fields_text((  # type: ignore[return-value]
        ("alt", asrc if a is not None else None), ("ref", "FORMAT/AD[0]" if r is not None else None),
        ("depth", dsrc if depth is not None else None), ("vaf", vsrc if vaf is not None else None)))


_AD_INDEX = tuple(f"FORMAT/AD[{i}]" for i in range(8))


def _dp4(values: Sequence[Value], n: int) -> tuple[int | None, int | None]:
    """(ref, alt) reads from DP4; the alt count covers every ALT, so only for one ALT."""
    c = [_int(x) for x in values]
    if len(c) != 4 or any(x is None for x in c):
        return None, None
    ref = (c[0] or 0) + (c[1] or 0)
    return ref, ((c[2] or 0) + (c[3] or 0)) if n == 1 else None


def _format_dp4(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    r, a = _dp4(g("DP4"), n)
    depth = _int(_at(g("DP"), 0))
    total = None if r is None or a is None else r + a
    return ReadSupport(_ratio(a, total), depth if depth is not None else total, a, "FORMAT:DP4", r, _fields(
        alt="FORMAT/DP4[2]+DP4[3]" if a is not None else None, ref="FORMAT/DP4[0]+DP4[1]" if r is not None
        else None, depth="FORMAT/DP" if depth is not None else "alt+ref", vaf="alt/(alt+ref)"))


def _format_af(g: Getter, ref: str, alt: str, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    vaf, vsrc = None, None
    for tag in _VAF_TAGS:
        if g(tag):
            vaf = _num(_allele(g(tag), nb.format.get(tag), i, n))
            vsrc = f"FORMAT/{tag}"
            break
    depth = _int(_at(g("DP"), 0))
    # no read count was written: vaf * depth would be a guess, so alt stays missing
    return ReadSupport(vaf, depth, None, "FORMAT:AF/DP", None, _fields(
        depth="FORMAT/DP" if depth is not None else None, vaf=vsrc if vaf is not None else None))


# priority order; a layout is kept when the header declares every tag it needs
FORMAT_LAYOUTS: tuple[Layout, ...] = (
    Layout("Strelka2:indel-tier1", frozenset({"TIR", "TAR"}), (), _strelka_indel),
    Layout("Strelka2:SNV-tier1", frozenset({"AU", "CU", "GU", "TU"}), (), _strelka_snv),
    Layout("CaVEMan:allele-counts", frozenset(_CAVEMAN), ("PM",), _caveman),
    Layout("VarScan:FREQ/RD/AD", frozenset({"FREQ"}), ("AD", "RD", "DP"), _varscan),
    Layout("VarDict:AF/VD/DP", frozenset({"VD"}), ("DP", "AF", "AD", "RD"), _vardict),
    Layout("IonTorrent:FAO/FDP", frozenset({"FAO", "FDP"}), ("FRO", "AF"), _iontorrent),
    Layout("FreeBayes:RO/AO", frozenset({"AO"}), ("RO", "DP"), _freebayes),
    Layout("Platypus:NV/NR", frozenset({"NV", "NR"}), (), _platypus),
    Layout("PCGR:ADT/DPT", frozenset({"ADT"}), ("DPT",), _pcgr),
    AD_LAYOUT := Layout(AD_SOURCE, frozenset({"AD"}), ("DP", *_VAF_TAGS), _ad),
    Layout("FORMAT:DP4", frozenset({"DP4"}), ("DP",), _format_dp4),
    *(Layout("FORMAT:AF/DP", frozenset({t}), ("DP", *_VAF_TAGS), _format_af) for t in _VAF_TAGS),
)


# -- INFO layouts ---------------------------------------------------------------------
InfoGet = Callable[[str], Sequence[Value]]


def _info_tvaf(get: InfoGet, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    tvaf = get("TVAF")
    if not tvaf:
        return None
    vaf = _num(_allele(tvaf, nb.info.get("TVAF"), i, n))
    depth = _int(_at(get("TDP"), 0))
    return ReadSupport(vaf, depth, None, "INFO:TVAF/TDP", None, _fields(
        depth="INFO/TDP" if depth is not None else None, vaf="INFO/TVAF" if vaf is not None else None))


def _info_umi(get: InfoGet, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    vmf = get("VMF")
    if not vmf:
        return None
    vaf = _num(_allele(vmf, nb.info.get("VMF"), i, n))
    depth = _int(_at(get("UMT"), 0))
    a = _int(_allele(get("VMT"), nb.info.get("VMT"), i, n))
    return ReadSupport(vaf, depth, a, "INFO:VMF/UMT", None, _fields(
        alt="INFO/VMT" if a is not None else None, depth="INFO/UMT" if depth is not None else None,
        vaf="INFO/VMF" if vaf is not None else None))


def _info_af(get: InfoGet, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    af = get("AF")
    if not af or get("AN"):
        return None
    vaf = _num(_allele(af, nb.info.get("AF"), i, n))
    depth = _int(_at(get("DP"), 0))
    r, a = _dp4(get("DP4"), n) if get("DP4") else (None, None)
    return ReadSupport(vaf, depth, a, "INFO:AF/DP", r, _fields(
        alt="INFO/DP4[2]+DP4[3]" if a is not None else None,
        ref="INFO/DP4[0]+DP4[1]" if r is not None else None,
        depth="INFO/DP" if depth is not None else None, vaf="INFO/AF" if vaf is not None else None))


def _info_dp4(get: InfoGet, i: int, n: int, nb: FieldNumbers) -> ReadSupport | None:
    if not get("DP4"):
        return None
    r, a = _dp4(get("DP4"), n)
    total = None if r is None or a is None else r + a
    return ReadSupport(_ratio(a, total), total, a, "INFO:DP4", r, _fields(
        alt="INFO/DP4[2]+DP4[3]" if a is not None else None,
        ref="INFO/DP4[0]+DP4[1]" if r is not None else None, depth="alt+ref", vaf="alt/(alt+ref)"))


InfoFn = Callable[[InfoGet, int, int, FieldNumbers], "ReadSupport | None"]
INFO_LAYOUTS: tuple[tuple[str, tuple[str, ...], InfoFn], ...] = (
    ("TVAF", ("TVAF", "TDP"), _info_tvaf),
    ("VMF", ("VMF", "UMT", "VMT"), _info_umi),
    ("AF", ("AF", "AN", "DP", "DP4"), _info_af),
    ("DP4", ("DP4",), _info_dp4),
)
