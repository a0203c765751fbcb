"""Which column of a VCF is the tumour, and which the matched normal.

Callers say it in several ways, strongest first:

* ``--sample`` (the user);
* ``##tumor_sample=`` / ``##normal_sample=`` (GATK Mutect2, bcbio, SAGE);
* ``##SAMPLE=<ID=..,Genomes=Tumor|Germline>`` (bcbio), ``IsTumor=yes|no``,
  ``##PEDIGREE=<Derived=tumour,Original=normal>`` (SnpEff cancer mode, bcbio);
* the caller's command line in the header: GATK ``--tumor-sample``/``-tumor``,
  ``--normal-sample``/``-normal``; Strelka/Manta ``--tumorBam=``/``--normalBam=``
  (whose file name holds the sample name);
* column names: ``TUMOR``/``NORMAL`` (Strelka, vcf2maf), TCGA barcodes (sample
  type 01-09 tumour, 10-19 normal), and names that say normal: ``normal``,
  ``germline``, ``blood``, ``buffy``, ``WBC``, a ``-N``/``_N`` or ``BL``/``Bld``
  suffix.

When exactly one sample is recognisably the normal, the other one is the
tumour (RNA columns of a DNA+RNA file are not taken for the tumour).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from annotator.errors import UsageError

TUMOUR_NAMES = frozenset({"TUMOR", "TUMOUR"})
NORMAL_NAMES = frozenset({"NORMAL"})
_NORMAL_WORD = re.compile(r"(normal|germline|blood|buffy|wbc|pbmc)|([-_.]N\d*|BL|Bld)$", re.I)
_TUMOUR_WORD = re.compile(r"(tumou?r|somatic|cancer)|[-_.](T|TP)\d*$", re.I)
_RNA_WORD = re.compile(r"(^|[-_.])rna($|[-_.])", re.I)
_TCGA = re.compile(r"^TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}-(\d\d)[A-Z]?", re.I)
_CMD_TUMOUR = re.compile(r"(?:--tumou?r-sample|-tumou?r|--tumou?r)[ =]+[\"']?([^\s\"',]+)")
_CMD_NORMAL = re.compile(r"(?:--normal-sample|-normal|--normal)[ =]+[\"']?([^\s\"',]+)")
_CMD_BAM = re.compile(r"--(tumou?r|normal)Bam[ =]+[\"']?([^\s\"',]+)", re.I)


@dataclass(frozen=True)
class Choice:
    tumour: str | None
    tumour_index: int | None
    reason: str  # how the tumour was chosen (provenance: tumour_sample_chosen_by)
    normal: str | None = None
    normal_index: int | None = None


@dataclass(frozen=True)
class Hints:
    """What the header says about tumour and normal samples."""

    tumour: tuple[tuple[str, str], ...] = ()  # (sample, where the header says so)
    normal: tuple[tuple[str, str], ...] = ()


def header_hints(lines: Sequence[str], samples: Sequence[str]) -> Hints:
    """Tumour/normal statements of the header lines, limited to samples of the file."""
    have = set(samples)
    tumour: list[tuple[str, str]] = []
    normal: list[tuple[str, str]] = []

    def add(target: list[tuple[str, str]], name: str, why: str) -> None:
        name = name.strip().strip('"')
        if name in have and (name, why) not in target:
            target.append((name, why))

    for line in lines:
        if line.startswith("##tumor_sample="):
            add(tumour, line.split("=", 1)[1], "##tumor_sample header")
        elif line.startswith("##normal_sample="):
            add(normal, line.split("=", 1)[1], "##normal_sample header")
        elif line.startswith("##SAMPLE=<"):
            fields = _fields(line)
            sid = fields.get("ID", "")
            genomes = fields.get("Genomes", "").lower()
            is_tumour = fields.get("IsTumor", fields.get("IsTumour", "")).lower()
            if genomes in ("tumor", "tumour", "cancer") or is_tumour in ("yes", "true", "1"):
                add(tumour, sid, "##SAMPLE header (tumour)")
            elif genomes in ("germline", "normal") or is_tumour in ("no", "false", "0"):
                add(normal, sid, "##SAMPLE header (germline)")
        elif line.startswith("##PEDIGREE=<"):
            fields = _fields(line)
            add(tumour, fields.get("Derived", ""), "##PEDIGREE Derived")
            add(normal, fields.get("Original", ""), "##PEDIGREE Original")
        elif line.startswith("##") and ("CommandLine" in line or "cmdline" in line.lower()
                                        or "command" in line.lower()):
            for m in _CMD_TUMOUR.finditer(line):
                add(tumour, m.group(1), "caller command line (tumour sample)")
            for m in _CMD_NORMAL.finditer(line):
                add(normal, m.group(1), "caller command line (normal sample)")
            for m in _CMD_BAM.finditer(line):
                bam = m.group(2).rsplit("/", 1)[-1]
                named = [s for s in samples if s and s in bam]
                if named:
                    best = max(named, key=len)
                    target = tumour if m.group(1).lower().startswith("tum") else normal
                    add(target, best, f"caller command line ({m.group(1)}Bam)")
    return Hints(tuple(tumour), tuple(normal))


def _fields(line: str) -> dict[str, str]:
    start, end = line.find("<"), line.rfind(">")
    inner = line[start + 1 : end] if 0 <= start < end else ""
    return {m.group(1): m.group(2).strip('"')
            for m in re.finditer(r'([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|[^,]*)', inner)}


def _name_says_normal(name: str) -> bool:
    tcga = _TCGA.match(name)
    if tcga:
        return 10 <= int(tcga.group(1)) <= 19
    return name.upper() in NORMAL_NAMES or bool(_NORMAL_WORD.search(name)) and not bool(
        re.search(r"tumou?r", name, re.I)
    )


def _name_says_tumour(name: str) -> bool:
    tcga = _TCGA.match(name)
    if tcga:
        return 1 <= int(tcga.group(1)) <= 9
    return name.upper() in TUMOUR_NAMES or bool(_TUMOUR_WORD.search(name))


def choose(
    samples: Sequence[str], requested: str | None, hints: Hints, path: str
) -> Choice:
    """Pick the tumour column (and the normal, when one is recognisable)."""
    if requested is not None:
        if requested not in samples:
            listed = ", ".join(samples) if samples else "none (sites-only VCF)"
            raise UsageError(
                f"sample {requested!r} is not in the header; samples are: {listed}", path=path
            )
        return _with_normal(samples, requested, "--sample", hints)
    if not samples:
        return Choice(None, None, "sites-only VCF (no sample columns)")
    stated = [n for n, why in hints.tumour if why == "##tumor_sample header"]
    if stated:
        return _with_normal(samples, stated[0], "##tumor_sample header", hints)
    if len(samples) == 1:
        return _with_normal(samples, samples[0], "only sample in the file", hints)
    named = [s for s in samples if s.upper() in TUMOUR_NAMES]
    if len(named) == 1:
        return _with_normal(samples, named[0], "column named TUMOR", hints)
    stated_tumours = {n for n, _ in hints.tumour}
    if len(stated_tumours) == 1:
        name, why = hints.tumour[0]
        return _with_normal(samples, name, why, hints)
    normals = {n for n, _ in hints.normal} - stated_tumours
    why = "the other sample is the normal (" + (hints.normal[0][1] if hints.normal else "") + ")"
    if not normals:
        normals = {s for s in samples if _name_says_normal(s)}
        why = "the other sample's name says normal (" + ", ".join(sorted(normals)) + ")"
    rest = [s for s in samples if s not in normals]
    if len(rest) > 1:
        dna = [s for s in rest if not _RNA_WORD.search(s)]
        if len(dna) < len(rest):
            rest, why = dna, why + "; RNA columns left out"
    if len(rest) > 1:
        tumour_named = [s for s in rest if _name_says_tumour(s)]
        if len(tumour_named) == 1 and normals:
            rest, why = tumour_named, why + "; its name says tumour"
    if normals and len(rest) == 1:
        return _with_normal(samples, rest[0], why, hints, normals)
    raise UsageError(
        f"{len(samples)} samples and no header line or sample name says which is the tumour; "
        f"choose one with --sample (samples: {', '.join(samples)})",
        path=path,
    )


def _with_normal(
    samples: Sequence[str], tumour: str, reason: str, hints: Hints, normals: set[str] | None = None
) -> Choice:
    index = list(samples).index(tumour)
    others = [s for s in samples if s != tumour]
    candidates = list(dict.fromkeys(n for n, _ in hints.normal if n != tumour))
    if not candidates and normals:
        candidates = [n for n in samples if n in normals and n != tumour]
    if not candidates:
        candidates = [s for s in others if s.upper() in NORMAL_NAMES or _name_says_normal(s)]
    normal = candidates[0] if len(candidates) == 1 else None
    return Choice(tumour, index, reason, normal, list(samples).index(normal) if normal else None)
