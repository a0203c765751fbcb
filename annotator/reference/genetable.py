"""The genome's gene spans (``gene_coordinates_{build}.tsv``), read when asked for.

The table names ~19,000 genes; a run asks for the panel's few dozen by name and
for the genes at the positions of its records (``Reference.genes_at``), which
lie on a few chromosomes.  Making a ``GeneRegion`` of every line, for both
builds, was most of the fixed cost of a small run (~70 ms of every run, two
thirds of a run over a corpus of small files).  ``load_gene_coordinates`` now
splits each line once into its gene, its chromosome and the rest; a gene's
``GeneRegion`` is made when it is looked up, and a chromosome's spans when that
chromosome is first searched (``on_chrom``).  The values are those of a full
parse: the first line of a gene wins, and a malformed line is an error naming
the file when it is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from annotator.errors import ReferenceError_
from annotator.reference.transcripts import GeneRegion


class GeneTable(Mapping[str, GeneRegion]):
    """gene -> ``GeneRegion``; each made from its line when first looked up."""

    __slots__ = ("_by_chrom", "_made", "_path", "_rows")

    def __init__(self, rows: dict[str, tuple[str, str]], by_chrom: dict[str, list[str]],
                 path: Path | None = None) -> None:
        self._rows = rows  # gene -> (chrom, the rest of its line: start, end, strand[, refseq])
        self._by_chrom = by_chrom  # chrom -> its genes, in file order
        self._made: dict[str, GeneRegion] = {}
        self._path = path

    @classmethod
    def of(cls, regions: Mapping[str, GeneRegion]) -> GeneTable:
        """A table of regions already made (a GTF's, a test's)."""
        if isinstance(regions, GeneTable):
            return regions
        table = cls({}, {})
        for gene, region in regions.items():
            table._rows[gene] = (region.chrom, "")
            table._by_chrom.setdefault(region.chrom, []).append(gene)
            table._made[gene] = region
        return table

    def __getitem__(self, gene: str) -> GeneRegion:
        made = self._made.get(gene)
        if made is not None:
            return made
        chrom, rest = self._rows[gene]
        region = self._made[gene] = self._region(gene, chrom, rest)
        return region

    def __contains__(self, gene: object) -> bool:
        return gene in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def on_chrom(self, chrom: str) -> list[GeneRegion]:
        """Every gene of ``chrom`` (canonical name), in file order."""
        return [self[g] for g in self._by_chrom.get(chrom, ())]

    def _region(self, gene: str, chrom: str, rest: str) -> GeneRegion:
        cols = rest.split("\t")
        try:
            start, end, strand = int(cols[0]), int(cols[1]), cols[2]
        except (IndexError, ValueError) as exc:
            raise ReferenceError_(f"cannot read gene coordinates of {gene}: {exc}", path=self._path) from exc
        refseq = cols[3] if len(cols) > 3 and cols[3] else None
        return GeneRegion(gene, chrom, start, end, strand, refseq)


def load_gene_coordinates(path: Path) -> GeneTable:
    """gene -> span from ``gene_coordinates_{build}.tsv`` (first row wins for duplicates)."""
    rows: dict[str, tuple[str, str]] = {}
    by_chrom: dict[str, list[str]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceError_(f"cannot read gene coordinates: {exc}", path=path) from exc
    for n, line in enumerate(text.split("\n"), 1):
        if not line or line[0] == "#" or not line.strip():
            continue
        parts = line.rstrip("\r").split("\t", 2)
        if len(parts) < 3:
            raise ReferenceError_(f"cannot read gene coordinates: line {n} has fewer than 5 columns", path=path)
        gene, chrom, rest = parts
        if gene not in rows:
            rows[gene] = (chrom, rest)
            by_chrom.setdefault(chrom, []).append(gene)
    return GeneTable(rows, by_chrom, path)
