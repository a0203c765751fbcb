"""Benchmark harness: resmark against bcftools and a bare cyvcf2 loop (not a test).

Runs every command alternately (round-robin) ``--repeats`` times, so slow
drifts of the machine hit all of them alike, and prints medians, ratios and
peak memory (max RSS of the process and its children, from ``wait4``) as a
Markdown table.  Inputs are made by ``bench/generate.py`` under bench/generated/
when missing (same seed, same files).

    python3 bench/run.py                      # 5M and 50k WGS, indexed and not
    python3 bench/run.py --repeats 5 --cohort # + 1,000 panel VCFs, --jobs 1 and 2
    python3 bench/run.py --repeats 3 --cohort-only  # the cohort commands alone
    python3 bench/run.py --only "indexed, 5M" --only unindexed --only "view -T"  # issue 17.1/17.2 ratios
                                              # (bgzip, plain text and plain gzip, each against view -T)
    python3 bench/run.py --dense --skip-wgs   # panel-dense 10k/100k/1M: resmark vs bcftools csq

Both the default command a user types (default formats: TSV, JSON, Parquet,
annotated VCF, HTML) and ``--formats tsv`` are timed, in the same rounds as
the bcftools commands, with wall and CPU time (GNU time ``%U + %S``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import REPO, WORK, panel_regions, write_bed  # type: ignore[import-not-found]

PY = sys.executable
TIME = Path("/usr/bin/time").exists()  # GNU time, for peak RSS
RESMARK = [PY, "-m", "annotator"]
CYVCF2_LOOP = (
    "import sys, cyvcf2\n"
    "n = 0\n"
    "for v in cyvcf2.VCF(sys.argv[1], lazy=True):\n"
    "    n += 1\n"
    "print(n)\n"
)


@dataclass
class Bench:
    name: str
    argv: list[str]
    walls: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # user + system s, the command and its children

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus) if self.cpus else float("nan")


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall time, peak RSS (KiB) and CPU time (user + system s) of the command and its children.

    The command runs under GNU time: ru_maxrss of a child forked straight from
    this (large) Python process would count the pages it shared before exec.
    """
    # stderr goes to a file, not a pipe: a cohort logs ~0.5 MB of warnings, and a pipe nobody
    # reads until the command ends blocks its writers once 64 KiB are waiting (a deadlock)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss, tempfile.TemporaryFile("w+b") as errf:
        wrapped = ["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name, *argv] if TIME else argv
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=errf, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
        if proc.returncode != 0:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv)}\n{err[-2000:]}")
        if TIME:
            fields = rss.read().split()
            peak, cpu = int(fields[-3]), float(fields[-2]) + float(fields[-1])
        else:
            peak, cpu = int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime
    return wall, peak, cpu


