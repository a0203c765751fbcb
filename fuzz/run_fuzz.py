#!/usr/bin/env python3
"""Mutation fuzzing of resmark's inputs, for a fixed time budget.

    python3 fuzz/run_fuzz.py --seconds 300 [--seed 1] [--out fuzz/out] [--targets cnv,sv,...]

Targets (fuzz/targets.py): the main VCF, CNV tables, SV VCFs, fusion tables,
cohort sample sheets, panels (`panel validate` and `annotate --panel`), track
sample sheets and track BAMs/indexes.  Hypothesis draws a target, a seed
file, a list of mutations and a container (plain, gzip or bgzip, optionally
damaged after compression), writes the mutant and runs the CLI in-process.

The contract: exit 0 with a complete output directory, or a refusal: exit 1
(2 where the option is at fault: a sheet naming a missing file) with exactly
one stderr line `resmark: error: ...` naming a file; never a traceback, an
"internal error", "interrupted", a hang (30 s per case) or partial output
(OUTDIR holds nothing, or provenance.json and exactly the files it lists).
Cohorts (sheets) may also fail some samples (exit 1, one line per failure)
with the others' results complete.

A violation is shrunk by Hypothesis and saved as OUT/failure-N.<ext> with a
.txt explaining it; a hard crash (segfault) kills the worker process and the
parent keeps the case it was running as OUT/crash-N.<ext>.  Every finding
becomes a fixture and a regression test.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "fuzz"))

ALL_TARGETS = ("vcf", "cnv", "sv", "fusion", "sheet", "panel", "track-sheet", "track-bam")
CONTAINERS = ("plain", "plain", "gzip", "bgzip")


def contract(code: int, err: str, out: Path, mutant: Path, cohort: bool, usage_ok: bool) -> str | None:
    """None when the outcome keeps the contract, else what is wrong."""
    from tests.corpus_harness import check_outdir

    lines = [x for x in err.splitlines() if x.strip()]
    if "Traceback" in err or "internal error" in err:
        return "traceback or internal error"
    if "interrupted" in err:
        return "reported as interrupted"
    if code not in ((0, 1, 2) if usage_ok else (0, 1)):
        return f"exit code {code}"
    problem = check_outdir(out)
    if problem:
        return problem
    has_result = (out / "provenance.json").exists()
    if code == 0:
        return None
    if cohort and has_result:  # some samples failed (one line each), the others were written
        return None
    if has_result:
        return "refused but wrote results"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr, expected one"
    if not lines[0].startswith("resmark: error: "):
        return "message is not 'resmark: error: ...'"
    if "/" not in lines[0] and mutant.name not in lines[0]:
        return "message names no file"
    return None


def worker(seconds: float, seed: int, out: Path, wanted: tuple[str, ...]) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import annotator.knowledge
    import targets as T
    from tests.corpus_harness import PER_FILE_SECONDS, _cached_panel, run_cli, time_limit

    annotator.knowledge.load_panel = _cached_panel  # type: ignore[assignment]
    work = out / "seeds"
    table = T.targets(work)
    bams = _demo_bams(work) if "track-bam" in wanted else None
    names = [n for n in wanted if n == "track-bam" or table.get(n) and table[n].seeds]
    deadline = time.monotonic() + seconds
    state = {"cases": 0}
    counts: dict[str, dict[str, int]] = {}
    current = out / "current"

    class TimeUp(BaseException):
        pass

    op_tuple = st.tuples(st.sampled_from(T.TABLE_OPS + T.YAML_OPS), st.integers(0, 10**6),
                         st.integers(0, 10**6))

    @settings(max_examples=10**9, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(
        name=st.sampled_from(names),
        pick=st.integers(0, 10**6),
        ops=st.lists(op_tuple, min_size=1, max_size=6),
        container=st.sampled_from(CONTAINERS),
        zops=st.lists(st.tuples(st.sampled_from(T.BAM_OPS), st.integers(0, 10**6),
                                st.integers(0, 10**6)), max_size=2),
    )
    def one(name: str, pick: int, ops: list[tuple[str, int, int]], container: str,
            zops: list[tuple[str, int, int]]) -> None:
        if time.monotonic() > deadline:
            raise TimeUp
        with tempfile.TemporaryDirectory(prefix="resmark-fuzz-") as tmp_s:
            tmp = Path(tmp_s)
            if name == "track-bam":
                assert bams is not None
                mutant, argv, cohort, usage_ok, info = _bam_case(T, bams, pick, zops, tmp)
            else:
                target = table[name]
                src = target.seeds[pick % len(target.seeds)]
                raw = src.read_bytes()
                packed = raw[:2] == b"\x1f\x8b"
                text = _gunzip(raw) if packed else raw
                data = T.mutate_lines(text, [o for o in ops if o[0] in target.ops])
                box = ("bgzip" if packed else "plain") if not target.compressible else container
                data = T.pack(data, box, tmp)
                if box != "plain":
                    data = T.mutate_container(data, [z for z in zops if z[0].startswith("z_")])
                suffix = "".join(src.suffixes[-2:]) if not packed else "".join(src.suffixes[-3:-1])
                mutant = tmp / ("case" + (suffix or ".txt") + ("" if box == "plain" else ".gz"))
                mutant.write_bytes(data)
                argv = target.argv(mutant, tmp / "out")
                cohort, usage_ok = target.cohort, target.usage_ok
                info = {"target": name, "src": str(src), "ops": ops, "container": box,
                        "zops": zops}
            shutil.copyfile(mutant, out / "current.case")
            current.write_text(json.dumps({**info, "file": mutant.name}))
            try:
                with time_limit(PER_FILE_SECONDS):
                    code, err = run_cli(argv)
            except Exception as e:  # noqa: BLE001 - the harness's timeout
                if type(e).__name__ != "_Timeout":
                    raise
                code, err = -1, ""
                problem: str | None = f"no result within {PER_FILE_SECONDS} s"
            else:
                problem = contract(code, err, tmp / "out", mutant, cohort, usage_ok)
            state["cases"] += 1
            c = counts.setdefault(name, {"read": 0, "refused": 0})
            c["read" if code == 0 else "refused"] += 1
            (out / "current.err").write_text(err)
            assert problem is None, f"{name}: {problem}: {' | '.join(err.splitlines())[:400]}"

    try:
        one()
    except TimeUp:
        pass
    except AssertionError as e:
        save(out, "failure", str(e))
        print(f"FAILURE after {state['cases']} cases: {e}", file=sys.stderr)
        print(json.dumps({"cases": state["cases"], "by_target": counts}))
        return 3
    print(json.dumps({"cases": state["cases"], "by_target": counts}))
    return 0


def _gunzip(raw: bytes) -> bytes:
    import gzip
    import zlib

    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error):
        return raw


def _demo_bams(work: Path) -> dict[str, Path]:
    """The demo patient's BAMs (synthesised once per worker) and their sheet."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_bams", REPO / "scripts" / "make_demo_bams.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_demo_bams"] = mod
    spec.loader.exec_module(mod)
    bam_dir = work / "bams"
    if not (bam_dir / "done").exists():
        bams = mod.write_demo_bams(bam_dir)
        vcfs = [REPO / "test_vcfs" / "track" / f"{mod.PATIENT}_{label}.vcf" for label, *_ in mod.TIMEPOINTS]
        (bam_dir / "sheet.tsv").write_text(mod.samplesheet_text(vcfs, bams, None))
        (bam_dir / "done").write_text("")
    return {"dir": bam_dir, "sheet": bam_dir / "sheet.tsv"}


