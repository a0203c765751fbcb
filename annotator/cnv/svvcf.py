"""``--sv FILE``: structural-variant VCFs read as text, and fusion tables.

SV VCFs are read line by line rather than through htslib because real SV
files are often not strictly valid (SnpEff's test files have no header at all,
Delly writes records with fewer columns than its header).  Every INFO key is
kept (CHR2/CT for Delly, INV3/INV5 for Manta, STRANDS for LUMPY).  BCF is read
through ``annotator.io.vcfin``.

Fusion tables (``FusionGene  LeftBreakpoint  RightBreakpoint`` as written by
PCGR's test data, STAR-Fusion ``#FusionName ... LeftBreakpoint RightBreakpoint``
with ``chr:pos:strand``, Arriba ``#gene1 gene2 ... breakpoint1 breakpoint2``):
the left/first gene is the 5' partner.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from annotator.core.models import ReadSupport
from annotator.core.provenance import InputFile
from annotator.errors import InputError, UsageError
from annotator.io.textinput import TextInput
from annotator.io.vcfin import InputRecord, choose_tumour

log = logging.getLogger(__name__)

MAX_POSITION = 2**31 - 1  # longer than any chromosome


class SvFile:
    """One ``--sv`` input, read once: an SV VCF (text or BCF) or a fusion table.

    Text files go through ``annotator.io.textinput`` (gzip/BGZF by content,
    truncation and size checks, sha256 while reading); ``input_file()`` gives
    the provenance record once the records have been read.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.bcf = self.path.suffix.lower() == ".bcf"
        self.src: TextInput | None = None
        self.is_fusion_table = False
        if self.bcf:
            if not self.path.exists():
                raise InputError("SV file not found", path=self.path)
            return
        self.src = TextInput(self.path, what="SV file", encoding_errors="replace")
        try:
            first = self.src.peek()
            if not first:
                raise InputError("empty SV file (no header and no records)", path=self.path)
        except BaseException:
            self.src.close()
            raise
        self.is_fusion_table = _looks_like_fusion_table(first)

    def close(self) -> None:
        if self.src is not None:
            self.src.close()

    def __enter__(self) -> SvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def records(self, sample: str | None = None) -> Iterator[InputRecord]:
        if self.src is None:
            yield from _bcf_records(self.path, sample)
        else:
            yield from _vcf_records(self.src, self.path, sample)

    def fusions(self) -> list[FusionRecord]:
        assert self.src is not None
        return _fusion_records(self.src, self.path)

    def input_file(self, role: str = "sv") -> InputFile:
        if self.src is None:
            return InputFile.of(role, self.path)
        return self.src.input_file(role)


def _looks_like_fusion_table(first: str) -> bool:
    low = first.lower()
    return not low.startswith("##fileformat") and (
        "leftbreakpoint" in low or ("breakpoint1" in low and "gene1" in low)
        or low.startswith("fusiongene")
    )


def is_fusion_table(path: str | Path) -> bool:
    with SvFile(path) as sv:
        return sv.is_fusion_table


def read_sv_vcf(path: str | Path, sample: str | None = None) -> Iterator[InputRecord]:
    """InputRecords of an SV VCF (plain or gzipped; BCF through cyvcf2)."""
    with SvFile(path) as sv:
        yield from sv.records(sample)


def read_fusion_table(path: str | Path) -> list[FusionRecord]:
    with SvFile(path) as sv:
        return sv.fusions()


def _bcf_records(path: Path, sample: str | None) -> Iterator[InputRecord]:
    from annotator.io.vcfin import VcfSource

    src = VcfSource(path, sample)
    try:
        yield from src.records()
    finally:
        src.close()