def ensure_inputs(records: list[int], cohort: int | None) -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    gen = [PY, str(REPO / "bench" / "generate.py")]
    paths: dict[str, Path] = {}
    for n in records:
        label = _label(n)
        p = WORK / f"wgs_{label}.vcf.gz"
        if not (p.exists() and Path(f"{p}.tbi").exists()):
            subprocess.run([*gen, "wgs", "--records", str(n), "-o", str(p), "--index"], check=True)
        unidx = WORK / "unindexed"
        unidx.mkdir(exist_ok=True)
        link = unidx / p.name  # same bytes, no index beside it
        if not link.exists():
            link.symlink_to(p)
        paths[label] = p
        paths[f"{label}-unindexed"] = link
        if n == records[0]:  # the large file also as plain text and as plain (not BGZF) gzip
            paths[f"{label}-plain"], paths[f"{label}-plaingz"] = _plain_copies(p, unidx)
    bed = WORK / "panel.bed"
    write_bed(bed, panel_regions("GRCh38"))
    paths["bed"] = bed
    big = _label(records[0])
    same = WORK / f"wgs_{_label(records[1])}_samepanel.vcf.gz"
    if not (same.exists() and Path(f"{same}.tbi").exists()):
        _same_panel(paths[big], bed, records[0] // records[1], same)
    paths["samepanel"] = same
    if cohort:
        paths["cohort"] = ensure_cohort(cohort)
    return paths


def ensure_cohort(samples: int) -> Path:
    """The sample sheet of ``samples`` generated panel VCFs (~300 records each)."""
    d = WORK / f"cohort{samples}"
    if not (d / "samplesheet.tsv").exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run([PY, str(REPO / "bench" / "generate.py"), "cohort", "--samples", str(samples),
                        "-o", str(d)], check=True)
    return d / "samplesheet.tsv"


def _same_panel(src: Path, bed: Path, keep_every: int, out: Path) -> None:
    """Every panel-region record of ``src`` plus 1 in ``keep_every`` of the others.

    Same panel work as ``src`` in a file 1/keep_every the size: the ratio of the
    two timings isolates what the size of the file costs.
    """
    view = ["bcftools", "view", "--no-version"]
    header = subprocess.run([*view, "-h", str(src)], capture_output=True, text=True, check=True).stdout
    inside = subprocess.run([*view, "-H", "-R", str(bed), str(src)], capture_output=True, text=True,
                            check=True).stdout.splitlines()
    outside = subprocess.run([*view, "-H", "-T", f"^{bed}", str(src)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[::keep_every]
    rank = {f"chr{c}": i for i, c in enumerate([*map(str, range(1, 23)), "X", "Y", "M"])}
    body = sorted(set(inside) | set(outside), key=lambda x: (rank.get(x.split("\t", 1)[0], 99),
                                                             int(x.split("\t", 2)[1])))
    text = out.with_suffix("")
    text.write_text(header + "\n".join(body) + "\n")
    subprocess.run(["bgzip", "-f", str(text)], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)


def _plain_copies(bgzipped: Path, where: Path) -> tuple[Path, Path]:
    """``bgzipped`` decompressed, and recompressed with gzip's default level (once)."""
    import gzip

    text = where / bgzipped.name.removesuffix(".gz")
    plain_gz = where / bgzipped.name.replace(".vcf.gz", ".plain.vcf.gz")
    if not text.exists():
        with gzip.open(bgzipped, "rb") as src, open(f"{text}.part", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(f"{text}.part", text)
    if not plain_gz.exists():
        with open(text, "rb") as src, gzip.open(f"{plain_gz}.part", "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(f"{plain_gz}.part", plain_gz)
    return text, plain_gz


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def resmark(name: str, *args: str, formats: str | None = "tsv") -> list[str]:
    """``resmark annotate``; ``formats=None``: the default formats, as a user types it."""
    out = WORK / "out" / name
    fmt = ["--formats", formats] if formats else []
    return [*RESMARK, "annotate", *args, "-o", str(out), "--force", *fmt]


def build(paths: dict[str, Path], big: str, small: str, jobs: int) -> list[Bench]:
    bed = str(paths["bed"])
    b = [
        Bench(f"resmark, indexed, {big}", resmark("idx_big", str(paths[big]))),
        Bench(f"resmark default formats, indexed, {big}",
              resmark("idx_big_default", str(paths[big]), formats=None)),
        Bench(f"resmark, indexed, {small}", resmark("idx_small", str(paths[small]))),
        Bench(f"resmark, indexed, {small} with the {big} file's panel records",
              resmark("idx_same", str(paths["samepanel"]))),
        Bench(f"bcftools view -R panel.bed, {big}",
              ["bcftools", "view", "-R", bed, "-Ou", "-o", os.devnull, str(paths[big])]),
        Bench(f"resmark, unindexed bgzip, {big}", resmark("unidx_big", str(paths[f"{big}-unindexed"]))),
        Bench(f"bcftools view -T panel.bed, {big}",
              ["bcftools", "view", "-T", bed, "-Ou", "-o", os.devnull, str(paths[f"{big}-unindexed"])]),
        Bench(f"bare cyvcf2 loop, {big}", [PY, "-c", CYVCF2_LOOP, str(paths[f"{big}-unindexed"])]),
        Bench(f"resmark default formats, unindexed bgzip, {big}",
              resmark("unidx_big_default", str(paths[f"{big}-unindexed"]), formats=None)),
    ]
    for key, kind in (("plain", "plain text"), ("plaingz", "plain gzip")):  # the same records, not BGZF
        b.append(Bench(f"resmark, unindexed {kind}, {big}", resmark(f"unidx_{key}", str(paths[f"{big}-{key}"]))))
        b.append(Bench(f"resmark default formats, unindexed {kind}, {big}",
                       resmark(f"unidx_{key}_default", str(paths[f"{big}-{key}"]), formats=None)))
        b.append(Bench(f"bcftools view -T panel.bed, {big} {kind}",
                       ["bcftools", "view", "-T", bed, "-Ou", "-o", os.devnull, str(paths[f"{big}-{key}"])]))
    if "cohort" in paths:
        b.extend(cohort_benches(paths["cohort"], jobs))
    return b


def cohort_benches(sheet: Path, jobs: int) -> list[Bench]:
    """The cohort: TSV + the Parquet dataset, and the default formats at --jobs 1 and --jobs N."""
    ds = WORK / "out" / "cohort_dataset"
    n = max(0, len(sheet.read_text().splitlines()) - 1)
    b = [Bench(
        f"resmark cohort, {n:,} panel VCFs, --jobs {jobs}",
        [*resmark("cohort", "--samplesheet", str(sheet), "--jobs", str(jobs), "--dataset", str(ds))],
    )]
    b.extend(  # the default command a user types for a cohort, serial and parallel
        Bench(f"resmark cohort default formats, --jobs {j}",
              resmark(f"cohort_default_{j}", "--samplesheet", str(sheet), "--jobs", str(j), formats=None))
        for j in (1, jobs)
    )
    return b


def dense_inputs(sizes: list[int], exons: int | None = None) -> tuple[dict[int | str, Path], Path, Path]:
    """Panel-dense VCFs (``generate.py dense``; ``exons``: also one of that many records over
    coding exons only, keyed "exons") and the FASTA + GFF3 bcftools csq reads."""
    import dense  # type: ignore[import-not-found]

    gen = [PY, str(REPO / "bench" / "generate.py")]
    paths: dict[int | str, Path] = {}
    wanted: list[tuple[int | str, int, str, str]] = [(n, n, "genes", f"dense_{_label(n)}") for n in sizes]
    if exons:
        wanted.append(("exons", exons, "exons", f"dense_exons_{_label(exons)}"))
    for key, n, targets, name in wanted:
        p = WORK / f"{name}.vcf.gz"
        if not (p.exists() and Path(f"{p}.tbi").exists()):
            subprocess.run([*gen, "dense", "--records", str(n), "--targets", targets, "-o", str(p),
                            "--index"], check=True)
        paths[key] = p
    fasta, gff = dense.write_csq_reference(WORK, dense.load_regions())
    return paths, fasta, gff


def csq_argv(vcf: Path, fasta: Path, gff: Path, out: str = os.devnull, fmt: str = "u") -> list[str]:
    # -s -: every ALT allele, no genotypes (Mutect2's tri-allelic GT 0/1/2 is not diploid);
    # the same scope as resmark, which annotates each ALT of the tumour column
    return ["bcftools", "csq", "-f", str(fasta), "-g", str(gff), "-s", "-", f"-O{fmt}", "-o", out, str(vcf)]


def dense_benches(paths: dict[int | str, Path], fasta: Path, gff: Path) -> list[Bench]:
    out: list[Bench] = []
    for n, p in paths.items():
        label = _label(n) if isinstance(n, int) else f"{n} {p.name.split('_')[-1].split('.')[0]}"
        out.append(Bench(f"resmark default formats, dense {label}",
                         resmark(p.name.split(".")[0], str(p), formats=None)))
        out.append(Bench(f"bcftools csq, dense {label}", csq_argv(p, fasta, gff)))
    return out


def check_csq(paths: dict[int | str, Path], fasta: Path, gff: Path) -> str:
    """bcftools csq really annotates the records: BCSQ on most, coding consequences on some."""
    n = min(k for k in paths if isinstance(k, int)) if any(isinstance(k, int) for k in paths) else "exons"
    with tempfile.NamedTemporaryFile(suffix=".vcf") as tmp:
        subprocess.run(csq_argv(paths[n], fasta, gff, tmp.name, "v"), check=True, capture_output=True)
        body = [x for x in Path(tmp.name).read_text().splitlines() if not x.startswith("#")]
    with_bcsq = [x for x in body if "BCSQ=" in x]
    coding = sum(1 for x in with_bcsq if any(c in x.split("BCSQ=", 1)[1].split(";")[0] for c in
                                                 ("missense", "synonymous", "stop_gained", "frameshift",
                                                  "inframe")))
    if not with_bcsq or not coding:
        raise SystemExit(f"bcftools csq annotated nothing coding in {paths[n]}: check the GFF3/FASTA")
    return (f"- bcftools csq check ({paths[n].name}): {len(with_bcsq):,} of {len(body):,} records carry "
            f"BCSQ, {coding:,} with a coding consequence")


def dense_ratios(benches: list[Bench], sizes: list[int]) -> str:
    by = {b.name: b for b in benches}
    lines = []
    points = []
    for n in sizes:
        r, c = by.get(f"resmark default formats, dense {_label(n)}"), by.get(f"bcftools csq, dense {_label(n)}")
        if r is None or c is None:
            continue
        points.append((n, r.cpu))
        lines.append(f"- dense {_label(n)}: resmark default formats / bcftools csq: {r.cpu / c.cpu:.1f}x CPU "
                     f"({r.cpu:.2f} s / {c.cpu:.2f} s), peak RSS {max(r.rss_kb) / 1024:.0f} MiB "
                     f"(csq {max(c.rss_kb) / 1024:.0f} MiB)")
    for name in by:
        if name.startswith("resmark default formats, dense exons"):
            r, c = by[name], by.get(name.replace("resmark default formats", "bcftools csq"))
            if c is not None:
                lines.append(f"- {name.split(', ')[-1]} (coding exons +/- 20 bp: most alleles coding, "
                             f"most of those listed): {r.cpu / c.cpu:.1f}x CPU ({r.cpu:.2f} s / {c.cpu:.2f} s), "
                             f"peak RSS {max(r.rss_kb) / 1024:.0f} MiB")
    if len(points) >= 2:
        (n0, t0), (n1, t1) = points[0], points[-1]
        per = (t1 - t0) / (n1 - n0)
        lines.append(f"- resmark per-record constant (CPU, {_label(n0)} to {_label(n1)}): {per * 1e6:.1f} us/record, "
                     f"fixed part {t0 - per * n0:.2f} s")
        for n, t in points[1:-1]:
            lines.append(f"  - linearity: {_label(n)} measured {t:.2f} s, the line gives {t0 + per * (n - n0):.2f} s")
    return "\n".join(lines)


def table(benches: list[Bench]) -> str:
    lines = [
        "| command | median s | min s | max s | median CPU s | peak RSS MiB | runs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {b.name} | {b.median:.2f} | {min(b.walls):.2f} | {max(b.walls):.2f} | {b.cpu:.2f} | "
        f"{max(b.rss_kb) / 1024:.0f} | {len(b.walls)} |"
        for b in benches
    )
    return "\n".join(lines)


def ratios(benches: list[Bench]) -> str:
    idx = [b for b in benches if b.name.startswith("resmark, indexed")]
    out_default = []
    dflt = next((b for b in benches if b.name.startswith("resmark default formats, indexed")), None)
    if dflt and idx:
        out_default.append(f"- indexed {idx[0].name.split(', ')[-1]}, default formats / --formats tsv: "
                           f"{dflt.median / idx[0].median:.2f}x wall, {dflt.cpu / idx[0].cpu:.2f}x CPU")
    coh = {b.name.rsplit(" ", 1)[-1]: b for b in benches if b.name.startswith("resmark cohort default")}
    if "1" in coh and len(coh) == 2:
        other = next(v for k, v in coh.items() if k != "1")
        jobs = other.name.rsplit(" ", 1)[-1]
        out_default.append(f"- cohort default formats, --jobs 1 / --jobs {jobs}: "
                           f"{coh['1'].median / other.median:.2f}x wall (the parallel speed-up; "
                           f"issue 17.4: >= 1.6x), {coh['1'].cpu / other.cpu:.2f}x CPU")
        n = cohort_size(benches)
        out_default.append(f"- cohort default formats, --jobs {jobs}: {other.median:.1f} s wall (issue 17.4: "
                           f"< 30 s), {other.cpu:.1f} s CPU in all processes"
                           + (f" ({1000 * other.cpu / n:.0f} ms per sample)" if n else ""))
    out = []
    if len(idx) == 3:
        out.append(f"- indexed {idx[0].name.split(', ')[-1]} / {idx[1].name.split(', ')[-1]}: "
                   f"{idx[0].median / idx[1].median:.2f}x (the 5M file has 100x the panel records)")
        out.append(f"- indexed {idx[0].name.split(', ')[-1]} / {idx[2].name.split(', ', 2)[-1]}: "
                   f"{idx[0].median / idx[2].median:.2f}x (same panel records, 100x the file)")
    un = next((b for b in benches if b.name.startswith("resmark, unindexed")), None)
    r = next((b for b in benches if b.name.startswith("bcftools view -R")), None)
    cy = next((b for b in benches if b.name.startswith("bare cyvcf2")), None)
    for mine in (b for b in benches if "unindexed" in b.name and b.name.startswith("resmark")):
        # each unindexed input against bcftools view -T on the same file
        kind = mine.name.split("unindexed ", 1)[1].rsplit(", ", 1)
        suffix = kind[1] if kind[0] == "bgzip" else f"{kind[1]} {kind[0]}"
        other = next((b for b in benches if b.name == f"bcftools view -T panel.bed, {suffix}"), None)
        if other:
            what = "resmark default formats" if mine.name.startswith("resmark default") else "resmark"
            out.append(f"- unindexed {kind[0]}, {what} / bcftools view -T: {mine.median / other.median:.2f}x "
                       f"wall, {mine.cpu / other.cpu:.2f}x CPU")
    if idx and r:
        out.append(f"- indexed resmark / bcftools view -R: {idx[0].median / r.median:.2f}x")
    if un and cy:
        out.append(f"- unindexed resmark / bare cyvcf2 loop: {un.median / cy.median:.2f}x")
    if idx and r and r.cpu > 0:
        out.append(f"- indexed resmark / bcftools view -R, CPU: {idx[0].cpu / r.cpu:.2f}x")
    return "\n".join(out_default + out)


def cohort_size(benches: list[Bench]) -> int:
    """Samples in the cohort's sample sheet (0 when no cohort was timed)."""
    for b in benches:
        if "--samplesheet" in b.argv:
            sheet = Path(b.argv[b.argv.index("--samplesheet") + 1])
            return max(0, len(sheet.read_text().splitlines()) - 1)
    return 0


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    bcf = (subprocess.run(["bcftools", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
           if shutil.which("bcftools") else "no bcftools")
    load = os.getloadavg()
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {bcf}; "
            f"load average before the run {load[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big", type=int, default=5_000_000, help="records of the large WGS VCF")
    ap.add_argument("--small", type=int, default=50_000, help="records of the small WGS VCF")
    ap.add_argument("--cohort", nargs="?", const=1000, type=int, default=None,
                    help="also time a cohort of N panel VCFs (default 1000)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cohort-only", action="store_true",
                    help="time only the cohort commands (implies --cohort)")
    ap.add_argument("--only", action="append", default=None, metavar="WORDS",
                    help="time only the commands whose name holds WORDS (repeatable), e.g. "
                         "--only 'indexed, 5M' --only unindexed --only 'view -T'")
    ap.add_argument("--dense", nargs="?", const="10000,100000,1000000", default=None,
                    help="also time panel-dense VCFs of these sizes against bcftools csq "
                         "(default 10000,100000,1000000; needs ../shared/reference or RESMARK_SHARED)")
    ap.add_argument("--dense-exons", type=int, default=None, metavar="N",
                    help="also time a dense VCF of N records over coding exons only (e.g. 40000)")
    ap.add_argument("--skip-wgs", action="store_true", help="leave out the WGS and cohort commands")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    # resmark as installed: its modules' bytecode cached (pip compiles it at install), here under
    # bench/generated/ by the warm-up round; with PYTHONDONTWRITEBYTECODE set, every timed run would
    # compile every module it imports from source (~0.1 s more for the default formats than for tsv)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(WORK / "pycache"))
    benches: list[Bench] = []
    if args.cohort_only:
        benches = cohort_benches(ensure_cohort(args.cohort or 1000), args.jobs)
    elif not args.skip_wgs:
        if shutil.which("bcftools") is None:
            raise SystemExit("bcftools is needed for the reference commands")
        paths = ensure_inputs([args.big, args.small], args.cohort)
        benches = build(paths, _label(args.big), _label(args.small), args.jobs)
    sizes = [int(x) for x in args.dense.split(",")] if args.dense else []
    csq_line = ""
    if sizes or args.dense_exons:
        if shutil.which("bcftools") is None:
            raise SystemExit("bcftools is needed for bcftools csq")
        dpaths, fasta, gff = dense_inputs(sizes, args.dense_exons)
        csq_line = check_csq(dpaths, fasta, gff)
        benches += dense_benches(dpaths, fasta, gff)
    if args.only:
        benches = [b for b in benches if any(w in b.name for w in args.only)]
    print(machine(), file=sys.stderr)
    for b in benches:  # warm the page cache and imports once, untimed
        run_once(b.argv, env)
    for i in range(args.repeats):
        for b in benches:
            wall, rss, cpu = run_once(b.argv, env)
            b.walls.append(wall)
            b.rss_kb.append(rss)
            b.cpus.append(cpu)
        print(f"round {i + 1}/{args.repeats} done", file=sys.stderr)
    print(f"Machine: {machine()}\n")
    print(table(benches))
    print()
    print(ratios(benches))
    if sizes or args.dense_exons:
        print(dense_ratios(benches, sizes))
        print(csq_line)


if __name__ == "__main__":
    main()
