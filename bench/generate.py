"""Deterministic generator of realistic Mutect2-like VCFs for benchmarks and cohorts.

* ``wgs``: a whole-genome somatic VCF with N records spread over the GRCh38
  chromosomes in proportion to their real lengths, plus the panel hotspots of
  ``bench/data/hotspot_codons_GRCh38.tsv`` (real coordinates, REF = the codon
  base); every record inside a panel gene region with embedded sequence takes
  its REF from the reference, so resmark's REF check passes.
* ``panel``: a panel-sized (targeted ctDNA) VCF: records inside panel
  regions (~80 %) and nearby (~20 %), deep coverage, 0-4 hotspots.
* ``cohort``: N panel VCFs plus a sample sheet (sample, patient, timepoint, vcf).
* ``dense``: a panel-dense VCF (deep ctDNA panel, many low-VAF calls, gVCF-like):
  N records packed inside the panel genes' regions (``bench/dense.py``), and
  beside it the FASTA and GFF3 that ``bcftools csq`` needs for the same records.

Same seed, same bytes.  Text is formatted in chunks and compressed by
``bgzip -@2`` when available (else pysam's BGZF writer).

Usage::

    python3 bench/generate.py wgs --records 5000000 -o bench/generated/wgs_5M.vcf.gz --index
    python3 bench/generate.py panel -o bench/generated/panel.vcf.gz
    python3 bench/generate.py cohort --samples 1000 -o bench/generated/cohort
    python3 bench/generate.py dense --records 1000000 -o bench/generated/dense_1M.vcf.gz --index
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from common import HOTSPOTS, panel_regions  # type: ignore[import-not-found]

from annotator.core import genome

BASES = np.array(list("ACGT"))
COMPLEMENT = str.maketrans("ACGT", "TGCA")
FILTERS = (
    "weak_evidence", "germline", "strand_bias", "clustered_events", "normal_artifact",
    "haplotype", "weak_evidence;strand_bias", "multiallelic", "slippage",
)
# (gene, codon) -> (codon position 1-3, coding-strand ALT base): the published hotspot change
HOTSPOT_CHANGES: dict[tuple[str, int], tuple[int, str]] = {
    ("PIK3CA", 1047): (2, "G"), ("PIK3CA", 545): (1, "A"), ("PIK3CA", 542): (1, "A"),
    ("PIK3CA", 345): (3, "G"), ("ESR1", 537): (2, "C"), ("ESR1", 538): (2, "G"),
    ("ESR1", 536): (2, "A"), ("AKT1", 17): (1, "A"), ("KRAS", 12): (2, "A"),
    ("KRAS", 13): (2, "A"), ("KRAS", 61): (3, "C"), ("TP53", 175): (2, "A"),
    ("TP53", 248): (2, "A"), ("TP53", 273): (2, "A"), ("TP53", 72): (2, "G"),
    ("ERBB2", 310): (2, "T"), ("ERBB2", 755): (2, "C"), ("ERBB2", 777): (1, "C"),
    ("FGFR3", 248): (1, "T"), ("FGFR3", 249): (2, "G"), ("FGFR3", 373): (2, "G"),
    ("FGFR2", 252): (2, "G"), ("FGFR2", 549): (3, "G"), ("FGFR1", 546): (3, "G"),
    ("PTEN", 130): (1, "T"), ("CDKN2A", 80): (1, "T"), ("CDK4", 24): (1, "T"),
    ("RB1", 661): (1, "T"), ("ARID1A", 1989): (1, "T"), ("NF1", 1276): (1, "T"),
    ("CCND1", 286): (2, "T"),
}


@dataclass(frozen=True)
class Hotspot:
    gene: str
    codon: int
    chrom: str
    pos: int
    ref: str
    alt: str


def load_hotspots(path: Path = HOTSPOTS) -> list[Hotspot]:
    """Genomic SNVs for the published hotspot changes, REF from the codon sequence."""
    out: list[Hotspot] = []
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            key = (row["gene"], int(row["aa_pos"]))
            if key not in HOTSPOT_CHANGES:
                continue
            cpos, coding_alt = HOTSPOT_CHANGES[key]
            positions = [int(x) for x in row["c1_c2_c3_genomic_positions"].split(",")]
            ref, alt = row["codon"][cpos - 1], coding_alt
            if row["strand"] == "-":
                ref, alt = ref.translate(COMPLEMENT), alt.translate(COMPLEMENT)
            out.append(Hotspot(key[0], key[1], row["chrom"], positions[cpos - 1], ref, alt))
    return sorted(out, key=lambda h: (_rank(h.chrom), h.pos))


def _rank(chrom: str) -> int:
    return list(genome.GRCH38.lengths).index(chrom)


class RefBases:
    """REF bases from resmark's embedded GRCh38 sequence inside panel regions."""

    def __init__(self, regions: Sequence[tuple[str, int, int]]) -> None:
        from annotator.reference import load_reference

        self.ref = load_reference("GRCh38")
        self.by_chrom: dict[str, list[tuple[int, int]]] = {}
        for c, s, e in regions:
            self.by_chrom.setdefault(c, []).append((s, e))

    def inside(self, chrom: str, pos: np.ndarray) -> np.ndarray:
        spans = self.by_chrom.get(chrom, [])
        if not spans:
            return np.zeros(len(pos), dtype=bool)
        starts = np.array([s for s, _ in spans])
        ends = np.array([e for _, e in spans])
        i = np.searchsorted(starts, pos, side="right") - 1
        ok = i >= 0
        return ok & (ends[np.maximum(i, 0)] >= pos)

    def bases(self, chrom: str, pos: int, n: int) -> str | None:
        seq = self.ref.sequence(chrom, pos, pos + n - 1)
        return seq.upper() if seq and set(seq.upper()) <= set("ACGT") else None


