"""Symbolic and breakend ALT alleles -> structural events and their novel junctions.

A ``Breakend`` is a position and the side of it that the rearranged molecule
keeps: ``left`` keeps bases <= pos, ``right`` keeps bases >= pos.  A
``Junction`` joins two breakends (``b`` is None for a single breakend).

VCF 4.2 section 5.4 breakend forms, REF base ``t`` at POS, mate at ``p``:

==========  =================  ============
ALT         this record keeps  mate keeps
==========  =================  ============
``t[p[``    left (<= POS)      right (>= p)
``t]p]``    left               left (joined reverse-complemented)
``]p]t``    right (>= POS)     left
``[p[t``    right              right (joined reverse-complemented)
``t.``      left               (single breakend)
``.t``      right              (single breakend)
==========  =================  ============

Symbolic intervals (POS is the padding base before the event):
``<DEL>`` joins POS (left) to END+1 (right); ``<DUP>``/``<DUP:TANDEM>`` joins
END (left) to POS+1 (right); ``<INV>`` makes POS(left)-END(left) and
POS+1(right)-END+1(right) (Manta's INV3 / INV5 flags keep only the first /
second); ``<CNV>`` and ``<INS>`` make no junction between genes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from annotator.core import chromnames

_BND = re.compile(
    r"^(?P<pre>[A-Za-z]*)(?P<b>[\[\]])(?P<chrom>[^\[\]]+):(?P<pos>\d+)(?P=b)(?P<post>[A-Za-z]*)$"
)
_SINGLE_LEFT = re.compile(r"^[A-Za-z]+\.$")
_SINGLE_RIGHT = re.compile(r"^\.[A-Za-z]+$")
_CN_ALLELE = re.compile(r"^<CN(\d+)>$")
SV_KINDS = ("DEL", "DUP", "INV", "INS", "CNV", "BND", "SGL")


class BreakendError(ValueError):
    """An ALT allele that is not a valid symbolic or breakend allele."""


@dataclass(frozen=True, slots=True)
class Breakend:
    chrom: str  # canonical
    pos: int
    keeps: str  # "left" or "right"

    def text(self) -> str:
        return f"{self.chrom}:{self.pos}"


@dataclass(frozen=True, slots=True)
class Junction:
    a: Breakend
    b: Breakend | None

    def key(self) -> tuple[tuple[str, int, str], ...]:
        ends = [(self.a.chrom, self.a.pos, self.a.keeps)]
        if self.b is not None:
            ends.append((self.b.chrom, self.b.pos, self.b.keeps))
        return tuple(sorted(ends))


@dataclass(frozen=True, slots=True)
class SvEvent:
    kind: str  # one of SV_KINDS
    chrom: str  # canonical chromosome of the record
    pos: int  # record POS
    start: int  # first affected base (intervals) or the breakpoint
    end: int
    junctions: tuple[Junction, ...]
    copy_number: float | None = None  # absolute, as the caller gave it
    fold_change: float | None = None  # ratio to a diploid normal (DRAGEN/TSO500)
    log2: float | None = None
    sv_type: str = ""  # the ALT's own word (DEL, DUP:TANDEM, BND ...)

    @property
    def is_interval(self) -> bool:
        return self.kind in ("DEL", "DUP", "CNV")


def _float(text: str | None) -> float | None:
    if text is None or text in ("", "."):
        return None
    try:
        v = float(text.split(",")[0])
    except ValueError:
        return None
    if math.isinf(v) or abs(v) > 1e12:
        raise BreakendError(f"value {text[:30]!r} is not a finite number in range")
    return None if math.isnan(v) else v


def _int(text: str | None) -> int | None:
    v = _float(text)
    return None if v is None else int(v)


def parse(
    chrom: str,
    pos: int,
    alt: str,
    info: Mapping[str, str],
    format_cn: float | None = None,
) -> SvEvent:
    """The event described by one symbolic / breakend ALT allele of a record at chrom:pos."""
    c = chromnames.canonical(chrom)
    cn = _float(info.get("CN"))
    if cn is not None and cn < 0:
        cn = None  # Delly writes CN=-1 for "not computed"
    if cn is None:
        cn = format_cn
    fold = _float(info.get("FOLD_CHANGE"))
    log2 = _float(info.get("FOLD_CHANGE_LOG")) if "FOLD_CHANGE_LOG" in info else None
    if log2 is None:
        log2 = _float(info.get("LOG2R") or info.get("LOG2"))
    m = _BND.match(alt)
    if m:
        local = Breakend(c, pos, "left" if m.group("pre") else "right")
        if not m.group("pre") and not m.group("post"):
            raise BreakendError(f"breakend {alt!r} has no REF base")
        mate = Breakend(
            chromnames.canonical(m.group("chrom")), int(m.group("pos")),
            "right" if m.group("b") == "[" else "left",
        )
        return SvEvent("BND", c, pos, pos, pos, (Junction(local, mate),), cn, fold, log2, "BND")
    if _SINGLE_LEFT.match(alt) or _SINGLE_RIGHT.match(alt):
        keeps = "left" if alt.endswith(".") else "right"
        return SvEvent("SGL", c, pos, pos, pos, (Junction(Breakend(c, pos, keeps), None),),
                       cn, fold, log2, "SGL")
    if not (alt.startswith("<") and alt.endswith(">")):
        raise BreakendError(f"ALT {alt[:30]!r} is neither symbolic (<...>) nor a breakend")
    word = alt[1:-1]
    cnm = _CN_ALLELE.match(alt)
    if cnm:
        cn = float(cnm.group(1)) if cn is None else cn
        word = "CNV"
    base = word.split(":")[0].upper()
    svtype = (info.get("SVTYPE") or "").upper()
    if base not in ("DEL", "DUP", "INV", "INS", "CNV", "TRA", "BND"):
        base = svtype.split(":")[0] if svtype else base
    end = _int(info.get("END"))
    svlen = _int(info.get("SVLEN"))
    if end is None:
        end = pos + abs(svlen) if svlen is not None and base != "INS" else pos
    if base in ("TRA", "BND"):
        return _translocation(c, pos, info, cn, fold, log2, word)
    if end < pos:
        raise BreakendError(f"END {end} is before POS {pos}")
    if base == "DEL":
        j = (Junction(Breakend(c, pos, "left"), Breakend(c, end + 1, "right")),)
        return SvEvent("DEL", c, pos, pos + 1, end, j, cn, fold, log2, word)
    if base == "DUP":
        j = (Junction(Breakend(c, end, "left"), Breakend(c, pos + 1, "right")),)
        return SvEvent("DUP", c, pos, pos + 1, end, j, cn, fold, log2, word)
    if base == "INV":
        j3 = Junction(Breakend(c, pos, "left"), Breakend(c, end, "left"))
        j5 = Junction(Breakend(c, pos + 1, "right"), Breakend(c, end + 1, "right"))
        if "INV3" in info and "INV5" not in info:
            js: tuple[Junction, ...] = (j3,)
        elif "INV5" in info and "INV3" not in info:
            js = (j5,)
        else:
            js = (j3, j5)
        return SvEvent("INV", c, pos, pos + 1, end, js, cn, fold, log2, word)
    if base == "INS":
        return SvEvent("INS", c, pos, pos, pos, (), cn, fold, log2, word)
    if base == "CNV":
        return SvEvent("CNV", c, pos, pos + 1, end, (), cn, fold, log2, word)
    raise BreakendError(f"symbolic ALT {alt!r} is not DEL, DUP, INV, INS, CNV or a breakend")


_CT = {"3to5": ("left", "right"), "5to3": ("right", "left"),
       "3to3": ("left", "left"), "5to5": ("right", "right")}


def _translocation(
    c: str, pos: int, info: Mapping[str, str], cn: float | None, fold: float | None,
    log2: float | None, word: str,
) -> SvEvent:
    """Delly-style ``<TRA>``/``<BND>`` with CHR2, END and CT (connection type)."""
    chr2 = info.get("CHR2")
    end = _int(info.get("END"))
    ct = _CT.get(info.get("CT", ""))
    if chr2 and end is not None and ct is not None:
        j = Junction(Breakend(c, pos, ct[0]), Breakend(chromnames.canonical(chr2), end, ct[1]))
        return SvEvent("BND", c, pos, pos, pos, (j,), cn, fold, log2, word)
    # partner unknown to us: keep both sides of the breakpoint as single breakends
    js = (Junction(Breakend(c, pos, "left"), None), Junction(Breakend(c, pos, "right"), None))
    return SvEvent("SGL", c, pos, pos, pos, js, cn, fold, log2, word)
