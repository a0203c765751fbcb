"""cBioPortal's copy-number and structural-variant files, written next to the MAF.

cBioPortal imports mutations (MAF), discrete copy number and structural
variants as separate files (docs.cbioportal.org, "File Formats"):

* ``<sample>.resmark.data_cna.txt``: the discrete CNA table, one row per gene
  (``Hugo_Symbol``, ``Entrez_Gene_Id``) and one column per sample holding
  -2 (deep deletion), -1 (loss), 0, 1 (gain) or 2 (amplification), the
  GISTIC-style values cBioPortal expects for ``DISCRETE`` data.
* ``<sample>.resmark.data_sv.txt``: the SV table (``Sample_Id``,
  ``SV_Status``, ``Site1_*``/``Site2_*`` gene, Entrez id, chromosome and
  position, ``Class``, ``Event_Info``, ``NCBI_Build``, ``Comments``).

A file is written only when the sample has such calls.  Values are taken
from resmark's rows: a gene's copy-number class from ``--cnv`` segments or a
CNV caller's VCF, an SV's genes and breakpoint from the SV record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from annotator.core import chromnames
from annotator.core.rows import Row
from annotator.errors import OutputError

CNA_VALUE: Mapping[str, int] = {"deep_deletion": -2, "loss": -1, "gain": 1, "amplification": 2}
SV_COLUMNS = (
    "Sample_Id", "SV_Status", "Site1_Hugo_Symbol", "Site1_Entrez_Gene_Id", "Site1_Chromosome",
    "Site1_Position", "Site2_Hugo_Symbol", "Site2_Entrez_Gene_Id", "Site2_Chromosome",
    "Site2_Position", "Class", "Event_Info", "NCBI_Build", "Comments",
)
# resmark sv_type (VCF SVTYPE or call kind) -> cBioPortal Class
SV_CLASS: Mapping[str, str] = {
    "DEL": "DELETION", "DUP": "DUPLICATION", "INV": "INVERSION", "INS": "INSERTION",
    "BND": "TRANSLOCATION", "TRA": "TRANSLOCATION", "CTX": "TRANSLOCATION", "FUSION": "FUSION",
}


def is_cna(row: Row) -> bool:
    """A gene-level copy-number call (from segments or a CNV caller), not an SV record."""
    return row.alteration_class in CNA_VALUE and bool(row.gene) and row.sv_type in (None, "CNV")


def is_sv(row: Row) -> bool:
    return bool(row.gene) and row.sv_type not in (None, "CNV")


def cna_table(rows: Sequence[Row]) -> dict[str, int]:
    """Gene -> discrete value; a gene called twice keeps the more extreme call."""
    out: dict[str, int] = {}
    for r in rows:
        if is_cna(r) and r.gene:
            v = CNA_VALUE[str(r.alteration_class)]
            if abs(v) > abs(out.get(r.gene, 0)):
                out[r.gene] = v
    return out


def write_cna(path: Path, sample: str, rows: Sequence[Row], entrez: Mapping[str, str]) -> int:
    table = cna_table(rows)
    if not table:
        return 0
    lines = ["\t".join(("Hugo_Symbol", "Entrez_Gene_Id", _clean(sample)))]
    lines += [f"{g}\t{entrez.get(g, '')}\t{v}" for g, v in sorted(table.items())]
    _write(path, lines)
    return len(table)


def _site(text: str | None, style: str) -> tuple[str, str]:
    chrom, _, pos = (text or "").rpartition(":")
    if not chrom or not pos.isdigit():
        return "", ""
    return chromnames.to_style(chromnames.canonical(chrom), style), pos


def sv_record(r: Row, sample: str, entrez: Mapping[str, str], build: str) -> dict[str, str]:
    style = chromnames.style_of(r.input_chrom)
    style = style if style in ("ucsc", "ensembl") else "ensembl"
    chrom1, pos1 = _site(r.breakpoint, style)
    if not chrom1:
        chrom1, pos1 = chromnames.to_style(r.chrom, style), str(r.pos)
    kind = (r.sv_type or "").upper()
    partner = r.partner_gene or ""
    info = f"{r.gene}-{partner} fusion" if partner and kind in ("FUSION", "BND", "TRA") else (
        f"{r.gene} {r.alteration_class or 'rearrangement'}")
    return {
        "Sample_Id": _clean(sample), "SV_Status": "SOMATIC",
        "Site1_Hugo_Symbol": r.gene or "", "Site1_Entrez_Gene_Id": entrez.get(r.gene or "", ""),
        "Site1_Chromosome": chrom1, "Site1_Position": pos1,
        "Site2_Hugo_Symbol": partner, "Site2_Entrez_Gene_Id": entrez.get(partner, "") if partner else "",
        "Site2_Chromosome": "", "Site2_Position": "",
        "Class": SV_CLASS.get(kind, kind or "UNKNOWN"), "Event_Info": _clean(info),
        "NCBI_Build": build, "Comments": _clean(r.rule_id or ""),
    }


def write_sv(path: Path, sample: str, rows: Sequence[Row], entrez: Mapping[str, str], *, build: str) -> int:
    svs = [r for r in rows if is_sv(r)]
    if not svs:
        return 0
    lines = ["\t".join(SV_COLUMNS)]
    for r in svs:
        rec = sv_record(r, sample, entrez, build)
        lines.append("\t".join(rec[c] for c in SV_COLUMNS))
    _write(path, lines)
    return len(svs)


def _clean(value: str) -> str:
    return " ".join(value.split())


def _write(path: Path, lines: Sequence[str]) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(lines) + "\n")
    except OSError as e:
        raise OutputError(f"cannot write cBioPortal table ({e.strerror})", path=path) from e
