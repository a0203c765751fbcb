"""Read support (alt reads, ref reads, depth, VAF) from whatever the caller wrote.

Callers disagree on where they put read counts.  ``SupportReader.from_header``
looks once at the FORMAT/INFO tags the header declares and keeps, in the order
below, only the layouts that file can hold; per record it fetches only those
tags (never probing undeclared ones) and uses the first layout whose tags the
record carries.  A value the caller did not write stays ``None``; it is never
turned into 0, and no count is guessed from another (``vaf * depth``,
``depth - alt``).

===========================  ===============================================
source label                  fields (FORMAT unless INFO is named)
===========================  ===============================================
Strelka2:SNV-tier1            AU/CU/GU/TU (first = tier-1 count)
Strelka2:indel-tier1          TIR/TAR (first = tier-1 count)
CaVEMan:allele-counts         FAZ..RTZ forward/reverse base counts, PM
VarScan:FREQ/RD/AD            FREQ ("12.5%"), RD (ref), AD (alt, Number=1), DP
VarDict:AF/VD/DP              VD (alt), DP, AF, AD (ref,alt) or RD (ref fwd,rev)
IonTorrent:FAO/FDP            FAO, FRO, FDP (flow-evaluated), AF
FreeBayes:RO/AO               RO, AO (Number=A), DP
FreeBayes:AO/DP               AO and DP without RO (``GT:DP:AO``)
Platypus:NV/NR                NV (alt), NR (depth)
PCGR:ADT/DPT                  ADT (ref,alt), DPT
FORMAT:AD/DP/AF               AD (Number=R) with DP and AF/VF/FA/VAF when
                              present (Mutect2, Mutect1, SAGE, GATK, MuSE,
                              RADIA, DRAGEN, Pisces, TSO500, Pindel)
FORMAT:DP4                    DP4 ref-fwd, ref-rev, alt-fwd, alt-rev
                              (SomaticSniper, bcftools), DP
FORMAT:AF/DP                  AF (or VAF/VF/FA) and DP, no read counts
                              (varlociraptor, UMI/cfDNA callers)
INFO:TVAF/TDP                 INFO TVAF, TDP (PCGR, tumour-only pipelines)
INFO:VMF/UMT                  INFO VMF, UMT, VMT (smCounter UMI counts)
INFO:AF/DP                    INFO AF/DP (+ DP4), only when INFO has no AN
                              (AF from AC/AN is a genotype frequency)
INFO:DP4                      INFO DP4 alone (bcftools mpileup, LoFreq)
===========================  ===============================================

``ReadSupport.fields`` says which field gave which value, e.g.
``alt=FORMAT/AD[1]; ref=FORMAT/AD[0]; depth=FORMAT/DP; vaf=FORMAT/AF``
(``vaf=alt/depth`` when computed).  Float fields are stored by htslib as
float32; they are read back as the shortest decimal that float32 holds, so
``0.311`` in the file is ``0.311`` in every output, not ``0.31099998``.

Whether the chosen sample carries an ALT (``ReadSupport.carried``): alt reads
(or a VAF) decide when the caller wrote them, else the sample's GT (``0/0``
and ``./.`` do not carry).  ``carried_by`` names another sample that carries
it when the chosen one does not; the pipeline skips such alleles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from annotator.core.models import ReadSupport
from annotator.io.supportlayouts import (
    AD_LAYOUT,
    AD_SOURCE,
    FORMAT_LAYOUTS,
    INFO_LAYOUTS,
    INT_MISSING,
    INT_VECTOR_END,
    FieldNumbers,
    Getter,
    InfoGet,
    Layout,
    VafRows,
    Value,
    ad_alt,
    ad_values,
    split_text,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FieldNumbers", "RecordFields", "SupportReader", "normal_from_lines"]


class InfoFields(Protocol):
    """A record's INFO as cyvcf2 gives it: a value, a tuple of values, or None per tag."""

    def get(self, tag: str) -> Value | tuple[Value, ...] | None: ...


