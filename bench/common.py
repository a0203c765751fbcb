"""Helpers shared by the benchmark generator and harness (not part of the package).

The panel regions used to generate data and to drive ``bcftools view -R/-T``
are exactly the ones resmark queries: ``PanelRegions.build`` over the
reference's gene regions restricted to the built-in panel's genes.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # scripts run as ``python3 bench/x.py`` from a checkout
    sys.path.insert(0, str(REPO))

WORK = REPO / "bench" / "generated"
HOTSPOTS = REPO / "bench" / "data" / "hotspot_codons_GRCh38.tsv"


def panel_genes() -> set[str] | None:
    """Gene symbols of the built-in panel, or None while the knowledge base is absent."""
    try:
        from annotator.knowledge import load_panel
    except ImportError:
        return None
    return set(load_panel(None).gene_symbols())


def panel_regions(build: str = "GRCh38") -> list[tuple[str, int, int]]:
    """Sorted, merged (chrom, start, end) 1-based regions resmark reads through an index."""
    from annotator.annotation.pipeline import PanelRegions
    from annotator.reference import load_reference

    ref = load_reference(build)
    genes = panel_genes()
    # as annotator.api.annotate_file: transcript-model genes plus the panel's genes
    regions = PanelRegions.build(
        (r.chrom, r.start, r.end, r.gene) for r in ref.gene_regions(extra_genes=genes)
    )
    return regions.query_regions()


def write_bed(path: Path, regions: list[tuple[str, int, int]]) -> None:
    with open(path, "w", encoding="ascii") as fh:
        for chrom, start, end in regions:
            fh.write(f"{chrom}\t{start - 1}\t{end}\n")
