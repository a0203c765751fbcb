#!/usr/bin/env python3
"""Write the constructed demo tumour VCF (test_vcfs/demo/).

The records are CONSTRUCTED for demonstration: real GRCh38 coordinates of
real resistance hotspots (codon positions from shared/reference
hotspot_codons.tsv, which checks them against the genome), invented read
counts.  The REF base of every record is checked against the embedded
reference when it is available (``--check``).

    python3 scripts/make_demo.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from annotator.core.genome import GRCH38  # noqa: E402

OUT = REPO / "test_vcfs" / "demo" / "demo_tumour.grch38.vcf"

# chrom, pos, id, ref, alt, filter, tumour (ref, alt...) reads, normal reads, note
RECORDS = [
    ("chr3", 179218303, ".", "G", "A", "weak_evidence", (180, 6), (90, 0), "PIK3CA E545K, filtered"),
    ("chr3", 179234297, "COSV55873195", "A", "G", "PASS", (310, 140), (120, 0), "PIK3CA H1047R"),
    ("chr6", 152098785, ".", "T", "A,C", "PASS", (400, 14, 9), (150, 0, 0), "ESR1 L536H and L536P (multi-allelic)"),
    ("chr6", 152098788, ".", "A", "C", "PASS", (420, 38), (140, 0), "ESR1 Y537S"),
    ("chr6", 152098791, ".", "A", "G", "PASS", (415, 19), (139, 0), "ESR1 D538G"),
    ("chr10", 87933147, ".", "C", "T", "PASS", (260, 71), (110, 0), "PTEN R130* (stop gained)"),
    ("chr10", 121498520, ".", "A", "C", "PASS", (300, 33), (120, 0), "FGFR2 N549K"),
    ("chr14", 104780214, ".", "C", "T", "PASS", (280, 52), (100, 0), "AKT1 E17K"),
    ("chr17", 7674220, ".", "C", "T", "PASS", (240, 95), (98, 0), "TP53 R248Q"),
    ("chr2", 47403000, ".", "G", "A", "PASS", (200, 60), (80, 0), "off panel (intergenic)"),
]

# copy-number records (Manta/DRAGEN style symbolic <CNV>): chrom, pos, ref, end, copy number, note.
# POS/END span the whole gene (MANE GRCh38 spans: FGFR1 chr8:38411143-38468635,
# CCNE1 chr19:29811991-29824312); REF is the genome base (N where resmark embeds no sequence).
CNV_RECORDS = [
    ("chr8", 38409200, "G", 38500000, 9, "FGFR1 amplification"),
    ("chr19", 29800001, "N", 29830000, 11, "CCNE1 amplification"),
]


def header() -> list[str]:
    lines = [
        "##fileformat=VCFv4.2",
        "##source=resmark demo (CONSTRUCTED: real GRCh38 hotspot coordinates, invented read counts)",
        "##reference=GRCh38",
        "##tumor_sample=DEMO_TUMOUR",
        "##normal_sample=DEMO_NORMAL",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=weak_evidence,Description="Mutect2: mutation does not meet likelihood threshold">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
        '##INFO=<ID=NOTE,Number=1,Type=String,Description="What this constructed record demonstrates">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">',
        '##INFO=<ID=CN,Number=1,Type=Float,Description="Tumour copy number">',
        '##ALT=<ID=CNV,Description="Copy number variable region">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
    ]
    lines += [f"##contig=<ID={c},length={n},assembly=GRCh38>" for c, n in GRCH38.lengths.items()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tDEMO_TUMOUR\tDEMO_NORMAL")
    return lines


def sample(reads: tuple[int, ...], n_alts: int) -> str:
    depth = sum(reads)
    afs = ",".join(f"{a / depth:.3f}" for a in reads[1:])
    gt = "0/1" if n_alts == 1 else "0/1/2"
    if sum(reads[1:]) == 0:
        gt = "0/0"
    return f"{gt}:{','.join(map(str, reads))}:{afs}:{depth}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="check REF bases against the embedded reference")
    args = ap.parse_args()
    if args.check:
        from annotator.reference import load_reference

        ref = load_reference("GRCh38")
        for chrom, pos, _, r, _, _, _, _, note in RECORDS:
            seq = ref.sequence(chrom, pos, pos + len(r) - 1)
            if seq is not None and seq != r:
                print(f"REF mismatch at {chrom}:{pos} ({note}): file {r}, genome {seq}", file=sys.stderr)
                return 1
    lines = header()
    for chrom, pos, vid, r, alt, filt, tumour, normal, note in RECORDS:
        n = len(alt.split(","))
        info = f"DP={sum(tumour) + sum(normal)};NOTE={note.replace(' ', '_').replace(',', '').replace(';', '')}"
        lines.append(
            "\t".join(
                [chrom, str(pos), vid, r, alt, ".", filt, info, "GT:AD:AF:DP", sample(tumour, n), sample(normal, n)]
            )
        )
    for chrom, pos, r, end, cn, note in CNV_RECORDS:
        info = f"SVTYPE=CNV;END={end};CN={cn};NOTE={note.replace(' ', '_')}"
        lines.append("\t".join([chrom, str(pos), ".", r, "<CNV>", ".", "PASS", info, "GT", "./.", "./."]))
    order = {f"chr{i}": i for i in range(1, 23)}
    body = sorted(lines[len(header()):], key=lambda ln: (order[ln.split("\t")[0]], int(ln.split("\t")[1])))
    lines = header() + body
    OUT.write_text("\n".join(lines) + "\n")
    import pysam

    gz = OUT.with_suffix(".vcf.gz")
    pysam.tabix_compress(str(OUT), str(gz), force=True)
    pysam.tabix_index(str(gz), preset="vcf", force=True)
    OUT.unlink()
    print(f"wrote {gz}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