class RecordFields(Protocol):
    """What the reader needs from one record (cyvcf2's ``Variant`` provides it)."""

    @property
    def FORMAT(self) -> Sequence[str] | None: ...  # noqa: N802 - cyvcf2's name

    @property
    def INFO(self) -> InfoFields: ...  # noqa: N802 - cyvcf2's name

    @property
    def genotypes(self) -> Sequence[Sequence[int]]: ...  # allele indices, then phased (a bool)

    def format(self, tag: str) -> np.ndarray | None: ...


def array_values(arr: np.ndarray, shortest: dict[float, float]) -> list[list[Value]]:
    """Every sample's values from a cyvcf2 ``Variant.format`` array (missing -> None).

    ``shortest`` caches float32 -> shortest decimal ("0.311", not 0.31099998950958252).
    """
    kind = getattr(getattr(arr, "dtype", None), "kind", "O")
    rows = arr.tolist()
    if kind == "i":
        return [[None if x == INT_MISSING else x for x in row if x != INT_VECTOR_END] for row in rows]
    if kind == "f":
        get = shortest.get  # a cached value is never None; a miss goes through _shortest
        return [[None if x != x else (got if (got := get(x)) is not None else _shortest(x, shortest))
                 for x in row] for row in rows]
    out: list[list[Value]] = []
    for row in rows:
        if isinstance(row, list):
            row = row[0] if len(row) == 1 else ",".join(str(x) for x in row)
        text = row.decode("utf-8", "replace") if isinstance(row, bytes) else str(row)
        out.append(split_text(text))
    return out


def _shortest(x: float, cache: dict[float, float]) -> float:
    got = cache.get(x)
    if got is None:
        import numpy as np

        if len(cache) > 100_000:  # bounded: VAFs repeat, but not without end
            cache.clear()
        got = cache[x] = float(str(np.float32(x)))
    return got


def info_value(value: Value | tuple[Value, ...] | None, shortest: dict[float, float]) -> list[Value]:
    """An INFO value as a list; floats (float32 in htslib) to their shortest decimal."""
    if value is None:
        return []
    items = list(value) if isinstance(value, (tuple, list)) else (
        split_text(value) if isinstance(value, str) else [value])
    return [(None if x != x else _shortest(x, shortest)) if isinstance(x, float) else x for x in items]


def _with(rs: ReadSupport, *, normal: ReadSupport | None = None, carried: bool | None = None,
          carried_by: str | None = None) -> ReadSupport:
    # a direct constructor call: dataclasses.replace costs ~7 us in this hot loop
    return ReadSupport(rs.vaf, rs.depth, rs.alt_count, rs.source, rs.ref_count, rs.fields,
                       carried if carried is not None else rs.carried,
                       carried_by if carried_by is not None else rs.carried_by,
                       normal if normal is not None else rs.normal)


# -- the reader -----------------------------------------------------------------------
def normal_from_lines(lines: Sequence[str], samples: Sequence[str], tumour: int | None) -> int | None:
    """Column of the ``##normal_sample=`` header line's sample (not the tumour)."""
    for line in lines:
        if line.startswith("##normal_sample="):
            name = line.split("=", 1)[1].strip()
            if name in samples and samples.index(name) != tumour:
                return samples.index(name)
    return None


UNDECLARED_PROBES = 1000  # records without declared support that may reveal undeclared tags


