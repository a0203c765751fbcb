"""Gene-level copy-number tables.

* cBioPortal discrete (GISTIC ``all_thresholded.by_genes`` style):
  ``Hugo_Symbol [Entrez_Gene_Id] [Cytoband] SAMPLE...`` with -2 (deep
  deletion), -1 (shallow loss), 0, 1 (gain), 2 (amplification).
* Gene + copy number: a gene column (gene, Hugo_Symbol, symbol, gene_name)
  and a copy-number column (copy_number, cn, copyNumber, total_cn, tot_cn,
  or PURPLE's ``minCopyNumber`` from ``*.purple.cnv.gene.tsv``).
"""

from __future__ import annotations

from annotator.cnv.segment import (
    CnvInput,
    GeneLevel,
    Table,
    cells,
    check_columns,
    copy_number,
    number,
)
from annotator.errors import InputError

_GENE = ("gene", "hugo_symbol", "symbol", "gene_name", "gene_symbol", "genes")
_CN = ("minCopyNumber", "copy_number", "copynumber", "cn", "total_cn", "tot_cn")
_META = ("hugo_symbol", "entrez_gene_id", "cytoband", "locus id", "locus_id", "gene id")
DISCRETE_CLASSES = {-2: "deep_deletion", -1: "loss", 0: "neutral", 1: "gain", 2: "amplification"}


def detect_gene_cn(table: Table) -> bool:
    return table.col(*_GENE) is not None and table.col(*_CN) is not None


def read_gene_cn(table: Table) -> CnvInput:
    g, c = table.col(*_GENE), table.col(*_CN)
    assert g is not None and c is not None
    genes: list[GeneLevel] = []
    for line, f in table.rows:
        check_columns(table, f, line)
        cn = copy_number(cells(f, c), table, line, table.header[c])
        sym = cells(f, g)
        if not sym or cn is None:
            continue
        genes.append(GeneLevel(sym, copy_number=cn, line=line))
    fmt = "purple-gene" if table.col("minCopyNumber") is not None else "gene-cn"
    return CnvInput(path=table.path, fmt=fmt, source="gene-table", genes=tuple(genes))


def detect_discrete(table: Table) -> bool:
    return bool(table.header) and table.header[0].lower() == "hugo_symbol" and len(
        _sample_columns(table)
    ) >= 1


def _sample_columns(table: Table) -> list[int]:
    return [i for i, h in enumerate(table.header) if h.lower() not in _META]


def read_discrete(table: Table, sample: str | None) -> CnvInput:
    samples = _sample_columns(table)
    names = [table.header[i] for i in samples]
    if len(samples) == 1:
        col = samples[0]
    elif sample in names:
        col = samples[names.index(sample)]
    else:
        raise InputError(
            f"{len(names)} samples in the gene table and none is named {sample!r} "
            f"(samples: {', '.join(names[:10])})",
            path=table.path,
        )
    genes: list[GeneLevel] = []
    for line, f in table.rows:
        check_columns(table, f, line)
        v = number(cells(f, col), table, line, table.header[col])
        if v is None:
            continue
        if v != int(v) or int(v) not in DISCRETE_CLASSES:
            raise InputError(
                f"discrete copy-number value {v:g} is not one of -2, -1, 0, 1, 2",
                path=table.path, where=f"line {line}",
            )
        genes.append(GeneLevel(f[0], discrete=int(v), line=line))
    return CnvInput(
        path=table.path, fmt="cbioportal-discrete", source="gene-table", genes=tuple(genes),
        sample=table.header[col],
    )
