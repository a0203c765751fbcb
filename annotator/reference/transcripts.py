"""Transcript models and gene spans of the embedded reference (frozen values + loaders)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from annotator.core import chromnames
from annotator.errors import ReferenceError_


@dataclass(frozen=True)
class Transcript:
    """A MANE Select transcript: 1-based inclusive genomic exons in transcript 5'->3' order."""

    gene: str
    chrom: str
    strand: str  # "+" or "-"
    refseq: str  # versioned NM_
    ensembl: str  # versioned ENST
    exons: tuple[tuple[int, int], ...]
    cds_start: int  # lowest genomic CDS base (stop codon included)
    cds_end: int  # highest genomic CDS base
    cds_length: int
    cds_seq: str | None  # transcript orientation; None when not embedded
    refseq_protein: str | None = None

    @property
    def start(self) -> int:
        return min(s for s, _ in self.exons)

    @property
    def end(self) -> int:
        return max(e for _, e in self.exons)


@dataclass(frozen=True)
class GeneRegion:
    gene: str
    chrom: str  # canonical chrN
    start: int  # 1-based inclusive
    end: int
    strand: str
    refseq: str | None = None  # the MANE RefSeq transcript the span was taken from, when known


@dataclass(frozen=True)
class SequenceContig:
    """One piece of embedded sequence: contig ``name`` holds chrom:start-end (plus strand)."""

    name: str
    chrom: str
    start: int
    end: int


@dataclass(frozen=True)
class TranscriptSet:
    build: str
    transcripts: Mapping[str, Transcript]
    contigs: tuple[SequenceContig, ...]


def load_transcripts(path: Path) -> TranscriptSet:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ReferenceError_(f"cannot read embedded transcript models: {exc}", path=path) from exc
    tx: dict[str, Transcript] = {}
    for gene, t in doc["transcripts"].items():
        tx[gene] = Transcript(
            gene=gene,
            chrom=chromnames.canonical(t["chrom"]),
            strand=t["strand"],
            refseq=t["refseq"],
            ensembl=t["ensembl"],
            exons=tuple((int(s), int(e)) for s, e in t["exons"]),
            cds_start=int(t["cds_start"]),
            cds_end=int(t["cds_end"]),
            cds_length=int(t["cds_length"]),
            cds_seq=t.get("cds_seq") or None,
            refseq_protein=t.get("refseq_protein"),
        )
    contigs = tuple(SequenceContig(n, c, int(s), int(e)) for n, c, s, e in doc["sequence_contigs"])
    return TranscriptSet(doc["build"], MappingProxyType(tx), contigs)
