#!/usr/bin/env python3
"""Constructed serial-ctDNA demo patient for ``resmark track`` (test_vcfs/track/).

Everything here is CONSTRUCTED for demonstration and testing: real GRCh38
coordinates of real resistance hotspots (codons from shared/reference
hotspot_codons.tsv; RB1 positions from the MANE transcript NM_000321.3),
invented allele fractions.  Reads are synthesised from the embedded
reference sequence, so REF bases are the genome's.

    python3 scripts/make_demo_bams.py --vcfs            # rewrite test_vcfs/track/*.vcf
    python3 scripts/make_demo_bams.py --bams OUTDIR     # write BAMs + samplesheet_bams.tsv

The functions (``Allele``, ``Locus``, ``write_bam``) are also used by the tests
to make small BAMs in temporary directories; no BAM is committed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from annotator.core import chromnames  # noqa: E402
from annotator.core.genome import GRCH38  # noqa: E402

TRACK_DIR = REPO / "test_vcfs" / "track"
Fetch = Callable[[str, int, int], "str | None"]

READ_LEN = 100
FRAG_LEN = 150
BASE_QUAL = 30


@dataclass(frozen=True)
class Allele:
    pos: int  # VCF-style, 1-based, as the variant is written (padding base for indels)
    ref: str
    alt: str
    vaf: float
    placement: tuple[int, str, str] | None = None  # how the reads carry it, if not as written


@dataclass(frozen=True)
class Locus:
    """Alleles close enough to share fragments; each fragment carries at most one ALT."""

    chrom: str  # canonical
    alleles: tuple[Allele, ...]
    depth: int  # fragments covering every allele of the locus
    junk_alt_reads: int = 0  # per kind: duplicate, secondary, supplementary, QC-fail, low MAPQ, low BQ
    discordant_pairs: int = 0  # extra fragments whose mates disagree (ALT / REF) at the first allele

    @property
    def start(self) -> int:
        return min(a.pos for a in self.alleles)

    @property
    def end(self) -> int:
        return max(a.pos + len(a.ref) - 1 for a in self.alleles)

    def alt_counts(self) -> list[int]:
        return [round(self.depth * a.vaf) for a in self.alleles]


@dataclass
class _Hap:
    bases: list[str] = field(default_factory=list)
    refpos: list[int | None] = field(default_factory=list)  # 0-based; None = inserted base


def _haplotype(chrom: str, start0: int, length: int, fetch: Fetch, edit: tuple[int, str, str] | None) -> _Hap:
    seq = fetch(chrom, start0 + 1, start0 + length + 50)
    if seq is None:
        raise ValueError(f"no reference sequence for {chrom}:{start0 + 1}")
    hap = _Hap(list(seq.upper()), list(range(start0, start0 + len(seq))))
    if edit is not None:
        pos, ref, alt = edit
        i = pos - 1 - start0
        if seq[i : i + len(ref)].upper() != ref.upper():
            raise ValueError(f"REF {ref} does not match the reference at {chrom}:{pos}")
        new = list(alt.upper())
        # keep the shared first base aligned; everything else becomes inserted/deleted/mismatched
        if len(ref) == len(alt):
            hap.bases[i : i + len(ref)] = new
        elif len(ref) > len(alt):
            del hap.bases[i + len(alt) : i + len(ref)]
            del hap.refpos[i + len(alt) : i + len(ref)]
        else:
            hap.bases[i + 1 : i + 1] = new[1:]
            hap.refpos[i + 1 : i + 1] = [None] * (len(alt) - 1)
    hap.bases = hap.bases[:length]
    hap.refpos = hap.refpos[:length]
    return hap


def _cigar(refpos: Sequence[int | None]) -> tuple[int, list[tuple[int, int]]]:
    ops: list[tuple[int, int]] = []

    def add(op: int, n: int = 1) -> None:
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + n)
        else:
            ops.append((op, n))

    first = next(r for r in refpos if r is not None)
    prev: int | None = None
    for r in refpos:
        if r is None:
            add(4 if prev is None else 1)  # leading insertion becomes a soft clip
            continue
        if prev is not None and r > prev + 1:
            add(2, r - prev - 1)
        add(0)
        prev = r
    if ops[-1][0] == 1:
        ops[-1] = (4, ops[-1][1])
    return first, ops


def write_bam(
    path: Path,
    loci: Sequence[Locus],
    fetch: Fetch,
    *,
    style: str = "ucsc",
    lengths: dict[str, int] | None = None,
) -> Path:
    """Write a coordinate-sorted, indexed BAM with the fragments of ``loci``."""
    import pysam

    lengths = dict(lengths or GRCH38.lengths)
    names = [chromnames.to_style(c, style, "GRCh38") for c in lengths]
    header = {"HD": {"VN": "1.6", "SO": "unsorted"},
              "SQ": [{"SN": n, "LN": ln} for n, ln in zip(names, lengths.values(), strict=True)],
              "RG": [{"ID": "demo", "SM": path.stem}]}
    tid = {c: i for i, c in enumerate(lengths)}
    unsorted = path.with_name(path.name + ".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for li, locus in enumerate(loci):
            for seg in _fragments(li, locus, fetch):
                name, flag, hap, mapq, qual = seg
                start, cigar = _cigar(hap.refpos)
                a = pysam.AlignedSegment(out.header)
                a.query_name = name
                a.flag = flag
                a.reference_id = tid[locus.chrom]
                a.reference_start = start
                a.mapping_quality = mapq
                a.cigartuples = cigar
                a.query_sequence = "".join(hap.bases)
                a.query_qualities = pysam.qualitystring_to_array(chr(33 + qual) * len(hap.bases))
                a.set_tag("RG", "demo")
                out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return path


def _fragments(li: int, locus: Locus, fetch: Fetch) -> list[tuple[str, int, _Hap, int, int]]:
    """(name, flag, read haplotype, MAPQ, base quality) for every read of a locus."""
    span = locus.end - locus.start + 1
    room = FRAG_LEN - span - 30
    counts = locus.alt_counts()
    owners: list[Allele | None] = []
    for a, n in zip(locus.alleles, counts, strict=True):
        owners += [a] * n
    owners += [None] * (locus.depth - len(owners))
    reads: list[tuple[str, int, _Hap, int, int]] = []

    def edit_of(a: Allele | None) -> tuple[int, str, str] | None:
        return None if a is None else (a.placement or (a.pos, a.ref, a.alt))

    for i, owner in enumerate(owners):
        offset = 15 + (i * 37) % max(room, 1)
        s0 = locus.start - 1 - offset
        frag = _haplotype(locus.chrom, s0, FRAG_LEN, fetch, edit_of(owner))
        r1 = _Hap(frag.bases[:READ_LEN], frag.refpos[:READ_LEN])
        r2 = _Hap(frag.bases[FRAG_LEN - READ_LEN :], frag.refpos[FRAG_LEN - READ_LEN :])
        name = f"L{li}F{i}"
        reads.append((name, 0x1 | 0x2 | 0x20 | 0x40, r1, 60, BASE_QUAL))
        reads.append((name, 0x1 | 0x2 | 0x10 | 0x80, r2, 60, BASE_QUAL))
    first = locus.alleles[0]
    for k in range(locus.discordant_pairs):
        s0 = locus.start - 1 - (FRAG_LEN - READ_LEN + 10)  # the site lies in both mates
        alt = _haplotype(locus.chrom, s0, FRAG_LEN, fetch, edit_of(first))
        ref = _haplotype(locus.chrom, s0, FRAG_LEN, fetch, None)
        name = f"L{li}D{k}"
        reads.append((name, 0x1 | 0x2 | 0x20 | 0x40, _Hap(alt.bases[:READ_LEN], alt.refpos[:READ_LEN]), 60, BASE_QUAL))
        reads.append((name, 0x1 | 0x2 | 0x10 | 0x80,
                      _Hap(ref.bases[FRAG_LEN - READ_LEN :], ref.refpos[FRAG_LEN - READ_LEN :]), 60, BASE_QUAL))
    junk = (("dup", 0x400, 60, BASE_QUAL), ("sec", 0x100, 60, BASE_QUAL), ("sup", 0x800, 60, BASE_QUAL),
            ("qcf", 0x200, 60, BASE_QUAL), ("mq", 0, 5, BASE_QUAL), ("bq", 0, 60, 5))
    for k in range(locus.junk_alt_reads):
        s0 = locus.start - 1 - 40
        hap = _haplotype(locus.chrom, s0, READ_LEN, fetch, edit_of(first))
        reads += [(f"L{li}{tag}{k}", flag, hap, mapq, bq) for tag, flag, mapq, bq in junk]
    return reads


# ----------------------------------------------------------------------------- the demo patient

PATIENT = "DEMO-P1"
THERAPY = "palbociclib + letrozole (CDK4/6 inhibitor + aromatase inhibitor), first line"
# label, date, depth, tumour fraction, therapy at the draw
TIMEPOINTS = (
    ("T0_baseline", "2023-01-10", 1200, 0.15, "none (before first-line therapy)"),
    ("T1_on_treatment", "2023-04-11", 1600, 0.03, THERAPY),
    ("T2_progression", "2023-10-03", 1400, 0.12, THERAPY),
)
# name, chrom, pos, ref, alt, VAF per timepoint
VARIANTS = (
    ("PIK3CA H1047R", "chr3", 179234297, "A", "G", (0.12, 0.02, 0.09)),
    ("TP53 R175H", "chr17", 7675088, "C", "T", (0.08, 0.01, 0.0)),
    ("ESR1 Y537S", "chr6", 152098788, "A", "C", (0.0, 0.0, 0.04)),
    ("ESR1 D538G", "chr6", 152098791, "A", "G", (0.0, 0.0, 0.015)),
    ("RB1 R320*", "chr13", 48367512, "C", "T", (0.0, 0.0, 0.025)),
    ("RB1 c.?delA (frameshift)", "chr13", 48342616, "GA", "G", (0.0, 0.0025, 0.03)),
)
RB1_DEL_RIGHT = (48342620, "AA", "A")  # the same deletion placed at the 3' end of the A5 run


def demo_loci(t: int) -> list[Locus]:
    depth = TIMEPOINTS[t][2]
    by_name = {v[0]: v for v in VARIANTS}

    def allele(name: str, placement: tuple[int, str, str] | None = None) -> Allele:
        _, _, pos, ref, alt, vafs = by_name[name]
        return Allele(pos, ref, alt, vafs[t], placement)

    return [
        Locus("chr3", (allele("PIK3CA H1047R"),), depth),
        Locus("chr17", (allele("TP53 R175H"),), depth),
        Locus("chr6", (allele("ESR1 Y537S"), allele("ESR1 D538G")), depth),
        Locus("chr13", (allele("RB1 R320*"),), depth),
        # on treatment the aligner placed the deletion 3' in the repeat
        Locus("chr13", (allele("RB1 c.?delA (frameshift)", RB1_DEL_RIGHT if t == 1 else None),), depth),
    ]


def _vcf_header(sample: str, style: str) -> list[str]:
    lines = [
        "##fileformat=VCFv4.2",
        "##source=resmark track demo (CONSTRUCTED: real GRCh38 coordinates, invented allele fractions)",
        "##reference=GRCh38",
        f"##tumor_sample={sample}",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=weak_evidence,Description="Mutect2: mutation does not meet likelihood threshold">',
        '##INFO=<ID=NOTE,Number=1,Type=String,Description="What this constructed record demonstrates">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
    ]
    lines += [f"##contig=<ID={chromnames.to_style(c, style, 'GRCh38')},length={n}>"
              for c, n in GRCH38.lengths.items()]
    lines.append(f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}")
    return lines


# Which records each timepoint's VCF holds and how they are written (see README.md)
#   T0: force-called at the patient's alleles (chr names), D538G missing
#   T1: force-called, Ensembl names (no chr), RB1 deletion written 3' in the repeat
#   T2: ordinary PASS calls only, Y537S written with a padding base (TA>TC)
def demo_records(t: int) -> list[tuple[str, int, str, str, str, int, int, str]]:
    label, _, depth, _, _ = TIMEPOINTS[t]
    out = []
    for name, chrom, pos, ref, alt, vafs in VARIANTS:
        n_alt = round(depth * vafs[t])
        called = n_alt >= 3
        if t == 0 and name == "ESR1 D538G":
            continue
        if t == 2 and not called:
            continue
        p, r, a = pos, ref, alt
        if t == 1 and name.startswith("RB1 c."):
            p, r, a = RB1_DEL_RIGHT
        if t == 2 and name == "ESR1 Y537S":
            p, r, a = 152098787, "TA", "TC"
        out.append((chrom, p, r, a, "PASS" if called else "weak_evidence", depth - n_alt, n_alt, name))
    return out


def write_demo_vcfs(directory: Path = TRACK_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for t, (label, *_rest) in enumerate(TIMEPOINTS):
        style = "ensembl" if t == 1 else "ucsc"
        sample = f"{PATIENT}_{label.split('_')[0]}"
        lines = _vcf_header(sample, style)
        recs = sorted(demo_records(t), key=lambda r: (chromnames.PRIMARY.index(r[0]), r[1]))
        for chrom, pos, ref, alt, filt, n_ref, n_alt, name in recs:
            dp = n_ref + n_alt
            af = n_alt / dp
            gt = "0/1" if n_alt else "0/0"
            lines.append(
                f"{chromnames.to_style(chrom, style, 'GRCh38')}\t{pos}\t.\t{ref}\t{alt}\t.\t{filt}\t"
                f"NOTE={name.replace(' ', '_').replace(';', '_')}\tGT:AD:AF:DP\t{gt}:{n_ref},{n_alt}:{af:.4f}:{dp}"
            )
        path = directory / f"{PATIENT}_{label}.vcf"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def samplesheet_text(vcfs: Sequence[Path], bams: Sequence[Path] | None, relative_to: Path | None) -> str:
    cols = ["patient", "timepoint", "date", "vcf"] + (["bam"] if bams else []) + ["tumor_fraction", "therapy"]
    rows = ["\t".join(cols)]
    for i, (label, date, _, tf, therapy) in enumerate(TIMEPOINTS):
        v = vcfs[i].name if relative_to else str(vcfs[i])
        cells = [PATIENT, label, date, v] + ([str(bams[i])] if bams else []) + [str(tf), therapy]
        rows.append("\t".join(cells))
    return "\n".join(rows) + "\n"


def write_demo_bams(outdir: Path, fetch: Fetch | None = None) -> list[Path]:
    if fetch is None:
        from annotator.reference import load_reference

        fetch = load_reference("GRCh38").sequence
    outdir.mkdir(parents=True, exist_ok=True)
    return [
        write_bam(outdir / f"{PATIENT}_{label}.bam", demo_loci(t), fetch)
        for t, (label, *_r) in enumerate(TIMEPOINTS)
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vcfs", action="store_true", help="rewrite the demo VCFs in test_vcfs/track/")
    ap.add_argument("--bams", type=Path, help="write the demo BAMs and samplesheet_bams.tsv here")
    args = ap.parse_args(argv)
    if args.vcfs:
        vcfs = write_demo_vcfs()
        (TRACK_DIR / "samplesheet.tsv").write_text(samplesheet_text(vcfs, None, TRACK_DIR), encoding="utf-8")
        print(f"wrote {len(vcfs)} VCFs and samplesheet.tsv in {TRACK_DIR}")
    if args.bams:
        vcfs = [TRACK_DIR / f"{PATIENT}_{label}.vcf" for label, *_ in TIMEPOINTS]
        bams = write_demo_bams(args.bams)
        (args.bams / "samplesheet_bams.tsv").write_text(samplesheet_text(vcfs, bams, None), encoding="utf-8")
        print(f"wrote {len(bams)} BAMs and samplesheet_bams.tsv in {args.bams}")
    if not (args.vcfs or args.bams):
        ap.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