def _vcf_records(src: TextInput, p: Path, sample: str | None) -> Iterator[InputRecord]:
    samples: tuple[str, ...] = ()
    tumour: int | None = None
    header_tumour: str | None = None
    index = 0
    for n, line in src.lines():
        if not line.strip():
            continue
        if line.startswith("##"):
            if line.startswith("##tumor_sample="):
                header_tumour = line.split("=", 1)[1].strip()
            continue
        if line.startswith("#CHROM"):
            cols = line.rstrip("\n").split("\t")
            samples = tuple(cols[9:])
            tumour = _tumour(samples, sample, header_tumour, p)
            continue
        if line.startswith("#") and index:
            raise InputError("header or comment line ('#') among the records", path=p,
                             where=f"line {n}")
        f = line.rstrip("\n").split("\t")
        if len(f) < 8:
            f = line.split()
        if len(f) < 5:
            raise InputError("fewer than 5 VCF columns", path=p, where=f"line {n}")
        try:
            pos = int(f[1])
        except ValueError as e:
            raise InputError(
                f"POS {f[1][:40]!r} is not a number", path=p, where=f"line {n}"
            ) from e
        if not 0 <= pos <= MAX_POSITION:
            raise InputError(f"POS {pos} is not a genome position", path=p, where=f"line {n}")
        info = _info(f[7] if len(f) > 7 else ".")
        qual = _qual(f[5] if len(f) > 5 else ".")
        filters = tuple(x for x in (f[6] if len(f) > 6 else ".").split(";") if x and x != ".")
        alts = tuple(f[4].split(",")) if f[4] not in ("", ".") else ()
        yield InputRecord(
            index=index,
            chrom=f[0],
            pos=pos,
            id=f[2] if len(f) > 2 else ".",
            ref=f[3],
            alts=alts,
            filters=filters,
            qual=qual,
            support=tuple(ReadSupport() for _ in alts),
            info=MappingProxyType(info),
            format_cn=_format_cn(f, tumour),
        )
        index += 1


def _tumour(
    samples: tuple[str, ...], sample: str | None, header_tumour: str | None, path: Path
) -> int | None:
    """The tumour column (only FORMAT CN is read from it); None when it cannot be told."""
    if not samples:
        return None
    if sample is not None and sample not in samples:
        sample = None
    try:
        return choose_tumour(samples, sample, header_tumour, str(path))[1]
    except UsageError:
        log.info("%s: tumour column not identified; FORMAT CN not used", path)
        return None


def _info(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if text in ("", "."):
        return out
    for item in text.split(";"):
        if not item:
            continue
        key, eq, value = item.partition("=")
        out[key] = value if eq else "true"
    return out


def _qual(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _format_cn(f: list[str], tumour: int | None) -> float | None:
    if tumour is None or len(f) <= 9 + tumour:
        return None
    keys = f[8].split(":")
    if "CN" not in keys:
        return None
    vals = f[9 + tumour].split(":")
    i = keys.index("CN")
    if i >= len(vals):
        return None
    try:
        v = float(vals[i])
    except ValueError:
        return None
    return v if v >= 0 else None  # Delly writes CN=-1 for "not computed"


@dataclass(frozen=True, slots=True)
class FusionRecord:
    line: int
    five_gene: str | None
    three_gene: str | None
    five_chrom: str
    five_pos: int
    three_chrom: str
    three_pos: int
    support: str | None
    text: str


def _fusion_records(src: TextInput, p: Path) -> list[FusionRecord]:
    header: list[str] | None = None
    out: list[FusionRecord] = []
    for n, line in src.lines():
        if not line.strip() or line.startswith("##"):
            continue
        f = line.rstrip("\n").split("\t")
        if header is None:
            header = [h.lstrip("#").lower() for h in f]
            continue
        row = dict(zip(header, f, strict=False))
        if "fusiongene" in row or "fusionname" in row:
            name = row.get("fusiongene") or row.get("fusionname") or ""
            five_g, _, three_g = name.partition("--")
        else:
            five_g, three_g = row.get("gene1", ""), row.get("gene2", "")
        left = row.get("leftbreakpoint") or row.get("breakpoint1") or ""
        right = row.get("rightbreakpoint") or row.get("breakpoint2") or ""
        lc, lp = _bp(left, p, n)
        rc, rp = _bp(right, p, n)
        support = row.get("splitreads") or row.get("junctionreadcount") or row.get("split_reads1")
        out.append(FusionRecord(
            n, _gene(five_g), _gene(three_g), lc, lp, rc, rp, support, f"{five_g}--{three_g}"
        ))
    if header is None:
        raise InputError("empty fusion table", path=p)
    return out


def _gene(text: str) -> str | None:
    t = text.strip().split("^")[0].split(",")[0].split("(")[0]
    return t or None


def _bp(text: str, path: Path, line: int) -> tuple[str, int]:
    parts = text.strip().split(":")
    bad = InputError(f"breakpoint {text[:60]!r} is not chrom:pos", path=path, where=f"line {line}")
    if len(parts) < 2 or not parts[0]:
        raise bad
    try:
        pos = int(parts[1])
    except ValueError as e:
        raise bad from e
    if not 0 < pos <= MAX_POSITION:
        raise bad
    return parts[0], pos
