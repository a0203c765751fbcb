#!/usr/bin/env python3
"""Benchmark: built-in consequence + HGVS on random panel-CDS variants.

    python3 bench/bench_consequence.py [--n 20000] [--runs 5] [--build GRCh38] [--seed 7]

Prints two rates for the same variants, measured in the same run:

* the consequence engine alone (``ConsequenceEngine.annotate`` on pre-built
  keys: consequence + HGVS, nothing else);
* end to end through ``annotate`` (the variants written as a sorted VCF:
  reading, normalising, consequence, knowledge-base match, TSV written),
  including panel and reference loading (fixed costs), not interpreter start-up.

VEP's published ~1,700 variants/second (McLaren et al. 2016, Genome Biology
17:122, offline cache) is an end-to-end figure on other inputs and another
machine: it is printed for orientation only; it is not a like-for-like
comparison and no ratio is drawn from it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotator.consequence import ConsequenceEngine  # noqa: E402
from annotator.core.models import VariantKey  # noqa: E402
from annotator.reference import load_reference  # noqa: E402

VEP_PER_SECOND = 1700


def make_variants(build: str, n: int, seed: int) -> list[VariantKey]:
    """Seeded SNVs (70 %), deletions (15 %) and insertions (15 %) in panel CDS (+/- 10 bp)."""
    ref = load_reference(build)
    rng = random.Random(seed)
    spans = []
    for t in ref.transcripts.values():
        for s, e in t.exons:
            a, b = max(s, t.cds_start) - 10, min(e, t.cds_end) + 10
            if a <= b:
                spans.append((t.chrom, a, b))
    weights = [b - a + 1 for _, a, b in spans]
    out: list[VariantKey] = []
    while len(out) < n:
        chrom, a, b = rng.choices(spans, weights)[0]
        pos = rng.randint(a, b)
        kind = rng.random()
        seq = ref.sequence(chrom, pos, pos + 5)
        if seq is None:
            seq = "".join(rng.choice("ACGT") for _ in range(6))
        if kind < 0.7:
            alt = rng.choice([x for x in "ACGT" if x != seq[0]])
            out.append(VariantKey(chrom, pos, seq[0], alt))
        elif kind < 0.85:
            k = rng.randint(1, 5)
            out.append(VariantKey(chrom, pos, seq[: k + 1], seq[0]))
        else:
            ins = "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 6)))
            out.append(VariantKey(chrom, pos, seq[0], seq[0] + ins))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default="GRCh38")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    variants = make_variants(args.build, args.n, args.seed)
    engine = ConsequenceEngine(load_reference(args.build))
    for v in variants[:200]:  # warm the per-transcript caches, as a real run would
        engine.annotate(v)
    rates = []
    annotated = 0
    for _ in range(args.runs):
        t0 = time.perf_counter()
        annotated = sum(1 for v in variants if engine.annotate(v))
        rates.append(len(variants) / (time.perf_counter() - t0))
    rate = statistics.median(rates)
    snvs = [v for v in variants if len(v.ref) == len(v.alt) == 1]
    t0 = time.perf_counter()
    for v in snvs:
        engine.annotate(v)
    snv_rate = len(snvs) / (time.perf_counter() - t0)
    print(f"{len(variants)} variants ({len(snvs)} SNVs), {annotated} with a consequence, "
          f"{args.build}, median of {args.runs} runs")
    print(f"consequence engine alone (consequence + HGVS): {rate:,.0f} variants/s "
          f"(SNVs only: {snv_rate:,.0f}/s)")
    e2e = end_to_end(variants, args.build, args.runs)
    print(f"end to end through annotate (read, normalise, consequence, match, TSV): {e2e:,.0f} records/s")
    print(f"(VEP's published ~{VEP_PER_SECOND:,}/s end to end is another tool on other inputs and "
          "another machine: not comparable)")
    return 0


def end_to_end(variants: list[VariantKey], build: str, runs: int) -> float:
    """Records/s of ``annotate`` over a VCF of ``variants`` (median of ``runs``)."""
    import tempfile

    from annotator.api import AnnotateConfig, annotate
    from annotator.core import genome

    lengths = genome.get(build).lengths
    order = {c: i for i, c in enumerate(lengths)}
    unique = sorted(set(variants), key=lambda v: (order.get(v.chrom, 99), v.pos, v.ref, v.alt))
    with tempfile.TemporaryDirectory(prefix="resmark-bench-") as tmp:
        vcf = Path(tmp) / "variants.vcf"
        with open(vcf, "w", encoding="ascii") as fh:
            fh.write("##fileformat=VCFv4.2\n")
            fh.writelines(f"##contig=<ID={c},length={n}>\n" for c, n in lengths.items())
            fh.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
                     '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
                     '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
                     "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOUR\n")
            fh.writelines(f"{v.chrom}\t{v.pos}\t.\t{v.ref}\t{v.alt}\t.\tPASS\t.\tGT:AD:DP\t0/1:80,20:100\n"
                          for v in unique)
        rates = []
        for i in range(runs):
            t0 = time.perf_counter()
            annotate(AnnotateConfig(inputs=[str(vcf)], outdir=Path(tmp) / f"o{i}", formats=("tsv",),
                                    report="panel", build=build))
            rates.append(len(unique) / (time.perf_counter() - t0))
    return statistics.median(rates)


if __name__ == "__main__":
    raise SystemExit(main())