class SupportReader:
    """Read-support extraction chosen once from a header (see the module docstring).

    Only layouts whose tags the header declares are tried per record.  Some
    callers use FORMAT tags they never declare (vcf2maf's Strelka test file
    writes TIR/TAR undeclared; htslib declares them when it meets them): for
    the first ``UNDECLARED_PROBES`` records that get no support from declared
    tags, the other layouts' tags are probed once each, and a tag found is
    kept as declared from then on.
    """

    def __init__(
        self, numbers: FieldNumbers, samples: Sequence[str], tumour: int | None, normal: int | None = None
    ) -> None:
        self.numbers = numbers
        self.samples = tuple(samples)
        self.tumour = tumour
        self.normal = normal if normal != tumour else None
        self.known: set[str] = set(numbers.format)
        self.learned: list[str] = []  # undeclared tags found in records
        self.layouts: tuple[Layout, ...] = ()
        self.pending: tuple[Layout, ...] = ()
        self._arrange()
        self.info_layouts = tuple(x for x in INFO_LAYOUTS if x[0] in numbers.info)
        self.has_gt = "GT" in self.known
        self.probes_left = UNDECLARED_PROBES if tumour is not None else 0
        self.shortest: dict[float, float] = {}  # float32 value -> shortest decimal

    @classmethod
    def from_header(
        cls, numbers: FieldNumbers, samples: Sequence[str], tumour: int | None, normal: int | None = None
    ) -> SupportReader:
        return cls(numbers, samples, tumour, normal)

    def _arrange(self) -> None:
        if self.tumour is None:
            return
        self.layouts = tuple(lay for lay in FORMAT_LAYOUTS if lay.needs <= self.known)
        self.pending = tuple(lay for lay in FORMAT_LAYOUTS if not lay.needs <= self.known)

    def learn(self, tag: str) -> None:
        if tag not in self.known:
            self.known.add(tag)
            self.learned.append(tag)
            self._arrange()

    def describe(self) -> str:
        names = list(dict.fromkeys(lay.label for lay in self.layouts))
        names += [f"INFO:{x[0]}" for x in self.info_layouts]
        return ", ".join(names) if names else "none (the header declares no read-support field)"

    @property
    def normal_sample(self) -> str | None:
        return self.samples[self.normal] if self.normal is not None else None

    def has_alt_reads(self, v: RecordFields, i: int, n: int) -> bool:
        """Does the sample's FORMAT/AD show reads of ALT ``i`` (1-based, of ``n``)? ``read`` calls
        such an allele carried; False means "ask ``read``" (another layout, no AD ...)."""
        t = self.tumour
        if t is None or not self.layouts or self.layouts[0] is not AD_LAYOUT:
            return False
        ad = _integer_ad(v)
        if ad is None or t >= len(ad):
            return False
        if self.numbers.format.get("AD", "R") == "R":
            # htslib's missing and vector-end markers are negative: never taken for reads
            return i < ad.shape[1] and int(ad[t, i]) > 0
        alt = ad_alt(_ints(ad[t : t + 1])[0], i, n, False)
        return isinstance(alt, int) and alt > 0

    def read(self, v: RecordFields, ref: str, alts: Sequence[str]) -> tuple[ReadSupport, ...]:
        """One ``ReadSupport`` per ALT of record ``v``."""
        n = len(alts)
        if not n:
            return ()
        if self.layouts and self.layouts[0] is AD_LAYOUT and self.tumour is not None:
            fast = _read_ad(self, v, alts)
            if fast is not None:
                return fast
        rec = _Record(v, self, n)
        out: list[ReadSupport] = []
        for i, alt in enumerate(alts, start=1):
            rs = rec.from_format(self.tumour, ref, alt, i) if self.tumour is not None else None
            if rs is None and self.probes_left > 0 and self.pending and self.tumour is not None:
                self.probes_left -= 1
                if rec.probe_pending():
                    rs = rec.from_format(self.tumour, ref, alt, i)
            if rs is None and self.info_layouts:
                info_get = rec.info()
                for _name, _tags, fn in self.info_layouts:
                    rs = fn(info_get, i, n, self.numbers)
                    if rs is not None:
                        break
            rs = rs or ReadSupport()
            if self.tumour is None:
                out.append(rs)
                continue
            normal_rs = rec.from_format(self.normal, ref, alt, i) if self.normal is not None else None
            carried = _carries_by_reads(rs)
            if len(self.samples) > 1:
                if carried is None:
                    carried = _carries_by_gt(rec.genotypes(), self.tumour, i)
                if carried is False:
                    out.append(_with(rs, normal=normal_rs, carried=False,
                                     carried_by=self._other_carrier(rec, ref, alt, i)))
                    continue
            # one construction for the normal's support and carriage (each costs ~1 us)
            out.append(_with(rs, normal=normal_rs, carried=carried)
                       if carried is not None or normal_rs is not None else rs)
        return tuple(out)

    def _other_carrier(self, rec: _Record, ref: str, alt: str, i: int) -> str | None:
        for j, name in enumerate(self.samples):
            if j == self.tumour:
                continue
            rs = rec.from_format(j, ref, alt, i)
            c = _carries_by_reads(rs) if rs is not None else None
            if c is None:
                c = _carries_by_gt(rec.genotypes(), j, i)
            if c:
                return name
        return None


