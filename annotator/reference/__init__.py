"""Embedded reference: MANE transcript models, panel-gene sequence, gene spans.

``load_reference(build)`` reads what ``scripts/build_reference.py`` wrote to
``annotator/data/reference``; ``fasta=`` adds a user's indexed FASTA, which
then supplies every base it holds (and so sequence for genes that ship without
it; bases it lacks still come from the embedded regions); ``gtf=`` adds
transcript models from a GTF/GFF3 (``annotator.reference.gtf``) for the
requested genes the embedded set lacks, or for all of them with
``gtf_only=True``.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections.abc import Collection, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from annotator.core import chromnames, genome, resources
from annotator.core.jsondoc import JsonObject
from annotator.errors import ReferenceError_
from annotator.reference.genetable import GeneTable, load_gene_coordinates
from annotator.reference.sequence import EmbeddedSequence, UserFasta
from annotator.reference.transcripts import (
    GeneRegion,
    SequenceContig,
    Transcript,
    load_transcripts,
)

__all__ = [
    "DEFAULT_EXTRA_GENES",
    "FLANK",
    "GeneRegion",
    "Reference",
    "SequenceContig",
    "Transcript",
    "load_reference",
]

if TYPE_CHECKING:
    from annotator.reference.gtf import GtfModels

log = logging.getLogger(__name__)

FLANK = 5000  # VEP's upstream/downstream distance

# Genes located from the MANE coordinate table in addition to the transcript
# models: resistance pathways of CDK4/6, endocrine and PI3K/AKT/mTOR therapy.
DEFAULT_EXTRA_GENES: tuple[str, ...] = (
    "EGFR", "ERBB3", "FZR1", "E2F1", "E2F2", "E2F3", "PLK1", "AURKA", "AURKB", "CDK2", "CDK7",
    "SRC", "STAT1", "MTOR", "RPTOR", "RICTOR", "TSC1", "TSC2", "MAP2K1", "MAP2K2", "MAPK1",
    "HRAS", "NRAS", "KRAS", "BRAF", "RAF1", "NF1", "PIK3R1", "PIK3CB", "AKT2", "AKT3", "PTEN",
    "ESR1", "PGR", "AR", "GATA3", "FOXA1", "NCOA3", "SPOP", "CTCF", "KMT2C", "KMT2D", "ARID1B",
    "CDKN1A", "CDKN1B", "CDKN2B", "CDKN2C", "CCND2", "CCND3", "CDK4", "CDK6", "CCNE1", "CCNE2",
    "RB1", "TP53", "MDM2", "MYC", "ERBB2", "ERBB4", "FGFR1", "FGFR2", "FGFR3", "FGFR4", "FGF3",
    "FGF4", "FGF19", "MET", "ALK", "RET", "ROS1", "NTRK1", "NTRK2", "NTRK3", "IGF1R", "INPP4B",
    "PDK1", "PDPK1", "SGK1", "STK11", "PTPN11", "BRCA1", "BRCA2", "PALB2", "ATM", "CHEK2",
    "FAT1", "YAP1", "TEAD1", "NOTCH1", "ARID1A", "CREBBP", "EP300", "TERT",
)


# Where to aim tabix queries for genes whose MANE record is off the primary assembly
# (so the embedded MANE table has no span): MUC16, 19p13.2, NCBI Gene 94025 placement,
# approximate.  Only the GTF's own lines locate the gene; a query that misses falls back
# to one streaming pass, so a wrong hint costs time, never a wrong answer.
TABIX_HINTS: Mapping[str, Mapping[str, tuple[str, int, int]]] = MappingProxyType({
    "GRCh38": MappingProxyType({"MUC16": ("chr19", 8_848_844, 8_981_342)}),
    "GRCh37": MappingProxyType({"MUC16": ("chr19", 8_959_520, 9_092_018)}),
})
HINT_MARGIN = 500_000


def _ref_dir() -> Path:
    return resources.reference_dir()


class Reference:
    """Transcript models, sequence and gene spans of one build."""

    def __init__(
        self,
        build: str,
        transcripts: Mapping[str, Transcript],
        coordinates: Mapping[str, GeneRegion],
        embedded: EmbeddedSequence | None,
        user_fasta: UserFasta | None = None,
        provenance: JsonObject | None = None,
        model_sources: Mapping[str, str] | None = None,
        requested_genes: Collection[str] = (),
    ) -> None:
        self.build = build
        self.transcripts = transcripts
        # gene -> "embedded" | "gtf": where each transcript model came from
        self.model_sources = dict(model_sources or dict.fromkeys(transcripts, "embedded"))
        self.requested_genes = tuple(sorted(requested_genes))  # the panel's genes, when given
        self._coordinates = GeneTable.of(coordinates)
        self._embedded = embedded
        self._user = user_fasta
        self._provenance = dict(provenance or {})
        # genes_at's index, built per chromosome when first searched (most runs touch a few)
        self._index: dict[str, tuple[list[int], list[tuple[int, int, str]], int]] = {}
        self._tx_spans: dict[str, list[tuple[int, int, str]]] = {}
        for t in transcripts.values():
            self._tx_spans.setdefault(t.chrom, []).append((t.start - FLANK, t.end + FLANK, t.gene))

    # ------------------------------------------------------------ genes

    def gene_regions(
        self, extra_genes: Collection[str] | None = None, flank: int = 0
    ) -> tuple[GeneRegion, ...]:
        """Transcript-model genes plus ``extra_genes`` (default DEFAULT_EXTRA_GENES).

        Spans are exon-to-exon (``flank`` bases added on both sides); unknown
        symbols are skipped with a warning.
        """
        out: dict[str, GeneRegion] = {}
        for t in self.transcripts.values():
            out[t.gene] = GeneRegion(t.gene, t.chrom, t.start, t.end, t.strand)
        for gene in DEFAULT_EXTRA_GENES if extra_genes is None else extra_genes:
            if gene in out:
                continue
            region = self._coordinates.get(gene)
            if region is None:
                log.info("gene %s has no %s coordinates in the embedded table", gene, self.build)
                continue
            out[gene] = region
        regions = (
            GeneRegion(r.gene, r.chrom, max(1, r.start - flank), r.end + flank, r.strand)
            for r in out.values()
        )
        return tuple(sorted(regions, key=lambda r: (_chrom_rank(r.chrom), r.start, r.gene)))

    def gene_region(self, gene: str) -> GeneRegion | None:
        t = self.transcripts.get(gene)
        if t is not None:
            return GeneRegion(t.gene, t.chrom, t.start, t.end, t.strand)
        return self._coordinates.get(gene)

    def genes_at(self, chrom: str, start: int, end: int) -> tuple[str, ...]:
        """Genes overlapping chrom:start-end; transcript-model genes with a 5 kb flank."""
        return self.genes_at_canonical(chromnames.canonical(chrom), start, end)

    def genes_at_canonical(self, chrom: str, start: int, end: int) -> tuple[str, ...]:
        """``genes_at`` for a name already in canonical form (the engine's hot path)."""
        entry = self._index.get(chrom)
        if entry is None:
            entry = self._index[chrom] = self._chrom_index(chrom)
        starts, spans, max_len = entry
        if not spans:
            return ()
        hi = bisect.bisect_right(starts, end)
        lo = bisect.bisect_left(starts, start - max_len)
        found = [g for s, e, g in spans[lo:hi] if s <= end and e >= start]
        return tuple(dict.fromkeys(found))

    def _chrom_index(self, chrom: str) -> tuple[list[int], list[tuple[int, int, str]], int]:
        """(sorted span starts, the spans, the longest span): transcript-model genes with
        their flank, the table's other genes as given."""
        spans = list(self._tx_spans.get(chrom, ()))
        spans += [(g.start, g.end, g.gene) for g in self._coordinates.on_chrom(chrom)
                  if g.gene not in self.transcripts]
        spans.sort()
        return [s for s, _, _ in spans], spans, max((e - s for s, e, _ in spans), default=0) + 1

    # ------------------------------------------------------------ sequence

    def sequence(self, chrom: str, start: int, end: int) -> str | None:
        """Plus-strand bases of chrom:start-end (1-based inclusive), None when not covered."""
        if end < start:
            return ""
        return self.sequence_canonical(chromnames.canonical(chrom), start, end)

    def sequence_canonical(self, chrom: str, start: int, end: int) -> str | None:
        """``sequence`` for a name already in canonical form (the engine's hot path)."""
        if end < start:
            return ""
        if self._user is not None:
            seq = self._user.fetch(chrom, start, end)
            if seq is not None:
                return seq
        if self._embedded is not None:
            return self._embedded.fetch(chrom, start, end)
        return None

    def has_sequence(self, gene: str) -> bool:
        """True when every coding base of the gene's transcript (or its span) has reference bases."""
        t = self.transcripts.get(gene)
        region = self.gene_region(gene)
        if region is None:
            return False
        sources = [x for x in (self._user, self._embedded) if x is not None]
        if t is None:
            return any(x.covers(region.chrom, region.start, region.end) for x in sources)
        if t.cds_seq is not None:
            return True
        # the coding bases decide: substitutions need them for an amino-acid change
        coding = [(max(s, t.cds_start), min(e, t.cds_end)) for s, e in t.exons
                  if s <= t.cds_end and e >= t.cds_start]
        return all(any(x.covers(t.chrom, s, e) for x in sources) for s, e in coding)

    def note_settings(self, origins: Mapping[str, str]) -> None:
        """Record where the FASTA/GTF settings came from (option, environment, config file)."""
        self._provenance.update(origins)

    @property
    def user_fasta(self) -> Path | None:
        return self._user.path if self._user is not None else None

    def describe(self) -> JsonObject:
        info: JsonObject = {
            "build": self.build,
            "transcripts": len(self.transcripts),
            "genes_with_sequence": sorted(g for g in self.transcripts if self.has_sequence(g)),
            "gene_coordinates": len(self._coordinates),
            "user_fasta": str(self._user.path) if self._user is not None else None,
            "models": {g: self.model_sources.get(g, "embedded") for g in sorted(self.transcripts)},
            "panel_genes_unlocated": [g for g in self.requested_genes if self.gene_region(g) is None],
        }
        info.update(self._provenance)
        return info


def _chrom_rank(chrom: str) -> int:
    return chromnames.PRIMARY.index(chrom) if chrom in chromnames.PRIMARY else 99


def load_reference(
    build: str,
    fasta: str | Path | None = None,
    data_dir: Path | None = None,
    *,
    gtf: str | Path | None = None,
    gtf_only: bool = False,
    genes: Collection[str] | None = None,
) -> Reference:
    """The embedded reference of ``build`` (GRCh37/GRCh38 or an alias), plus an optional FASTA/GTF.

    ``genes`` are the symbols a GTF is read for (the panel's; default: the
    embedded models plus ``DEFAULT_EXTRA_GENES``).  Without ``gtf_only`` the
    GTF adds models for the genes the embedded set lacks; with it, every
    model comes from the GTF (embedded sequence still fills bases a FASTA lacks).
    """
    name = genome.get(build).name
    root = data_dir if data_dir is not None else _ref_dir()
    tx_path = root / f"transcripts_{name}.json"
    if not tx_path.is_file():
        raise ReferenceError_(
            "embedded reference is missing; run scripts/build_reference.py", path=tx_path
        )
    tset = load_transcripts(tx_path)
    coords: Mapping[str, GeneRegion] = load_gene_coordinates(root / f"gene_coordinates_{name}.tsv")
    embedded = EmbeddedSequence(root / f"regions_{name}.fa.gz", tset.contigs)
    user = UserFasta(fasta, name) if fasta is not None else None
    provenance: JsonObject = {}
    manifest = root / "MANIFEST.json"
    if manifest.is_file():
        doc = json.loads(manifest.read_text())
        provenance = {
            "sources": doc.get("sources", {}),
            "inputs_sha256": doc.get("inputs", {}),
            "files_sha256": {
                k: v for k, v in doc.get("outputs", {}).items() if name in k
            },
        }
    transcripts: dict[str, Transcript] = dict(tset.transcripts)
    sources = dict.fromkeys(transcripts, "embedded")
    if gtf is not None:
        wanted = set(genes) if genes is not None else set(DEFAULT_EXTRA_GENES)
        wanted |= set(transcripts)  # --gtf-only replaces every embedded model
        if gtf_only:
            transcripts, sources = {}, {}
        need = wanted - set(transcripts)
        if need:
            models = _read_gtf(gtf, name, need, coords, root, tset.transcripts)
            located = dict(coords)
            for gene, t in models.transcripts.items():
                transcripts[gene] = t
                sources[gene] = "gtf"
                located[gene] = GeneRegion(gene, t.chrom, t.start, t.end, t.strand, t.refseq or None)
            coords = located
            provenance["gtf"] = models.describe()
            log.info("%s: %d transcript models read (%s, %s)", models.path,
                     len(models.transcripts), models.fmt, models.flavour)
        else:
            log.info("%s: every requested gene has an embedded model; GTF not read", gtf)
            provenance["gtf_not_read"] = str(gtf)
    if user is not None:
        from annotator.reference.gtf import sha256_of

        provenance["fasta"] = {"path": str(user.path), "sha256": sha256_of(user.path)}
    return Reference(name, transcripts, coords, embedded, user, provenance, sources,
                     requested_genes=genes or ())


def _read_gtf(
    gtf: str | Path,
    build: str,
    wanted: set[str],
    coords: Mapping[str, GeneRegion],
    root: Path,
    embedded: Mapping[str, Transcript],
) -> GtfModels:
    from annotator.reference.gtf import read_gtf

    other = "GRCh37" if build == "GRCh38" else "GRCh38"
    other_coords = load_gene_coordinates(root / f"gene_coordinates_{other}.tsv")
    known = dict(coords)
    for gene, (chrom, start, end) in TABIX_HINTS.get(build, {}).items():
        known.setdefault(gene, GeneRegion(gene, chrom, max(1, start - HINT_MARGIN), end + HINT_MARGIN, "."))
    for t in embedded.values():  # embedded models: exact spans for the tabix queries
        known[t.gene] = GeneRegion(t.gene, t.chrom, t.start, t.end, t.strand)
    mane = {g: r.refseq for g, r in coords.items() if r.refseq}
    return read_gtf(gtf, wanted, build, known=known, other_build=(other, other_coords),
                    mane_refseq=mane)
