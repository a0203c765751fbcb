"""Choosing one transcript per gene from an annotation file's records, and the build check.

Order (documented in docs/reference.md): the MANE Select tag, else the
Ensembl_canonical tag, else the longest CDS (then the longest transcript, then
the smallest id).  Transcripts flagged incomplete (``cds_start_NF`` ...) are
used only when a gene has nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core import chromnames
from annotator.errors import ReferenceError_
from annotator.reference.transcripts import GeneRegion, Transcript

_INCOMPLETE_TAGS = frozenset({"cds_start_nf", "cds_end_nf", "mrna_start_nf", "mrna_end_nf"})


@dataclass
class TxRecord:
    """One transcript's lines as read (exons, CDS and stop codons, tags, ids)."""

    gene: str
    tid: str
    chrom: str
    strand: str
    line: int
    tags: set[str] = field(default_factory=set)
    exons: list[tuple[int, int]] = field(default_factory=list)
    cds: list[tuple[int, int]] = field(default_factory=list)
    refseq: str = ""
    ensembl: str = ""
    protein: str | None = None
    coding: bool | None = None  # biotype when the file gives one




def _to_model(tx: TxRecord, refseq: str) -> Transcript | None:
    exons = sorted(set(tx.exons))
    if not exons or not tx.cds or tx.strand not in "+-" or tx.coding is False:
        return None
    for (_, e1), (s2, _) in zip(exons, exons[1:], strict=False):
        if s2 <= e1:
            return None  # overlapping exons: not a model we can map
    cds_start = min(s for s, _ in tx.cds)
    cds_end = max(e for _, e in tx.cds)
    length = sum(max(0, min(e, cds_end) - max(s, cds_start) + 1) for s, e in exons)
    if length == 0 or length % 3:
        return None
    ordered = tuple(exons if tx.strand == "+" else reversed(exons))
    return Transcript(
        gene=tx.gene, chrom=tx.chrom, strand=tx.strand, refseq=tx.refseq or refseq,
        ensembl=tx.ensembl, exons=ordered, cds_start=cds_start, cds_end=cds_end,
        cds_length=length, cds_seq=None, refseq_protein=tx.protein,
    )


def choose(
    transcripts: Mapping[str, TxRecord], mane_refseq: Mapping[str, str]
) -> tuple[dict[str, Transcript], dict[str, str]]:
    per_gene: dict[str, list[TxRecord]] = {}
    for tx in transcripts.values():
        if tx.chrom in chromnames.PRIMARY:
            per_gene.setdefault(tx.gene, []).append(tx)
    models: dict[str, Transcript] = {}
    chosen: dict[str, str] = {}
    for gene, cands in sorted(per_gene.items()):
        built = []
        for tx in cands:
            is_mane = "mane_select" in tx.tags
            model = _to_model(tx, mane_refseq.get(gene, "") if is_mane else "")
            if model is not None:
                built.append((tx, model))
        if not built:
            continue
        complete = [b for b in built if not (b[0].tags & _INCOMPLETE_TAGS)] or built
        mane = [b for b in complete if "mane_select" in b[0].tags]
        canonical = [b for b in complete if "ensembl_canonical" in b[0].tags]
        if mane or canonical:
            label = "MANE Select tag" if mane else "Ensembl_canonical tag"
            pick = min(mane or canonical, key=lambda b: b[0].tid)
        else:
            label = "longest CDS"
            pick = max(complete, key=lambda b: (b[1].cds_length, b[1].end - b[1].start,
                                                 _neg(b[0].tid)))
        models[gene] = pick[1]
        chosen[gene] = label
    return models, chosen


def _neg(tid: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in tid)


def check_build(
    p: Path,
    models: Mapping[str, Transcript],
    lines: Mapping[str, int],
    build: str,
    known: Mapping[str, GeneRegion] | None,
    other_build: tuple[str, Mapping[str, GeneRegion]] | None,
) -> None:
    """Gene positions that fit the other assembly, and not this one, mean the wrong file."""
    if not known or other_build is None:
        return
    other_name, other = other_build
    here = there = 0
    first: tuple[str, int] | None = None
    for gene, t in models.items():
        a, b = known.get(gene), other.get(gene)
        if a is None or b is None or (a.chrom == b.chrom and a.start <= b.end and b.start <= a.end):
            continue  # unknown, or both assemblies place it alike: no evidence
        fits_here = a.chrom == t.chrom and a.start <= t.end and t.start <= a.end
        fits_there = b.chrom == t.chrom and b.start <= t.end and t.start <= b.end
        here += fits_here
        if fits_there and not fits_here:
            there += 1
            if first is None:
                first = (gene, lines.get(gene, 0))
    if there and there > here and first is not None:
        gene, line = first
        raise ReferenceError_(
            f"annotation looks like {other_name}: {there} of {here + there} genes (e.g. {gene}) "
            f"sit where {other_name} has them, but the variants are {build}",
            path=p, where=f"line {line}",
        )