def header(sample: str, contigs: bool = True) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        *(f'##FILTER=<ID={f},Description="Mutect2 filter {f}">'
          for f in sorted({x for f in FILTERS for x in f.split(";")})),
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in the tumor">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
        '##FORMAT=<ID=F1R2,Number=R,Type=Integer,Description="Count of reads in F1R2 pair orientation">',
        '##FORMAT=<ID=F2R1,Number=R,Type=Integer,Description="Count of reads in F2R1 pair orientation">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 (synthetic, resmark bench/generate.py)",Version="4.5.0.0">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
        '##INFO=<ID=ECNT,Number=1,Type=Integer,Description="Number of events in this haplotype">',
        '##INFO=<ID=POPAF,Number=A,Type=Float,Description="negative log 10 population allele frequencies">',
        '##INFO=<ID=TLOD,Number=A,Type=Float,Description="Log 10 likelihood ratio score of variant">',
        "##MutectVersion=2.2",
    ]
    if contigs:
        lines += [f"##contig=<ID={c},length={n},assembly=GRCh38>" for c, n in genome.GRCH38.lengths.items()]
    lines += [
        f"##normal_sample={sample}_N",
        "##reference=file:///references/Homo_sapiens_assembly38.fasta",
        "##source=Mutect2",
        f"##tumor_sample={sample}",
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}_N\t{sample}",
    ]
    return "\n".join(lines) + "\n"


