"""Benchmark ``resmark annotate --gtf``: a gigabyte GTF streamed (plain, gzip) or tabix-queried.

    python3 bench/bench_gtf.py [--genes 55000] [--repeats 3]

Writes under ``bench/generated/gtf/`` (git-ignored): a seeded synthetic GTF in
GENCODE layout (22 chromosomes, ``--genes`` genes of 3 protein-coding
transcripts x 10 exons each, GENCODE-length attribute columns; 55,000 genes
give about 3.5 M lines / 1.3 GB, the size of a GENCODE release), with one
model per panel gene the embedded set lacks (FZR1, HDAC5, WEE1, NCOR1, ...)
placed at its MANE span, then the same file gzip'ed and sorted + bgzip'ed +
tabix-indexed (``sort``, ``bgzip``, ``tabix`` from htslib).  Each run is the
full CLI on the demo VCF; wall time and peak RSS from GNU time (``%e %M``).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from common import REPO, WORK  # type: ignore[import-not-found]

OUT = WORK / "gtf"
DEMO = REPO / "test_vcfs" / "demo" / "demo_tumour.grch38.vcf.gz"


def write_gtf(path: Path, n_genes: int) -> None:
    from annotator.knowledge import load_panel
    from annotator.reference import TABIX_HINTS, GeneRegion, load_reference

    rng = random.Random(18)
    ref = load_reference("GRCh38")
    panel = load_panel()
    extra = {}
    for g in sorted(set(panel.gene_symbols()) - set(ref.transcripts)):
        r = ref.gene_region(g)
        if r is None and g in TABIX_HINTS["GRCh38"]:  # MUC16: no MANE span on the primary assembly
            chrom, start, end = TABIX_HINTS["GRCh38"][g]
            r = GeneRegion(g, chrom, start, end, "-")
        if r is not None:
            extra.setdefault(r.chrom, []).append(r)
    chroms = [f"chr{i}" for i in range(1, 23)]
    per = n_genes // len(chroms)
    with path.open("w") as out:
        out.write("##description: evidence-based annotation of the human genome (GRCh38), "
                  "synthetic benchmark\n##provider: GENCODE\n")
        for c in chroms:
            genes = [(100_000 + i * 31_001, f"SYN{c[3:]}_{i}", "+") for i in range(per)]
            genes += [(r.start, r.gene, r.strand) for r in extra.get(c, [])]
            for start, name, strand in sorted(genes):
                _gene(out, c, start, name, strand, rng)


def _gene(out: object, chrom: str, start: int, name: str, strand: str, rng: random.Random) -> None:
    gid = f"ENSG{rng.randrange(10**11):011d}.{rng.randrange(1, 20)}"
    attr = (f'gene_id "{gid}"; gene_type "protein_coding"; gene_name "{name}"; level 2; '
            f'hgnc_id "HGNC:{rng.randrange(1, 60000)}"; havana_gene "OTTHUMG{rng.randrange(10**11):011d}.1";')
    end = start + 27_300 + 302
    w = out.write  # type: ignore[attr-defined]
    w(f"{chrom}\tHAVANA\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attr}\n")
    for t in range(3):
        tags = ' tag "basic"; tag "MANE_Select";' if t == 0 else ' tag "basic";'
        a = (attr + f' transcript_id "ENST{rng.randrange(10**11):011d}.{t + 1}"; transcript_type '
             f'"protein_coding"; transcript_name "{name}-20{t}"; level 2;{tags}')
        w(f"{chrom}\tHAVANA\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{a}\n")
        for e in range(10):
            s = start + e * 3000
            w(f"{chrom}\tHAVANA\texon\t{s}\t{s + 299}\t.\t{strand}\t.\t{a} exon_number {e + 1};\n")
        for e in range(10):
            s = start + e * 3000
            lo, hi = (s + 3 if e == 9 and strand == "-" else s), (s + 296 if e == 9 and strand == "+" else s + 299)
            w(f"{chrom}\tHAVANA\tCDS\t{lo}\t{hi}\t.\t{strand}\t0\t{a}\n")
        stop = (start + 27_297, start + 27_299) if strand == "+" else (start, start + 2)
        w(f"{chrom}\tHAVANA\tstop_codon\t{stop[0]}\t{stop[1]}\t.\t{strand}\t0\t{a}\n")


def prepare(n_genes: int) -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    plain = OUT / f"synthetic_{n_genes}.gtf"
    if not plain.exists():
        write_gtf(plain, n_genes)
    gz = Path(str(plain) + ".gz")
    if not gz.exists():
        subprocess.run(f"gzip -c {plain} > {gz}", shell=True, check=True)
    bgz = OUT / f"synthetic_{n_genes}.sorted.gtf.gz"
    if not bgz.exists():
        subprocess.run(f"(grep '^#' {plain}; grep -v '^#' {plain} | LC_ALL=C sort -S 800M -k1,1 -k4,4n) "
                       f"| bgzip -c > {bgz} && tabix -p gff {bgz}", shell=True, check=True)
    return {"plain": plain, "gzip": gz, "bgzip+tabix": bgz}


def run(args: list[str]) -> tuple[float, int]:
    out = OUT / "run"
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "annotator", "annotate", str(DEMO),
           "-o", str(out), "--formats", "tsv,json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO),
                       "PATH": "/usr/bin:/bin", "RESMARK_CONFIG": str(OUT / "none.toml")})
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    secs, kb = p.stderr.strip().splitlines()[-1].split()
    return float(secs), int(kb)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--genes", type=int, default=55_000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    files = prepare(a.genes)
    cases = [("embedded only", [])] + [(k, ["--gtf", str(p)]) for k, p in files.items()]
    size = files["plain"].stat().st_size
    print(f"GTF: {size / 1e9:.2f} GB plain, {files['gzip'].stat().st_size / 1e6:.0f} MB gzip")
    print("| input | median s | peak RSS MiB |\n|---|---:|---:|")
    for label, extra in cases:
        times, rss = [], []
        for _ in range(a.repeats):
            t, kb = run(extra)
            times.append(t)
            rss.append(kb)
        print(f"| {label} | {statistics.median(times):.2f} | {max(rss) / 1024:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
