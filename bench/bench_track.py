#!/usr/bin/env python3
"""Re-genotyping speed: ``resmark track`` with BAMs vs ``bcftools mpileup -a AD`` (not a test).

Workload: one patient, ``--timepoints`` BAMs at read depth ``--depth`` over
every site of the simulator's pool (bench/ctdna_sim.py: hotspot positions of
the panel genes, UMI families, sequencing errors), a tumour-informed VCF per
timepoint listing every site.  Commands, run alternately ``--repeats`` times
(medians of wall time, peak RSS from GNU time):

* ``bcftools mpileup --no-reference -a AD,DP -R sites`` over the same BAMs,
  the same flags skipped (unmapped, secondary, supplementary, QC-fail,
  duplicate) and the same MAPQ/base-quality thresholds (20);
* ``samtools mpileup`` likewise (for reference);
* ``resmark track`` with the BAMs, and without them (VCF counts only): the
  difference is what re-genotyping costs in the whole run;
* the re-genotyping alone: a Python process that imports resmark, opens
  every BAM with ``ReadGenotyper`` and counts every site.

It also checks that resmark's ALT and depth counts equal bcftools' AD at every
SNV site (bcftools detects read-pair overlaps and counts a fragment once).

    python3 bench/bench_track.py [--depth 5000] [--timepoints 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, WORK  # type: ignore[import-not-found]

PY = sys.executable
TIME = Path("/usr/bin/time").exists()
SKIP = "UNMAP,SECONDARY,SUPPLEMENTARY,QCFAIL,DUP"

GENOTYPE_ONLY = (
    "import sys\n"
    "from annotator.core.models import VariantKey\n"
    "from annotator.reference import load_reference\n"
    "from annotator.track.regenotype import ReadGenotyper\n"
    "fetch = load_reference('GRCh38').sequence\n"
    "keys = [VariantKey(c, int(p), r, a) for c, p, r, a in (l.split() for l in open(sys.argv[1]))]\n"
    "for bam in sys.argv[2:]:\n"
    "    with ReadGenotyper(bam, build='GRCh38', fetch=fetch) as g:\n"
    "        for k in keys:\n"
    "            c = g.count(k)\n"
    "            print(bam, k, c.alt, c.depth, c.discordant_pairs, c.alt_molecules, c.molecule_depth)\n"
)


def make_workload(d: Path, depth: int, timepoints: int, seed: int) -> tuple[list[Path], Path]:
    sys.path.insert(0, str(REPO / "bench"))
    import ctdna_sim as sim  # type: ignore[import-not-found]
    import pysam

    from annotator.core.genome import GRCH38
    from annotator.reference import load_reference

    fetch = load_reference("GRCh38").sequence
    rng, nprng = random.Random(seed), random.Random(seed + 1)
    pool = sim.site_pool(fetch, rng)
    names = list(GRCH38.lengths)
    pool.sort(key=lambda s: (names.index(s.chrom), s.pos))
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"},
                                              "SQ": [{"SN": c, "LN": n} for c, n in GRCH38.lengths.items()]})
    d.mkdir(parents=True, exist_ok=True)
    bams = []
    rows = ["patient\ttimepoint\tdate\tvcf\tbam"]
    for t in range(timepoints):
        s = sim.Sample(f"B_T{t}", d / f"B_T{t}.bam", "umi", 1.0, header)
        records = []
        for site in pool:
            window = fetch(site.chrom, site.pos - sim.WINDOW, site.pos + sim.WINDOW) or ""
            c = sim.simulate_site(s, names.index(site.chrom), site, window, depth, 0.01 * (t + 1), rng, nprng)
            records.append((site, "PASS", c.fragments_ref, c.fragments_alt))
        sim.write_sample(s)
        sim.write_vcf(d / f"B_T{t}.vcf", f"B_T{t}", records)
        bams.append(s.path)
        rows.append(f"B\tT{t}\t2024-0{t + 1}-01\tB_T{t}.vcf\tB_T{t}.bam")
    (d / "sheet_bams.tsv").write_text("\n".join(rows) + "\n")
    (d / "sheet_vcfs.tsv").write_text("\n".join(r.rsplit("\t", 1)[0] for r in rows) + "\n")
    sites = d / "sites.txt"
    sites.write_text("".join(f"{s.chrom}\t{s.pos}\t{s.ref}\t{s.alt}\n" for s in pool))
    (d / "sites.regions").write_text("".join(f"{s.chrom}\t{s.pos}\t{s.pos}\n" for s in pool))
    return bams, sites


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss.name, *argv] if TIME else argv
        t = time.perf_counter()
        proc = subprocess.run(wrapped, capture_output=True, env=env, check=False)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"failed: {' '.join(argv)}\n{proc.stderr.decode(errors='replace')[-2000:]}")
        peak = int(rss.read().split()[-1]) if TIME else 0
    return wall, peak, proc.stdout.decode()


def bcftools_ad(text: str, nsamples: int) -> dict[tuple[str, int, str], list[tuple[int, int]]]:
    """(chrom, pos, base) -> per sample (count of that base, depth) from --no-reference output."""
    out: dict[tuple[str, int, str], list[tuple[int, int]]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        alts = f[4].split(",")
        fmt = f[8].split(":")
        for b_i, base in enumerate(alts, start=1):
            per = []
            for s in range(nsamples):
                vals = dict(zip(fmt, f[9 + s].split(":"), strict=True))
                ad = [int(x) for x in vals["AD"].split(",")]
                per.append((ad[b_i], sum(ad)))
            out[(f[0], int(f[1]), base)] = per
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=5000)
    ap.add_argument("--timepoints", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=WORK / "track_speed")
    args = ap.parse_args(argv)
    for tool in ("bcftools", "samtools"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (apt-get install -y {tool})")
    d = args.workdir / f"d{args.depth}_t{args.timepoints}_s{args.seed}"
    if not (d / "sites.txt").exists():
        print(f"writing the workload in {d}", file=sys.stderr)
        make_workload(d, args.depth, args.timepoints, args.seed)
    bams = [str(d / f"B_T{t}.bam") for t in range(args.timepoints)]
    nsites = len((d / "sites.txt").read_text().splitlines())
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = Path(tempfile.mkdtemp(prefix="bench_track_"))
    regions = str(d / "sites.regions")
    cmds = {
        "bcftools mpileup -a AD": ["bcftools", "mpileup", "--no-reference", "-a", "AD,DP", "-R", regions,
                                   "-q", "20", "-Q", "20", "--ns", SKIP, "-d", "1000000", *bams],
        "samtools mpileup": ["samtools", "mpileup", "-l", regions, "-q", "20", "-Q", "20", "--ff", SKIP,
                             "-d", "1000000", *bams],
        "re-genotyping only (python, ReadGenotyper)": [PY, "-c", GENOTYPE_ONLY, str(d / "sites.txt"), *bams],
        "resmark track, BAMs": [PY, "-m", "annotator", "track", str(d / "sheet_bams.tsv"), "-o",
                                str(out / "bams"), "--force", "--no-plots"],
        "resmark track, VCFs only": [PY, "-m", "annotator", "track", str(d / "sheet_vcfs.tsv"), "-o",
                                     str(out / "vcfs"), "--force", "--no-plots"],
    }
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    rss: dict[str, list[int]] = {k: [] for k in cmds}
    outputs: dict[str, str] = {}
    for _ in range(args.repeats):
        for name, argv_ in cmds.items():
            w, m, text = timed(argv_, env)
            walls[name].append(w)
            rss[name].append(m)
            outputs[name] = text
    med = {k: statistics.median(v) for k, v in walls.items()}
    base = med["bcftools mpileup -a AD"]
    marginal = med["resmark track, BAMs"] - med["resmark track, VCFs only"]
    print(f"## resmark track re-genotyping vs bcftools mpileup ({args.timepoints} BAMs x {nsites} sites, "
          f"read depth ~{args.depth}, UMI families; {args.repeats} runs, medians)\n")
    print("| command | wall s | vs bcftools | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for k in cmds:
        print(f"| {k} | {med[k]:.2f} | {med[k] / base:.2f}x | {max(rss[k]) / 1024:.0f} |")
    print(f"| track with BAMs minus track without (re-genotyping's share of the run) | {marginal:.2f} | "
          f"{marginal / base:.2f}x | |")
    # counts: resmark vs bcftools AD at every site and BAM
    ours = {}
    for line in outputs["re-genotyping only (python, ReadGenotyper)"].splitlines():
        bam, key, alt, depth, disc, _am, _md = line.split()
        chrom, pos, change = key.split(":")
        ours[(bam, chrom, int(pos), change.split(">")[1])] = (int(alt), int(depth), int(disc))
    theirs = bcftools_ad(outputs["bcftools mpileup -a AD"], len(bams))
    same = explained = total = 0
    diffs = []
    for (bam, chrom, pos, alt), (a, dp, disc) in ours.items():
        per = theirs.get((chrom, pos, alt))
        total += 1
        got = per[bams.index(bam)] if per else (0, 0)
        if got == (a, dp):
            same += 1
        elif got[1] - dp == disc and 0 <= got[0] - a <= disc:
            explained += 1  # bcftools keeps one mate of a discordant pair; resmark drops the pair
        elif len(diffs) < 5:
            diffs.append(f"{Path(bam).name} {chrom}:{pos} {alt}: resmark {a}/{dp}, bcftools {got[0]}/{got[1]}")
    print(f"\nALT/depth vs bcftools AD over {total} site x BAM pairs: {same} equal, {explained} differ only "
          "by the mate pairs whose mates disagree (resmark drops them, bcftools keeps one mate), "
          f"{total - same - explained} otherwise" + ("" if not diffs else ":\n" + "\n".join(f"- {x}" for x in diffs)))
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