def _records(
    rng: np.random.Generator,
    chrom: str,
    pos: np.ndarray,
    refs: RefBases,
    depth: float,
    pass_rate: float,
    hotspots: dict[int, Hotspot],
) -> list[str]:
    """Formatted VCF lines for sorted unique positions of one chromosome."""
    n = len(pos)
    kind = rng.random(n)  # < .88 SNV, < .95 deletion, else insertion
    extra = rng.integers(1, 4, n)
    ref_i = rng.integers(0, 4, n)
    alt_i = (ref_i + rng.integers(1, 4, n)) % 4
    multi = (rng.random(n) < 0.02) & (kind < 0.88)
    alt2_i = (alt_i + 1) % 4
    alt2_i = np.where(alt2_i == ref_i, (alt2_i + 1) % 4, alt2_i)
    filt = np.where(rng.random(n) < pass_rate, -1, rng.integers(0, len(FILTERS), n))
    dp_t = rng.poisson(depth, n) + 8
    vaf = np.clip(rng.beta(1.3, 7.0, n), 0.005, 0.98)
    alt_t = np.maximum(1, rng.binomial(dp_t, vaf))
    alt2_t = np.where(multi, np.maximum(1, alt_t // 3), 0)
    ref_t = np.maximum(0, dp_t - alt_t - alt2_t)
    dp_n = rng.poisson(max(depth * 0.6, 20.0), n) + 5
    alt_n = rng.binomial(dp_n, 0.002)
    f1_t = rng.binomial(alt_t, 0.5)
    f1_r = rng.binomial(ref_t, 0.5)
    popaf = np.round(rng.uniform(1.0, 7.3, n), 2)
    tlod = np.round(alt_t * rng.uniform(2.5, 3.5, n), 2)
    ecnt = rng.integers(1, 4, n)
    rand_seq = BASES[rng.integers(0, 4, (n, 4))]
    inside = refs.inside(chrom, pos)

    # plain lists: element access on numpy arrays in a Python loop is several times slower
    kind_l, extra_l, inside_l, multi_l = kind.tolist(), extra.tolist(), inside.tolist(), multi.tolist()
    ref_l, alt_l, alt2_l = BASES[ref_i].tolist(), alt_i.tolist(), BASES[alt2_i].tolist()
    alt_t, ref_t, alt2_t, dp_t = alt_t.tolist(), ref_t.tolist(), alt2_t.tolist(), dp_t.tolist()
    f1_t, f1_r, alt_n, dp_n = f1_t.tolist(), f1_r.tolist(), alt_n.tolist(), dp_n.tolist()
    popaf_l, tlod_l, ecnt_l, filt_l = popaf.tolist(), tlod.tolist(), ecnt.tolist(), filt.tolist()
    seq_l = ["".join(r) for r in rand_seq.tolist()]
    lines: list[str] = []
    filters = ("PASS", *FILTERS)
    for j, p in enumerate(pos.tolist()):
        hs = hotspots.get(p)
        k = kind_l[j]
        span = 1 if k < 0.88 else int(extra_l[j]) + 1 if k < 0.95 else 1
        ref = None
        if hs is not None:
            ref, alt = hs.ref, hs.alt
        else:
            if inside_l[j]:
                ref = refs.bases(chrom, p, span)
            if ref is None:
                ref = ref_l[j] + seq_l[j][: span - 1]
            if k < 0.88:
                alt_b = "ACGT"[alt_l[j]]
                if alt_b == ref[0]:
                    alt_b = "ACGT"[(alt_l[j] + 1) % 4]
                alt = alt_b
                if multi_l[j]:
                    b2 = alt2_l[j]
                    if b2 in (ref[0], alt_b):
                        b2 = next(b for b in "ACGT" if b not in (ref[0], alt_b))
                    alt = f"{alt_b},{b2}"
            elif k < 0.95:
                alt = ref[0]
            else:
                alt = ref + seq_l[j][: extra_l[j]]
        at, rt, a2, dt = alt_t[j], ref_t[j], alt2_t[j], dp_t[j]
        f1a, f1r, an, dn = f1_t[j], f1_r[j], alt_n[j], dp_n[j]
        pa, tl, ec = popaf_l[j], tlod_l[j], ecnt_l[j]
        filt_s = "PASS" if hs is not None else filters[filt_l[j] + 1]
        if "," in alt:
            info = f"DP={dt + dn};ECNT={ec};POPAF={pa:.2f},{pa:.2f};TLOD={tl:.2f},{a2 * 3.1:.2f}"
            fmt_n = (f"0/0:{dn - an},{an},0:{an / dn:.3f},0.000:{dn}:{(dn - an) // 2},{an},0:"
                     f"{dn - an - (dn - an) // 2},0,0")
            fmt_t = (f"0/1/2:{rt},{at},{a2}:{at / dt:.3f},{a2 / dt:.3f}:{dt}:{f1r},{f1a},{a2 // 2}:"
                     f"{rt - f1r},{at - f1a},{a2 - a2 // 2}")
        else:
            info = f"DP={dt + dn};ECNT={ec};POPAF={pa:.2f};TLOD={tl:.2f}"
            fmt_n = f"0/0:{dn - an},{an}:{an / dn:.3f}:{dn}:{(dn - an) // 2},{an}:{dn - an - (dn - an) // 2},0"
            fmt_t = f"0/1:{rt},{at}:{at / dt:.3f}:{dt}:{f1r},{f1a}:{rt - f1r},{at - f1a}"
        lines.append(
            f"{chrom}\t{p}\t.\t{ref}\t{alt}\t.\t{filt_s}\t{info}\tGT:AD:AF:DP:F1R2:F2R1\t{fmt_n}\t{fmt_t}\n"
        )
    return lines


def _positions(
    rng: np.random.Generator, length: int, n: int, fixed: Sequence[int], avoid_end: int = 10
) -> np.ndarray:
    pos = np.unique(rng.integers(1, length - avoid_end, n))
    if fixed:
        pos = np.union1d(pos, np.array(fixed, dtype=pos.dtype))
    return pos


def wgs_lines(
    n_records: int, seed: int, refs: RefBases, hotspots: Sequence[Hotspot]
) -> Iterator[list[str]]:
    rng = np.random.default_rng(seed)
    lengths = {c: n for c, n in genome.GRCH38.lengths.items() if c != "chrM"}
    weights = np.array([n * (0.3 if c == "chrY" else 1.0) for c, n in lengths.items()])
    counts = rng.multinomial(n_records, weights / weights.sum())
    for (chrom, length), count in zip(lengths.items(), counts, strict=True):
        here = {h.pos: h for h in hotspots if h.chrom == chrom}
        pos = _positions(rng, length, int(count), sorted(here))
        for lo in range(0, len(pos), 200_000):
            yield _records(rng, chrom, pos[lo : lo + 200_000], refs, 55.0, 0.35, here)


def panel_lines(
    n_records: int, seed: int, refs: RefBases, regions: Sequence[tuple[str, int, int]],
    hotspots: Sequence[Hotspot],
) -> Iterator[list[str]]:
    """Targeted-panel calls: 80 % inside panel regions, the rest within 50 kb of one."""
    rng = np.random.default_rng(seed)
    chosen_hs = [hotspots[i] for i in rng.choice(len(hotspots), rng.integers(0, 5), replace=False)]
    sizes = np.array([e - s + 1 for _, s, e in regions], dtype=float)
    which = rng.choice(len(regions), n_records, p=sizes / sizes.sum())
    near = rng.random(n_records) >= 0.8
    per: dict[str, list[int]] = {}
    for r, off in zip(which.tolist(), near.tolist(), strict=True):
        c, s, e = regions[r]
        p = int(rng.integers(s, e + 1))
        if off:
            p = max(1, e + int(rng.integers(1, 50_000)))
        per.setdefault(c, []).append(p)
    for h in chosen_hs:
        per.setdefault(h.chrom, []).append(h.pos)
    for chrom in sorted(per, key=_rank):
        here = {h.pos: h for h in chosen_hs if h.chrom == chrom}
        pos = np.unique(np.array(per[chrom], dtype=np.int64))
        yield _records(rng, chrom, pos, refs, 1800.0, 0.8, here)


class _Sink:
    """BGZF output through ``bgzip -@2`` when installed, else pysam's writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc: subprocess.Popen[bytes] | None = None
        self.fh: IO[bytes] | Any
        bgzip = shutil.which("bgzip")
        if path.suffix == ".gz" and bgzip:
            self._out = open(path, "wb")  # noqa: SIM115 - closed in close()
            self.proc = subprocess.Popen([bgzip, "-@2", "-c"], stdin=subprocess.PIPE, stdout=self._out)
            self.fh = self.proc.stdin
        elif path.suffix == ".gz":
            import pysam

            self.fh = pysam.BGZFile(str(path), "wb")
        else:
            self.fh = open(path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, text: str) -> None:
        self.fh.write(text.encode("ascii"))

    def close(self) -> None:
        self.fh.close()
        if self.proc is not None:
            if self.proc.wait() != 0:
                raise RuntimeError("bgzip failed")
            self._out.close()


def write_vcf(path: Path, sample: str, chunks: Iterator[list[str]], index: bool = False) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = _Sink(path)
    n = 0
    try:
        sink.write(header(sample))
        for lines in chunks:
            sink.write("".join(lines))
            n += len(lines)
    finally:
        sink.close()
    if index:
        import pysam

        pysam.tabix_index(str(path), preset="vcf", force=True)
    return n


def _check_hotspots(hotspots: Sequence[Hotspot], refs: RefBases) -> None:
    for h in hotspots:
        seq = refs.ref.sequence(h.chrom, h.pos, h.pos)
        if seq is not None and seq.upper() != h.ref:
            raise SystemExit(f"{h.gene} codon {h.codon}: REF {h.ref} but reference has {seq}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=("wgs", "panel", "cohort", "dense"))
    ap.add_argument("-o", "--out", required=True, type=Path)
    ap.add_argument("--records", type=int, default=None, help="records (wgs: 5,000,000; panel: 300)")
    ap.add_argument("--samples", type=int, default=1000, help="cohort size")
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--sample", default="BENCH01")
    ap.add_argument("--index", action="store_true", help="also write a tabix index")
    ap.add_argument("--targets", choices=("genes", "exons"), default="genes",
                    help="dense: records over the panel genes' regions, or only over coding exons +/- 20 bp")
    args = ap.parse_args(argv)

    if args.kind == "dense":
        import dense  # type: ignore[import-not-found]

        gene_regions = dense.load_regions()
        # "exons": a capture panel's coding targets (most records coding), else the genes' regions
        within = dense.coding_targets() if args.targets == "exons" else panel_regions("GRCh38")
        n = write_vcf(args.out, args.sample,
                      dense.dense_lines(args.records or 100_000, args.seed, gene_regions, within),
                      args.index)
        fasta, gff = dense.write_csq_reference(args.out.parent, gene_regions)
        print(f"{args.out}: {n} records; bcftools csq inputs {fasta}, {gff}")
        return
    regions = panel_regions("GRCh38")
    refs = RefBases(regions)
    hotspots = load_hotspots()
    _check_hotspots(hotspots, refs)
    if args.kind == "wgs":
        n = write_vcf(args.out, args.sample,
                      wgs_lines(args.records or 5_000_000, args.seed, refs, hotspots), args.index)
        print(f"{args.out}: {n} records")
    elif args.kind == "panel":
        n = write_vcf(args.out, args.sample,
                      panel_lines(args.records or 300, args.seed, refs, regions, hotspots), args.index)
        print(f"{args.out}: {n} records")
    else:
        write_cohort(args.out, args.samples, args.records or 300, args.seed, refs, regions, hotspots)


def write_cohort(
    out: Path, samples: int, records: int, seed: int, refs: RefBases,
    regions: Sequence[tuple[str, int, int]], hotspots: Sequence[Hotspot],
) -> None:
    """Panel VCFs named S0001.vcf.gz ... and samplesheet.tsv (3 timepoints per patient)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(samples):
        name = f"S{i + 1:04d}"
        patient, tp = f"P{i // 3 + 1:04d}", f"T{i % 3}"
        path = out / f"{name}.vcf.gz"
        write_vcf(path, name, panel_lines(records, seed + i, refs, regions, hotspots))
        rows.append((name, patient, tp, f"2024-0{i % 3 + 1}-15", path.name))
    with open(out / "samplesheet.tsv", "w", encoding="utf-8") as fh:
        fh.write("sample\tpatient\ttimepoint\tdate\tvcf\n")
        fh.writelines("\t".join(r) + "\n" for r in rows)
    print(f"{out}: {samples} panel VCFs and samplesheet.tsv")


if __name__ == "__main__":
    main()