def _bam_case(T, bams: dict[str, Path], pick: int, zops: list[tuple[str, int, int]], tmp: Path):  # type: ignore[no-untyped-def]
    """Copy the demo BAMs, damage one (or its index), point a sheet at the copies."""
    sheet = bams["sheet"].read_text().splitlines()
    originals = sorted(bams["dir"].glob("*.bam"))
    victim = originals[pick % len(originals)]
    for bam in originals:
        shutil.copyfile(bam, tmp / bam.name)
        for ext in (".bai",):
            idx = Path(str(bam) + ext)
            if idx.exists():
                shutil.copyfile(idx, tmp / (bam.name + ext))
    bai = tmp / (victim.name + ".bai")
    ops = zops or [("z_flip", pick, pick * 7)]
    data, index = T.mutate_bam((tmp / victim.name).read_bytes(),
                               bai.read_bytes() if bai.exists() else b"", ops)
    (tmp / victim.name).write_bytes(data)
    if index is None:
        bai.unlink(missing_ok=True)
    else:
        bai.write_bytes(index)
    text = "\n".join(line.replace(str(bams["dir"]), str(tmp)) for line in sheet) + "\n"
    mutant = tmp / victim.name
    (tmp / "sheet.tsv").write_text(text)
    argv = ["-q", "track", str(tmp / "sheet.tsv"), "-o", str(tmp / "out"), "--no-plots"]
    return mutant, argv, False, True, {"target": "track-bam", "src": victim.name, "ops": ops}


def save(out: Path, kind: str, why: str) -> Path:
    info = json.loads((out / "current").read_text())
    n = len(list(out.glob(f"{kind}-*.txt"))) + 1
    ext = "".join(Path(info.get("file", "case.txt")).suffixes) or ".txt"
    target = out / f"{kind}-{n}{ext}"
    shutil.copyfile(out / "current.case", target)
    err = (out / "current.err").read_text() if (out / "current.err").exists() else ""
    (out / f"{kind}-{n}.txt").write_text(f"{why}\n{json.dumps(info, indent=1)}\nstderr:\n{err}\n")
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "fuzz" / "out")
    ap.add_argument("--targets", default=",".join(ALL_TARGETS),
                    help=f"comma-separated subset of {','.join(ALL_TARGETS)}")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    wanted = tuple(t for t in args.targets.split(",") if t)
    bad = [t for t in wanted if t not in ALL_TARGETS]
    if bad:
        ap.error(f"unknown target(s) {', '.join(bad)}")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        return worker(args.seconds, args.seed, args.out, wanted)
    end = time.monotonic() + args.seconds
    total, crashes, failures = 0, 0, 0
    by_target: dict[str, dict[str, int]] = {}
    while time.monotonic() < end - 1:
        left = end - time.monotonic()
        p = subprocess.run(
            [sys.executable, __file__, "--worker", "--seconds", str(left), "--seed", str(args.seed),
             "--out", str(args.out), "--targets", ",".join(wanted)],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": str(args.seed)},
        )
        if p.returncode < 0:
            crashes += 1
            save(args.out, "crash", f"worker killed by signal {-p.returncode}")
            continue
        if p.returncode not in (0, 3):
            print(p.stderr[-3000:], file=sys.stderr)
            return 2
        failures += p.returncode == 3
        report = json.loads(p.stdout.strip().splitlines()[-1])
        total += report["cases"]
        for name, c in report["by_target"].items():
            agg = by_target.setdefault(name, {"read": 0, "refused": 0})
            for k, v in c.items():
                agg[k] += v
    print(json.dumps({"seconds": args.seconds, "cases": total, "by_target": by_target,
                      "crashes": crashes, "contract_failures": failures, "out": str(args.out)}))
    return 1 if crashes or failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
