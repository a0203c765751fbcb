"""Write GTF / GFF3 files in the GENCODE, Ensembl and RefSeq layouts for tests.

The layouts follow the formats' public specifications: GENCODE/Ensembl GTF
``CDS`` lines exclude the stop codon, which gets its own ``stop_codon`` line;
RefSeq GFF3 ``CDS`` lines include it; GENCODE tags MANE with
``tag "MANE_Select"``, RefSeq GFF3 with ``tag=MANE Select``; Ensembl GTF ids
carry no version (``transcript_version`` holds it); Ensembl GFF3 names the
gene symbol only on the gene line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PRIMARY = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY", "chrM"]


@dataclass
class Model:
    gene: str
    chrom: str  # chrN
    strand: str
    tid: str  # versioned
    exons: Sequence[tuple[int, int]]
    cds: tuple[int, int] | None  # genomic lowest/highest CDS base, stop codon included
    tags: Sequence[str] = ()
    biotype: str = "protein_coding"
    refseq: str | None = None
    protein: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def start(self) -> int:
        return min(s for s, _ in self.exons)

    @property
    def end(self) -> int:
        return max(e for _, e in self.exons)

    def oriented_exons(self) -> list[tuple[int, int]]:
        return sorted(self.exons, reverse=self.strand == "-")

    def cds_parts(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(CDS segments without the stop codon, stop-codon segments), transcript order."""
        if self.cds is None:
            return [], []
        lo, hi = self.cds
        bases: list[int] = []
        for s, e in self.oriented_exons():
            rng = range(max(s, lo), min(e, hi) + 1)
            bases.extend(rng if self.strand == "+" else reversed(rng))
        return _runs(bases[:-3]), _runs(bases[-3:])


