"""Per-record cost of reading a VCF into resmark records (read support included).

Usage::

    python3 bench/generate.py panel --records 100000 -o bench/generated/panel100k.vcf.gz --index
    python3 bench/bench_readsupport.py bench/generated/panel100k.vcf.gz --sample BENCH01

Reads every record through ``annotator.io.vcfin.VcfSource`` (what ``annotate``
does per record before the pipeline) ``--repeat`` times and prints the best
time per record; compare checkouts by running it with each on PYTHONPATH.
The end-to-end run is timed with ``/usr/bin/time -v resmark annotate ...``.
"""

from __future__ import annotations

import argparse
import time

from annotator.io.vcfin import VcfSource


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("vcf")
    ap.add_argument("--sample", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    best, n = float("inf"), 0
    for _ in range(args.repeat):
        src = VcfSource(args.vcf, args.sample)
        t = time.process_time()  # CPU time: other processes on the machine do not count
        n = sum(1 for _ in src.records())
        best = min(best, time.process_time() - t)
        src.close()
    print(f"{n} records, best of {args.repeat}: {best:.2f} s CPU, {best / n * 1e6:.1f} us/record")


if __name__ == "__main__":
    main()
