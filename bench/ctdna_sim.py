#!/usr/bin/env python3
"""Serial ctDNA simulator with known truth, for ``resmark pon build`` + ``resmark track``.

Writes, under OUTDIR:

* ``P<k>/P<k>_T<t>.bam`` (+ ``.bai``): paired reads at every site of the
  patient, from molecules whose allele is drawn from the site's true VAF at
  that timepoint; PCR copies of each molecule (family size 1 + Poisson(1.5))
  carry an ``MI`` tag (``--mode umi``), ``MI`` with ``/A`` ``/B`` strand
  suffixes (``duplex``), no tag but the duplicate flag on all copies but one
  (``markdup``) or neither (``raw``); every read base at a site is wrong with
  the site's error rate (0.1-0.5 % per base, times a per-sample factor
  0.7-1.4), the wrong base uniform among the other three;
* ``P<k>/P<k>_T<t>.vcf``: a tumour-informed caller's records at the
  patient's sites, PASS when its (read) alt count >= 3, else
  ``weak_evidence``; the noise site gets one false PASS record;
* ``normals/N<i>.bam``: normal samples (true VAF 0 everywhere, same error
  and artefact model) for the PON; ``normals.txt`` lists them;
* ``sites.bed``: every simulated site (``resmark pon build --regions``);
* ``samplesheet.tsv`` (patient, timepoint, date, vcf, bam, tumor_fraction,
  therapy) and ``truth.tsv`` (one row per patient x timepoint x site: the
  true VAF, tumour fraction, molecules, expected and drawn alt molecules,
  and the fragment/read counts actually written);
* ``simulation.json``: the parameters and seed.

Patients follow one of four tumour-fraction courses (stable, response then
progression, clearance, clearance then relapse); truncal variants sit at
TF/2, a therapy-sensitive subclone clears after baseline, a resistance
subclone emerges at a random timepoint, one noise site (true VAF 0) and the
two artefact sites (an alt-specific, molecule-level artefact of 0.2-1 %
present in every sample, normals included) are tracked as well.

Real GRCh38 positions (hotspot codons of the panel genes, bench/data), REF
bases from the embedded reference; everything else invented.

    python3 bench/ctdna_sim.py OUTDIR [--seed 1] [--patients 12] [--timepoints 5]
        [--min-depth 500 --max-depth 5000] [--min-error 0.001 --max-error 0.005]
        [--min-tf 0.01 --max-tf 0.2] [--normals 8 --normal-depth 2000] [--modes umi]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common import HOTSPOTS, REPO  # type: ignore[import-not-found]

READ_LEN = 100
WINDOW = 400  # reference bases fetched either side of a site
BASE_QUAL = 37
FAMILY_LAMBDA = 1.5  # family size = 1 + Poisson(FAMILY_LAMBDA)
MODES = ("umi", "duplex", "markdup", "raw")
COURSES = ("stable", "response_progression", "clearance", "relapse")
BASES = "ACGT"
Fetch = Callable[[str, int, int], "str | None"]


@dataclass(frozen=True)
class Site:
    chrom: str
    pos: int  # 1-based
    ref: str
    alt: str
    gene: str
    error_rate: float  # per base per read
    artefact_rate: float = 0.0  # molecule-level ALT artefact (artefact sites only)

    @property
    def is_deletion(self) -> bool:
        return len(self.ref) == 2 and len(self.alt) == 1

    @property
    def key(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"


@dataclass
class SiteCounts:
    """What was written at one site of one sample."""

    molecules: int = 0
    alt_molecules_true: int = 0  # tumour ALT molecules drawn
    artefact_molecules: int = 0
    reads_alt: int = 0
    reads_ref: int = 0
    reads_other: int = 0
    reads_duplicate_flagged: int = 0
    fragments_alt: int = 0  # non-duplicate fragments whose reads over the site all show ALT
    fragments_ref: int = 0
    fragments_other: int = 0
    discordant_fragments: int = 0


@dataclass
class Sample:
    name: str
    path: Path
    mode: str
    error_factor: float
    header: object = None  # pysam.AlignmentHeader
    reads: list[tuple[int, int, object]] = field(default_factory=list)  # (tid, start, segment)


# ----------------------------------------------------------------------------- sites


def site_pool(fetch: Fetch, rng: random.Random, error_range: tuple[float, float] = (0.001, 0.005)) -> list[Site]:
    """One position per hotspot codon (the middle base) of a gene of the built-in panel, >= 2 kb
    apart, a random ALT, a per-base error rate log-uniform in ``error_range``."""
    from annotator.knowledge import load_panel

    genes = set(load_panel(None).gene_symbols())
    with open(HOTSPOTS, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    sites: list[Site] = []
    for r in sorted(rows, key=lambda r: (r["chrom"], int(r["c1_c2_c3_genomic_positions"].split(",")[1]))):
        pos = int(r["c1_c2_c3_genomic_positions"].split(",")[1])
        if r["gene"] not in genes:
            continue  # not a panel gene: resmark track (report=panel) rightly leaves it out
        if any(s.chrom == r["chrom"] and abs(s.pos - pos) < 2000 for s in sites):
            continue
        window = fetch(r["chrom"], pos - WINDOW, pos + WINDOW)
        if not window or len(window) != 2 * WINDOW + 1 or "N" in window.upper():
            continue
        ref = window[WINDOW].upper()
        alt = rng.choice([b for b in BASES if b != ref])
        rate = math.exp(rng.uniform(math.log(error_range[0]), math.log(error_range[1])))
        sites.append(Site(r["chrom"], pos, ref, alt, r["gene"], round(rate, 5)))
    return sites


# ----------------------------------------------------------------------------- reads


def simulate_site(sample: Sample, tid: int, site: Site, window: str, depth: int, vaf: float,
                  rng: random.Random, nprng: random.Random) -> SiteCounts:
    """Append the reads of one site to ``sample.reads``; return what was written."""
    import pysam

    counts = SiteCounts()
    mean_family = 1 + FAMILY_LAMBDA
    n_mol = max(1, round(depth / mean_family))
    counts.molecules = n_mol
    err = min(0.5, site.error_rate * sample.error_factor)
    w0 = site.pos - WINDOW  # 1-based position of window[0]
    for m in range(n_mol):
        u = rng.random()
        if u < vaf:
            base = site.alt
            counts.alt_molecules_true += 1
        elif u < vaf + site.artefact_rate:
            base = site.alt
            counts.artefact_molecules += 1
        else:
            base = site.ref
        flen = rng.randint(140, 220)
        # the site's offset in the fragment, within at least one read (molecules not read at
        # the site are not part of its depth)
        if flen <= 2 * READ_LEN:
            off = rng.randrange(flen)
        else:
            x = rng.randrange(2 * READ_LEN)
            off = x if x < READ_LEN else flen - 2 * READ_LEN + x
        start = site.pos - 1 - off  # 0-based fragment start
        r1_reverse = rng.random() < 0.5
        copies = 1 + _poisson(nprng, FAMILY_LAMBDA)
        mi = f"{sample.name}-{tid}-{site.pos}-{m}"
        for c in range(copies):
            name = f"{mi}-{c}"
            dup = sample.mode == "markdup" and c > 0
            strand = "A" if c % 2 == 0 else "B"
            seen: list[str] = []
            for mate in (1, 2):
                rstart = start if (mate == 1) != r1_reverse else start + flen - READ_LEN
                i0 = rstart - (w0 - 1)  # index into window
                seq = list(window[i0 : i0 + READ_LEN].upper())
                cigar = [(0, READ_LEN)]
                covers = rstart <= site.pos - 1 < rstart + READ_LEN
                if site.is_deletion:
                    # a 1-bp deletion after the anchor: shown by reads aligned at the anchor and at the
                    # base after the deleted one (what a re-genotyper needs to call either allele); a
                    # read carries it when its molecule does (flipped at the error rate / 3)
                    k = site.pos - rstart  # aligned bases up to and including the anchor
                    covers = 1 <= k <= READ_LEN - 2
                    if covers:
                        deleted = (base == site.alt) != (rng.random() < err / 3)
                        b = site.alt if deleted else site.ref
                        if deleted:
                            seq = list(window[i0 : i0 + k].upper() + window[i0 + k + 1 : i0 + READ_LEN + 1].upper())
                            cigar = [(0, k), (2, 1), (0, READ_LEN - k)]
                        seen.append(b)
                        if dup:
                            counts.reads_duplicate_flagged += 1
                        elif deleted:
                            counts.reads_alt += 1
                        else:
                            counts.reads_ref += 1
                elif covers:
                    b = base
                    if rng.random() < err:
                        b = rng.choice([x for x in BASES if x != base])
                    seq[site.pos - 1 - rstart] = b
                    seen.append(b)
                    if dup:
                        counts.reads_duplicate_flagged += 1
                    elif b == site.alt:
                        counts.reads_alt += 1
                    elif b == site.ref:
                        counts.reads_ref += 1
                    else:
                        counts.reads_other += 1
                reverse = (mate == 1) == r1_reverse
                mate_start = start + flen - READ_LEN if rstart == start else start
                flag = 0x1 | 0x2 | (0x40 if mate == 1 else 0x80) | (0x10 if reverse else 0x20)
                if dup:
                    flag |= 0x400
                a = pysam.AlignedSegment(sample.header)  # type: ignore[arg-type]
                a.query_name = name
                a.flag = flag
                a.reference_id = tid
                a.reference_start = rstart
                a.mapping_quality = 60
                a.cigartuples = cigar
                a.next_reference_id = tid
                a.next_reference_start = mate_start
                a.template_length = flen if rstart == start else -flen
                a.query_sequence = "".join(seq)
                a.query_qualities = pysam.qualitystring_to_array(chr(33 + BASE_QUAL) * READ_LEN)
                if sample.mode == "umi":
                    a.set_tag("MI", mi)
                elif sample.mode == "duplex":
                    a.set_tag("MI", f"{mi}/{strand}")
                sample.reads.append((tid, rstart, a))
            if dup or not seen:
                continue
            if len(set(seen)) > 1:
                counts.discordant_fragments += 1
            elif seen[0] == site.alt:
                counts.fragments_alt += 1
            elif seen[0] == site.ref:
                counts.fragments_ref += 1
            else:
                counts.fragments_other += 1
    return counts


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def write_sample(sample: Sample) -> None:
    import pysam

    sample.path.parent.mkdir(parents=True, exist_ok=True)
    sample.reads.sort(key=lambda r: (r[0], r[1]))
    with pysam.AlignmentFile(str(sample.path), "wb", header=sample.header) as out:  # type: ignore[arg-type]
        for _tid, _start, seg in sample.reads:
            out.write(seg)  # type: ignore[arg-type]
    pysam.index(str(sample.path))
    sample.reads.clear()


# ----------------------------------------------------------------------------- trajectories


def tumour_fractions(course: str, n: int, rng: random.Random,
                     tf_range: tuple[float, float] = (0.01, 0.2)) -> list[float]:
    tf0 = round(math.exp(rng.uniform(math.log(tf_range[0]), math.log(tf_range[1]))), 4)
    low = round(tf0 / 8, 5)
    if course == "stable":
        return [tf0] * n
    if course == "response_progression":
        k = rng.randint(2, max(2, n - 1))  # first timepoint of progression
        return [tf0] + [low] * (k - 1) + [round(tf0 / 2, 5)] * (n - k)
    if course == "clearance":
        return [tf0] + [0.0] * (n - 1)
    k = rng.randint(2, max(2, n - 1))  # relapse
    return [tf0] + [0.0] * (k - 1) + [round(tf0 / 2, 5)] * (n - k)


def write_vcf(path: Path, sample: str, records: Sequence[tuple[Site, str, int, int]]) -> None:
    from annotator.core.genome import GRCH38

    lines = [
        "##fileformat=VCFv4.2",
        "##source=resmark bench/ctdna_sim.py (SIMULATED: real GRCh38 positions, invented reads)",
        "##reference=GRCh38",
        f"##tumor_sample={sample}",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FILTER=<ID=weak_evidence,Description="Fewer than 3 alt reads">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    ]
    lines += [f"##contig=<ID={c},length={n}>" for c, n in GRCH38.lengths.items()]
    lines.append(f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}")
    order = list(GRCH38.lengths)
    for site, filt, n_ref, n_alt in sorted(records, key=lambda r: (order.index(r[0].chrom), r[0].pos)):
        dp = n_ref + n_alt
        af = n_alt / dp if dp else 0.0
        lines.append(f"{site.chrom}\t{site.pos}\t.\t{site.ref}\t{site.alt}\t.\t{filt}\t.\tGT:AD:AF:DP\t"
                     f"{'0/1' if n_alt else '0/0'}:{n_ref},{n_alt}:{af:.5f}:{dp}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Params:
    seed: int = 1
    patients: int = 12
    timepoints: int = 5
    normals: int = 8
    min_depth: int = 500
    max_depth: int = 5000
    normal_depth: int = 2000
    modes: tuple[str, ...] = ("umi",)
    max_sites: int | None = None  # smaller pool (tests)
    min_error: float = 0.001  # per-base error rate of a site: log-uniform in [min_error, max_error]
    max_error: float = 0.005
    min_tf: float = 0.01  # baseline tumour fraction: log-uniform in [min_tf, max_tf]
    max_tf: float = 0.2
    deletions: int = 0  # sites (not the artefact ones) made 1-bp deletions instead of SNVs


def simulate(outdir: Path, p: Params, fetch: Fetch | None = None) -> dict[str, Path]:
    from annotator.core.genome import GRCH38

    if fetch is None:
        from annotator.reference import load_reference

        fetch = load_reference("GRCh38").sequence
    rng = random.Random(p.seed)
    nprng = random.Random(p.seed * 7919 + 1)
    pool = site_pool(fetch, rng, (p.min_error, p.max_error))
    if p.max_sites is not None:
        pool = rng.sample(pool, min(p.max_sites, len(pool)))
    rng.shuffle(pool)
    artefacts = [Site(s.chrom, s.pos, s.ref, s.alt, s.gene, s.error_rate,
                      round(rng.uniform(0.002, 0.01), 4)) for s in pool[:2]]
    pool = artefacts + pool[2:]
    if p.deletions:
        pool = artefacts + _with_deletions(pool[2:], fetch, p.deletions)
    sites_all = sorted(pool, key=lambda s: (list(GRCH38.lengths).index(s.chrom), s.pos))
    windows = {s.key: fetch(s.chrom, s.pos - WINDOW, s.pos + WINDOW) or "" for s in sites_all}
    names = list(GRCH38.lengths)
    import pysam

    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"},
                                              "SQ": [{"SN": c, "LN": n} for c, n in GRCH38.lengths.items()]})
    outdir.mkdir(parents=True, exist_ok=True)

    def depth() -> int:
        return round(math.exp(rng.uniform(math.log(p.min_depth), math.log(p.max_depth))))

    # normals
    normal_paths = []
    for i in range(p.normals):
        s = Sample(f"N{i + 1}", outdir / "normals" / f"N{i + 1}.bam", p.modes[i % len(p.modes)],
                   rng.uniform(0.7, 1.4), header)
        for site in sites_all:
            simulate_site(s, names.index(site.chrom), site, windows[site.key], p.normal_depth, 0.0, rng, nprng)
        write_sample(s)
        normal_paths.append(s.path)
    (outdir / "normals.txt").write_text("".join(f"{q.relative_to(outdir)}\n" for q in normal_paths))
    with open(outdir / "sites.bed", "w", encoding="ascii") as fh:
        for s in sites_all:
            fh.write(f"{s.chrom}\t{s.pos - 1}\t{s.pos}\t{s.key}\n")

    truth_rows: list[dict[str, object]] = []
    sheet_rows: list[list[str]] = []
    others = pool[2:]
    for k in range(1, p.patients + 1):
        pid = f"P{k}"
        course = COURSES[(k - 1) % len(COURSES)]
        # modes in blocks of the four courses, so every mode sees every course (cycling both with
        # the patient number put the duplex patients on the low-tumour-fraction courses only)
        mode = p.modes[((k - 1) // len(COURSES)) % len(p.modes)]
        tfs = tumour_fractions(course, p.timepoints, rng, (p.min_tf, p.max_tf))
        chosen = rng.sample(others, min(len(others), 5))
        roles: list[tuple[Site, str]] = [(chosen[0], "truncal"), (chosen[1], "truncal"),
                                         (chosen[2], "sensitive"), (chosen[3], "resistance"),
                                         (chosen[4], "noise")]
        roles += [(a, "artefact") for a in artefacts]
        ccf = {s.key: round(rng.uniform(0.2, 0.8), 3) for s, _ in roles}
        emerge = rng.randint(1, p.timepoints - 1)
        false_call = rng.randrange(p.timepoints)
        date0 = dt.date(2024, 1, 8) + dt.timedelta(days=7 * rng.randint(0, 20))
        for t in range(p.timepoints):
            label = f"T{t}"
            date = date0 + dt.timedelta(days=7 * (10 * t + rng.randint(-1, 1)))
            name = f"{pid}_{label}"
            s = Sample(name, outdir / pid / f"{name}.bam", mode, rng.uniform(0.7, 1.4), header)
            d = depth()
            records = []
            for site, role in sorted(roles, key=lambda r: (names.index(r[0].chrom), r[0].pos)):
                vaf = true_vaf(role, tfs[t], ccf[site.key], t, emerge)
                c = simulate_site(s, names.index(site.chrom), site, windows[site.key], d, vaf, rng, nprng)
                n_alt, n_ref = c.fragments_alt, c.fragments_ref
                filt = "PASS" if n_alt >= 3 or (role == "noise" and t == false_call) else "weak_evidence"
                records.append((site, filt, n_ref, n_alt))
                truth_rows.append({
                    "patient": pid, "timepoint": label, "date": date.isoformat(), "variant_key": site.key,
                    "gene": site.gene, "role": role, "course": course, "mode": mode,
                    "true_vaf": vaf, "tumor_fraction": tfs[t], "error_rate": site.error_rate,
                    "sample_error_factor": round(s.error_factor, 4), "artefact_rate": site.artefact_rate,
                    "expected_alt_molecules": round(c.molecules * vaf, 3), "vcf_filter": filt,
                    **asdict(c),
                })
            write_sample(s)
            write_vcf(outdir / pid / f"{name}.vcf", name, records)
            therapy = "none (baseline)" if t == 0 else "fulvestrant + palbociclib (SERD + CDK4/6 inhibitor)"
            sheet_rows.append([pid, label, date.isoformat(), f"{pid}/{name}.vcf", f"{pid}/{name}.bam",
                               f"{tfs[t]:g}", therapy])
    with open(outdir / "samplesheet.tsv", "w", encoding="utf-8") as fh:
        fh.write("patient\ttimepoint\tdate\tvcf\tbam\ttumor_fraction\ttherapy\n")
        fh.writelines("\t".join(r) + "\n" for r in sheet_rows)
    with open(outdir / "truth.tsv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(truth_rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(truth_rows)
    (outdir / "simulation.json").write_text(json.dumps({
        "params": {**asdict(p), "modes": list(p.modes)}, "family_lambda": FAMILY_LAMBDA,
        "read_length": READ_LEN, "base_quality": BASE_QUAL,
        "sites": [asdict(s) for s in sites_all],
    }, indent=2) + "\n")
    return {"samplesheet": outdir / "samplesheet.tsv", "truth": outdir / "truth.tsv",
            "normals": outdir / "normals.txt", "regions": outdir / "sites.bed"}


def _with_deletions(sites: list[Site], fetch: Fetch, n: int) -> list[Site]:
    """The first ``n`` sites whose next base can be deleted without the deletion moving
    (anchor, deleted and following bases all differ: no repeat) become 1-bp deletions."""
    out = []
    for s in sites:
        seq = (fetch(s.chrom, s.pos, s.pos + 2) or "").upper()
        if n > 0 and len(seq) == 3 and seq[0] != seq[1] != seq[2] and "N" not in seq:
            out.append(Site(s.chrom, s.pos, seq[:2], seq[0], s.gene, s.error_rate))
            n -= 1
        else:
            out.append(s)
    return out


def true_vaf(role: str, tf: float, ccf: float, t: int, emerge: int) -> float:
    present = {"truncal": True, "sensitive": t == 0, "resistance": t >= emerge}.get(role, False)
    return round(tf / 2 * (1.0 if role == "truncal" else ccf), 6) if present else 0.0  # noise, artefact: 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=Path)
    for flag, default in (("seed", 1), ("patients", 12), ("timepoints", 5), ("normals", 8),
                          ("min-depth", 500), ("max-depth", 5000), ("normal-depth", 2000)):
        ap.add_argument(f"--{flag}", type=int, default=default)
    ap.add_argument("--modes", default="umi", help=f"comma list from {','.join(MODES)}, cycled over samples")
    ap.add_argument("--min-error", type=float, default=0.001, help="per-base error rate of a site, log-uniform from")
    ap.add_argument("--max-error", type=float, default=0.005, help="... to")
    ap.add_argument("--min-tf", type=float, default=0.01,
                    help="baseline tumour fraction, log-uniform from (truncal VAF = TF/2, subclones x CCF 0.2-0.8)")
    ap.add_argument("--max-tf", type=float, default=0.2, help="... to")
    ap.add_argument("--deletions", type=int, default=0,
                    help="make this many sites 1-bp deletions (per-read deletion error = site error / 3)")
    args = ap.parse_args(argv)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not modes or any(m not in MODES for m in modes):
        ap.error(f"--modes: choose from {', '.join(MODES)}")
    if args.timepoints < 2 or not (0 < args.min_error <= args.max_error < 0.5
                                   and 0 < args.min_tf <= args.max_tf <= 1 and 0 < args.min_depth <= args.max_depth):
        ap.error("need --timepoints >= 2, 0 < --min-error <= --max-error < 0.5, "
                 "0 < --min-tf <= --max-tf <= 1, 0 < --min-depth <= --max-depth")
    p = Params(seed=args.seed, patients=args.patients, timepoints=args.timepoints, normals=args.normals,
               min_depth=args.min_depth, max_depth=args.max_depth, normal_depth=args.normal_depth, modes=modes,
               min_error=args.min_error, max_error=args.max_error, min_tf=args.min_tf, max_tf=args.max_tf,
               deletions=args.deletions)
    out = simulate(args.outdir, p)
    print(f"wrote {p.patients} patients x {p.timepoints} timepoints, {p.normals} normals in {args.outdir}; "
          f"truth: {out['truth']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
