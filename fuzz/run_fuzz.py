#!/usr/bin/env python3
"""Mutation fuzzing of `resmark annotate` on real VCFs, for a fixed time budget.

    python3 fuzz/run_fuzz.py --seconds 300 [--seed 1] [--out fuzz/out]

Seeds: every VCF under test_vcfs/ and ../shared/external/vcf (when present).
Hypothesis draws a seed file and a list of mutations (byte flips, line drops
and duplications, field truncation, tab/space swaps, cut-off files, junk
bytes), writes the mutant (plain, or bgzipped when the seed was) and runs the
CLI in-process.  The contract is the corpus contract (tests/corpus_harness.py):
exit 0 with complete output, or exit 1 with one line naming the file.

A violation is shrunk by Hypothesis and saved to OUT/failure-*.vcf[.gz]
with a .txt explaining it.  A hard crash (segfault) kills the worker
process; the parent keeps the case it was running as OUT/crash-*.vcf[.gz]
and starts a new worker.  Every finding becomes a fixture in
test_vcfs/faults/ and a regression test (tests/test_faults_fuzz.py).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def seed_files() -> list[Path]:
    roots = [REPO / "test_vcfs", REPO.parent / "shared" / "external" / "vcf"]
    out: list[Path] = []
    for root in roots:
        if root.is_dir():
            out += [p for p in root.rglob("*") if p.is_file() and p.name.endswith((".vcf", ".vcf.gz"))
                    and p.stat().st_size < 400_000]
    return sorted(out)


def mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    lines = data.split(b"\n")
    for op, a, b in ops:
        if not lines:
            break
        i = a % len(lines)
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = b % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate_field":
            cols = lines[i].split(b"\t")
            k = b % len(cols)
            cols[k] = cols[k][: len(cols[k]) // 2]
            lines[i] = b"\t".join(cols)
        elif op == "tabs_to_spaces":
            lines[i] = lines[i].replace(b"\t", b" ", 1 + b % 3)
        elif op == "flip":
            line = bytearray(lines[i])
            if line:
                line[b % len(line)] ^= 1 << (a % 8)
                lines[i] = bytes(line)
        elif op == "junk":
            lines.insert(i, bytes((b * 37 + k) % 256 for k in range(1 + b % 40)))
        elif op == "empty_field":
            cols = lines[i].split(b"\t")
            cols[b % len(cols)] = b""
            lines[i] = b"\t".join(cols)
    joined = b"\n".join(lines)
    cut = [op for op in ops if op[0] == "cut"]
    if cut:
        joined = joined[: max(0, len(joined) - 1 - cut[0][2] % max(1, len(joined)))]
    return joined


OPS = ("drop", "dup", "swap", "truncate_field", "tabs_to_spaces", "flip", "junk", "empty_field", "cut")


def worker(seconds: float, seed: int, out: Path) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import annotator.knowledge
    from tests.corpus_harness import _cached_panel, annotate_one

    annotator.knowledge.load_panel = _cached_panel  # type: ignore[assignment]
    seeds = seed_files()
    deadline = time.monotonic() + seconds
    state = {"cases": 0}
    current = out / "current"

    class TimeUp(BaseException):
        pass

    @settings(max_examples=10**9, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(
        src=st.sampled_from(seeds),
        ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)),
                     min_size=1, max_size=6),
    )
    def one(src: Path, ops: list[tuple[str, int, int]]) -> None:
        if time.monotonic() > deadline:
            raise TimeUp
        raw = src.read_bytes()
        packed = raw[:2] == b"\x1f\x8b"
        data = mutate(gzip.decompress(raw) if packed else raw, ops)
        with tempfile.TemporaryDirectory(prefix="resmark-fuzz-") as tmp:
            case = Path(tmp) / ("case.vcf.gz" if packed else "case.vcf")
            if packed:
                import pysam

                plain = Path(tmp) / "case.vcf"
                plain.write_bytes(data)
                pysam.tabix_compress(str(plain), str(case), force=True)
            else:
                case.write_bytes(data)
            current.write_text(json.dumps({"src": str(src), "ops": ops, "packed": packed}))
            outcome = annotate_one(case, Path(tmp) / "out")
            state["cases"] += 1
            assert outcome.problem is None, f"{outcome.problem}: {outcome.message}"

    try:
        one()
    except TimeUp:
        pass
    except AssertionError as e:
        info = json.loads(current.read_text())
        save(out, "failure", info, str(e))
        print(f"FAILURE after {state['cases']} cases: {e}", file=sys.stderr)
        return 3
    print(json.dumps({"cases": state["cases"]}))
    return 0


def save(out: Path, kind: str, info: dict, why: str) -> Path:
    src = Path(info["src"])
    raw = src.read_bytes()
    packed = info["packed"]
    data = mutate(gzip.decompress(raw) if packed else raw, [tuple(x) for x in info["ops"]])
    n = len(list(out.glob(f"{kind}-*.txt"))) + 1
    target = out / f"{kind}-{n}.vcf"
    target.write_bytes(data)
    (out / f"{kind}-{n}.txt").write_text(f"{why}\nseed file: {src}\nmutations: {info['ops']}\n"
                                         f"bgzipped: {packed}\n")
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "fuzz" / "out")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        return worker(args.seconds, args.seed, args.out)
    end = time.monotonic() + args.seconds
    total, crashes, failures = 0, 0, 0
    while time.monotonic() < end - 1:
        left = end - time.monotonic()
        p = subprocess.run(
            [sys.executable, __file__, "--worker", "--seconds", str(left), "--seed", str(args.seed),
             "--out", str(args.out)],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": str(args.seed)},
        )
        if p.returncode < 0:
            crashes += 1
            info = json.loads((args.out / "current").read_text())
            save(args.out, "crash", info, f"worker killed by signal {-p.returncode}")
            continue
        if p.returncode == 3:
            failures += 1
            continue
        if p.returncode != 0:
            print(p.stderr[-3000:], file=sys.stderr)
            return 2
        total += json.loads(p.stdout.strip().splitlines()[-1])["cases"]
    print(json.dumps({"seconds": args.seconds, "cases_completed_by_clean_workers": total,
                      "crashes": crashes, "contract_failures": failures, "out": str(args.out)}))
    return 1 if crashes or failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