_UNREAD = object()  # a tag not yet fetched from the record (None: fetched, absent)


class _Record:
    """One record's fields, each fetched from htslib at most once (declared tags only)."""

    __slots__ = ("v", "reader", "n_alts", "arrays", "lists", "samples", "_info", "_gts", "_gts_read")

    def __init__(self, v: RecordFields, reader: SupportReader, n_alts: int) -> None:
        self.v = v
        self.reader = reader
        self.n_alts = n_alts
        self.arrays: dict[str, np.ndarray | None] = {}
        self.lists: dict[str, Sequence[list[Value]]] = {}
        self.samples: dict[int, Getter] = {}
        self._info: InfoGet | None = None
        self._gts: Sequence[Sequence[int]] | None = None
        self._gts_read = False

    def array(self, tag: str) -> np.ndarray | None:
        arr = self.arrays.get(tag, _UNREAD)
        if arr is not _UNREAD:
            return arr  # type: ignore[return-value]
        arr = None
        if tag in self.reader.known:  # cyvcf2 raises for tags htslib has not seen declared
            try:
                arr = self.v.format(tag)  # None when this record lacks the tag
            except Exception:  # noqa: BLE001 - cyvcf2 raises bare Exception
                arr = None
        self.arrays[tag] = arr
        return arr

    def probe(self, tag: str) -> bool:
        """Is undeclared ``tag`` in this record?  (htslib declared it on reading it.)"""
        try:
            arr = self.v.format(tag)
        except Exception:  # noqa: BLE001 - KeyError: not declared, not seen
            return False
        self.reader.learn(tag)
        self.arrays[tag] = arr
        return arr is not None

    def probe_pending(self) -> bool:
        found = False
        for lay in self.reader.pending:
            unknown = [t for t in sorted(lay.needs) if t not in self.reader.known]
            # one tag first: most layouts are absent, so most probes stop here
            if unknown and self.probe(unknown[0]) and all(self.probe(t) for t in unknown[1:]):
                for t in lay.uses:
                    if t not in self.reader.known:
                        self.probe(t)
                found = True
        return found

    def getter(self, j: int) -> Getter:
        got = self.samples.get(j)
        if got is None:
            lists = self.lists

            def get(tag: str) -> Sequence[Value]:
                per = lists.get(tag)
                if per is None:
                    arr = self.array(tag)
                    per = lists[tag] = () if arr is None else array_values(arr, self.reader.shortest)
                return per[j] if j < len(per) else ()

            got = self.samples[j] = get
        return got

    def from_format(self, j: int, ref: str, alt: str, i: int) -> ReadSupport | None:
        """The first layout whose needed tags this record carries that gives a value."""
        array = self.array
        for lay in self.reader.layouts:  # a tuple: learn() replaces it, never changes it
            for t in lay.needs:
                if array(t) is None:
                    break
            else:
                rs = lay.read(self.getter(j), ref, alt, i, self.n_alts, self.reader.numbers)
                if rs is not None:
                    return rs
        return None

    def info(self) -> InfoGet:
        if self._info is None:
            self._info = _info_reader(self.v, self.reader.shortest)
        return self._info

    def genotypes(self) -> Sequence[Sequence[int]] | None:
        if not self._gts_read:
            self._gts_read = True
            if self.reader.has_gt:
                try:
                    self._gts = self.v.genotypes
                except Exception:  # noqa: BLE001 - record without GT: cyvcf2 raises
                    self._gts = None
        return self._gts


def _carries_by_reads(rs: ReadSupport) -> bool | None:
    if rs.alt_count is not None:
        return rs.alt_count > 0
    if rs.vaf is not None:
        return rs.vaf > 0
    return None