def _runs(bases: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for b in bases:
        if out and abs(b - out[-1][1]) == 1:
            out[-1][1] = b
        else:
            out.append([b, b])
    return [(min(a, b), max(a, b)) for a, b in out]


def models_from_shared(path: Path, build: str, decoys: bool = True) -> list[Model]:
    """MANE models of ``transcript_models.json`` plus its other LRG transcripts as decoys."""
    doc = json.loads(path.read_text())
    out: list[Model] = []
    for gene, g in sorted(doc["genes"].items()):
        b = g["builds"][build]
        mane = g["mane_select"]
        out.append(Model(gene, b["chrom"], b["strand"], mane["ensembl"],
                         [tuple(e) for e in b["mane_exons_1based"]], (b["cds_start"], b["cds_end"]),
                         ("basic", "Ensembl_canonical", "MANE_Select"), refseq=mane["refseq"]))
        if not decoys:
            continue
        for i, alt in enumerate(b.get("all_lrg_fixed_transcripts") or [], start=1):
            cds = alt.get("cds_exons_1based") or []
            if not cds or alt.get("exons_1based") == b["mane_exons_1based"]:
                continue
            lo, hi = min(s for s, _ in cds), max(e for _, e in cds)
            out.append(Model(gene, b["chrom"], b["strand"], f"ENSTLRG{i:02d}{gene}.1",
                             [tuple(e) for e in alt["exons_1based"]], (lo, hi), ("basic",)))
    return out


def _sort(models: Iterable[Model]) -> list[list[Model]]:
    """Genes in position order, each gene's transcripts together (GENCODE order)."""
    by_gene: dict[tuple[str, str], list[Model]] = {}
    for m in models:
        by_gene.setdefault((m.chrom, m.gene), []).append(m)
    return sorted(by_gene.values(), key=lambda ms: (PRIMARY.index(ms[0].chrom) if ms[0].chrom in
                  PRIMARY else 99, ms[0].chrom, min(m.start for m in ms)))


def gtf_text(models: Iterable[Model], flavour: str = "gencode", build: str = "GRCh38") -> str:
    """GENCODE (``gencode``) or Ensembl (``ensembl``: no chr prefix, unversioned ids) GTF."""
    lines = [f"##description: evidence-based annotation of the human genome ({build}), test",
             "##provider: GENCODE" if flavour == "gencode" else f"#!genome-build {build}.p14"]
    for ms in _sort(models):
        g = ms[0]
        chrom = g.chrom if flavour == "gencode" else g.chrom.removeprefix("chr")
        gid = f"ENSG{abs(hash(g.gene)) % 10**11:011d}"
        gattr = f'gene_id "{gid}"; gene_type "protein_coding"; gene_name "{g.gene}";'
        lo, hi = min(m.start for m in ms), max(m.end for m in ms)
        lines.append("\t".join([chrom, "HAVANA", "gene", str(lo), str(hi), ".", g.strand, ".", gattr]))
        for m in ms:
            tid, ver = m.tid, None
            if flavour == "ensembl" and "." in tid:
                tid, ver = tid.split(".")
            a = f'gene_id "{gid}"; transcript_id "{tid}"; gene_type "protein_coding"; gene_name "{m.gene}";'
            a += f' transcript_type "{m.biotype}";'
            if ver:
                a += f' transcript_version "{ver}";'
            a += "".join(f' tag "{t}";' for t in m.tags)
            row = [chrom, "HAVANA", "transcript", str(m.start), str(m.end), ".", m.strand, "."]
            lines.append("\t".join([*row, a]))
            for n, (s, e) in enumerate(m.oriented_exons(), start=1):
                lines.append("\t".join([chrom, "HAVANA", "exon", str(s), str(e), ".", m.strand, ".",
                                        a + f" exon_number {n};"]))
            cds, stop = m.cds_parts()
            for s, e in cds:
                lines.append("\t".join([chrom, "HAVANA", "CDS", str(s), str(e), ".", m.strand, "0", a]))
            for s, e in stop:
                lines.append("\t".join([chrom, "HAVANA", "stop_codon", str(s), str(e), ".", m.strand,
                                        "0", a]))
    return "\n".join(lines) + "\n"


REFSEQ_ACC = {"GRCh38": {"chr4": "NC_000004.12", "chr11": "NC_000011.10", "chr17": "NC_000017.11",
                         "chr19": "NC_000019.10"},
              "GRCh37": {"chr4": "NC_000004.11", "chr11": "NC_000011.9", "chr17": "NC_000017.10",
                         "chr19": "NC_000019.9"}}


def refseq_gff3_text(models: Iterable[Model], build: str = "GRCh38") -> str:
    """NCBI RefSeq GFF3: NC_ accessions, gene= on every line, CDS includes the stop codon."""
    lines = ["##gff-version 3", f"#!genome-build {build}.p14"]
    for ms in _sort(models):
        g = ms[0]
        acc = REFSEQ_ACC[build][g.chrom]
        lo, hi = min(m.start for m in ms), max(m.end for m in ms)
        lines.append("\t".join([acc, "BestRefSeq", "gene", str(lo), str(hi), ".", g.strand, ".",
                                f"ID=gene-{g.gene};Name={g.gene};gene={g.gene};gene_biotype=protein_coding"]))
        for m in ms:
            tid = m.refseq or m.tid
            tags = ("tag=" + ",".join(t.replace("_", " ") for t in m.tags if t == "MANE_Select") + ";"
                    if "MANE_Select" in m.tags else "")
            lines.append("\t".join([acc, "BestRefSeq", "mRNA", str(m.start), str(m.end), ".", m.strand,
                                    ".", f"ID=rna-{tid};Parent=gene-{m.gene};Name={tid};gene={m.gene};"
                                    f"{tags}transcript_id={tid}"]))
            for n, (s, e) in enumerate(m.oriented_exons(), start=1):
                lines.append("\t".join([acc, "BestRefSeq", "exon", str(s), str(e), ".", m.strand, ".",
                                        f"ID=exon-{tid}-{n};Parent=rna-{tid};gene={m.gene};transcript_id={tid}"]))
            cds, stop = m.cds_parts()
            for s, e in _merge(cds + stop):
                lines.append("\t".join([acc, "BestRefSeq", "CDS", str(s), str(e), ".", m.strand, "0",
                                        f"ID=cds-{tid};Parent=rna-{tid};gene={m.gene};protein_id=NP_{tid[3:]}"]))
    return "\n".join(lines) + "\n"


def ensembl_gff3_text(models: Iterable[Model], build: str = "GRCh38") -> str:
    """Ensembl GFF3: the symbol only on the gene line; transcripts and exons by Parent."""
    lines = ["##gff-version 3", f"#!genome-build GRCh38.p14 {build}"]
    for ms in _sort(models):
        g = ms[0]
        chrom = g.chrom.removeprefix("chr")
        lo, hi = min(m.start for m in ms), max(m.end for m in ms)
        gid = f"ENSG{abs(hash(g.gene)) % 10**11:011d}"
        lines.append("\t".join([chrom, "ensembl_havana", "gene", str(lo), str(hi), ".", g.strand, ".",
                                f"ID=gene:{gid};Name={g.gene};biotype=protein_coding;gene_id={gid}"]))
        for m in ms:
            tid, ver = m.tid.split(".")
            tags = "tag=" + ",".join(m.tags) + ";" if m.tags else ""
            lines.append("\t".join([chrom, "ensembl_havana", "mRNA", str(m.start), str(m.end), ".",
                                    m.strand, ".", f"ID=transcript:{tid};Parent=gene:{gid};"
                                    f"biotype={m.biotype};{tags}transcript_id={tid};version={ver}"]))
            for s, e in m.oriented_exons():
                lines.append("\t".join([chrom, "ensembl_havana", "exon", str(s), str(e), ".", m.strand,
                                        ".", f"Parent=transcript:{tid}"]))
            cds, _stop = m.cds_parts()
            for s, e in cds:
                lines.append("\t".join([chrom, "ensembl_havana", "CDS", str(s), str(e), ".", m.strand,
                                        "0", f"ID=CDS:P{tid};Parent=transcript:{tid}"]))
            for s, e in _stop:
                lines.append("\t".join([chrom, "ensembl_havana", "stop_codon", str(s), str(e), ".",
                                        m.strand, "0", f"Parent=transcript:{tid}"]))
    return "\n".join(lines) + "\n"


def _merge(parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(parts):
        if out and s <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(a, b) for a, b in out]


def bgzip_tabix(plain: Path) -> Path:
    """bgzip + tabix (GFF preset) a sorted GTF/GFF3; returns the .gz path."""
    import pysam

    # tabix needs position order (GENCODE lists minus-strand exons 5'->3'): sort as
    # `(grep ^#; grep -v ^# | sort -k1,1 -k4,4n)` would
    text = plain.read_text().splitlines()
    body = sorted((x for x in text if not x.startswith("#")),
                  key=lambda x: (x.split("\t")[0], int(x.split("\t")[3])))
    plain.write_text("\n".join([x for x in text if x.startswith("#")] + body) + "\n")
    gz = Path(str(plain) + ".gz")
    pysam.tabix_compress(str(plain), str(gz), force=True)
    pysam.tabix_index(str(gz), preset="gff", force=True)
    return gz


def region_fasta(regions: Iterable[tuple[str, int, int, str]], path: Path) -> Path:
    """A FASTA of ``chrN:start-end`` contigs (what ``samtools faidx`` writes), faidx-indexed."""
    import pysam

    with path.open("w") as fh:
        for chrom, start, end, seq in regions:
            assert len(seq) == end - start + 1, (chrom, start, end, len(seq))
            fh.write(f">{chrom}:{start}-{end}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")
    pysam.faidx(str(path))
    return path


def shared_region_fasta(shared_reference: Path, build: str, path: Path) -> Path:
    """``genomic_regions_{build}.fa`` (header build|chrN:s-e|LRG|gene) as a region FASTA."""
    regions = []
    name, chunks = None, []
    for line in (shared_reference / f"genomic_regions_{build}.fa").read_text().splitlines():
        if line.startswith(">"):
            if name:
                regions.append((*name, "".join(chunks).upper()))
            loc = line[1:].split("|")[1]
            chrom, span = loc.split(":")
            s, e = span.split("-")
            name, chunks = (chrom, int(s), int(e)), []
        else:
            chunks.append(line.strip())
    if name:
        regions.append((*name, "".join(chunks).upper()))
    return region_fasta(regions, path)