def _carries_by_gt(gts: Sequence[Sequence[int]] | None, j: int, i: int) -> bool | None:
    if gts is None or j >= len(gts):
        return None
    alleles = [a for a in gts[j] if not isinstance(a, bool)]
    if not alleles:
        return None
    # "./." (every allele missing) carries nothing, like "0/0"
    return i in alleles


def _info_reader(v: RecordFields, shortest: dict[float, float]) -> InfoGet:
    try:
        info = v.INFO
    except Exception:  # noqa: BLE001 - malformed INFO values
        return lambda tag: ()
    cache: dict[str, Sequence[Value]] = {}

    def get(tag: str) -> Sequence[Value]:
        got = cache.get(tag)
        if got is None:
            try:
                got = info_value(info.get(tag), shortest)
            except Exception:  # noqa: BLE001 - malformed INFO values
                got = []
            cache[tag] = got
        return got

    return get


# -- the common case, in one piece ---------------------------------------------------
def _read_ad(reader: SupportReader, v: RecordFields, alts: Sequence[str]) -> tuple[ReadSupport, ...] | None:
    """``read`` for a file whose first layout is FORMAT:AD/DP/AF (Mutect2, GATK, SAGE, ...).

    Each tag is fetched and converted once for the record, and each allele's
    support built in one constructor call; the values are those of the
    general path (``_Record.from_format`` with ``supportlayouts._ad``).  None
    when the record is not the plain case (AD missing or not integers, a
    VAF tag not a float, or an allele the sample may not carry: the general
    path then decides, with genotypes and the other samples).
    """
    t, nrm = reader.tumour, reader.normal
    assert t is not None
    ad = _integer_ad(v)
    if ad is None:
        return None
    known = reader.known
    numbers = reader.numbers
    ad_rows = _ints(ad)
    dp_rows: list[list[Value]] | None = None
    vafs: list[VafRows] = []  # AF, VF, FA, VAF order: the first with a value is the VAF
    for tag in ("DP", "AF", "VF", "FA", "VAF"):
        if tag not in known:
            continue
        try:
            arr = v.format(tag)
        except Exception:  # noqa: BLE001 - cyvcf2 raises bare Exception
            arr = None
        if arr is None:
            continue
        kind = arr.dtype.kind
        if kind == "i":
            rows = _ints(arr)
        elif kind == "f":
            rows = array_values(arr, reader.shortest)
        else:
            return None
        if tag == "DP":
            dp_rows = rows
        else:
            vafs.append((rows, numbers.format.get(tag), "FORMAT/" + tag))
    n = len(alts)
    ad_r = numbers.format.get("AD", "R") == "R"
    out: list[ReadSupport] = []
    for i in range(1, n + 1):
        vaf, depth, alt, ref, fields = ad_values(ad_rows, dp_rows, vafs, t, i, n, ad_r)
        if alt is None or alt <= 0:
            return None  # carriage by GT or by another sample: the general path
        normal_rs = None
        if nrm is not None:
            nv, nd, na, nr, nf = ad_values(ad_rows, dp_rows, vafs, nrm, i, n, ad_r)
            normal_rs = ReadSupport(nv, nd, na, AD_SOURCE, nr, nf)
        out.append(ReadSupport(vaf, depth, alt, AD_SOURCE, ref, fields, True, None, normal_rs))
    return tuple(out)


def _integer_ad(v: RecordFields) -> np.ndarray | None:
    """The record's FORMAT/AD as cyvcf2's integer array; None when absent or not integers."""
    try:
        ad = v.format("AD")
    except Exception:  # noqa: BLE001 - cyvcf2 raises bare Exception
        return None
    return ad if ad is not None and ad.dtype.kind == "i" else None


def _ints(arr: np.ndarray) -> list[list[Value]]:
    rows: list[list[Value]] = arr.tolist()
    for k, row in enumerate(rows):
        # most rows hold neither marker: the C-level `in` scan spares rebuilding them
        if INT_VECTOR_END in row or INT_MISSING in row:
            rows[k] = [None if x == INT_MISSING else x for x in row if x != INT_VECTOR_END]
    return rows
