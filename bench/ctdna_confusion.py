#!/usr/bin/env python3
"""Truth-vs-call confusion of ``resmark track`` on simulated serial ctDNA (bench/ctdna_sim.py).

For each seed: simulate (unless the same simulation is already there), build
the PON from the simulated normals (``resmark pon build``, when the command
exists), run ``resmark track --pon``, join ``track_long.tsv`` with
``truth.tsv`` on (patient, timepoint, variant_key) and print, as Markdown:

* the status matrix (true VAF 0 / > 0 x status) and the change matrix (true
  transition vs the previous timepoint x called change);
* the four rates of issue 16 with their goals (all seeds pooled, and per seed):
  - true-VAF-0 observations called ``detected`` (goal <= 5 %);
  - ``cleared`` calls where the variant is truly present (goal <= 5 %);
  - true emergences with >= 10 expected ALT molecules called ``emerging``
    (goal >= 80 %; untracked variants count as misses);
  - true stable transitions called ``stable`` (goal >= 90 %);
* the patient-level MRD call per timepoint against the true tumour fraction,
  when ``track_summary.json`` carries one;
* for information (not goals): the false calls behind the rates ('emerging'
  calls whose truth is no emergence, 'emerging'/'rising' calls whose truth is
  no increase, 'stable' calls whose truth is not stable) and the goals
  restricted to what the depth can show.

The true transition from VAF v1 to v2: both 0 absent; 0 -> >0 emerging;
>0 -> 0 cleared; v2/v1 >= 1.5 rising; <= 1/1.5 falling; else stable (the
simulator only makes ratios of 1 or >= 2).  Thresholds of resmark are its
defaults unless ``--track-args`` says otherwise; nothing here is tuned.

Reading of the goals (issue 16, point 10).  "Stable transitions" are all
pairs with the same true VAF > 0, whatever the depth: many have < 1 expected
alt molecule per draw, where no data can tell them from a cleared variant;
the rows "with >= 5 / >= 10 expected alt molecules at both draws" show the
rate where the depth can.  "Emergences with >= 10 expected alt molecules"
counts the molecules at the emerging draw; whether the change can be shown
also depends on the earlier draw, so the emergences whose earlier draw would
have shown >= 3 alt molecules at the new VAF are printed as well.  Untracked
variants count as misses.

Held-out settings: ``--min-depth/--max-depth`` (reads per site, log-uniform),
``--min-error/--max-error`` (per-base error rate of a site), ``--min-tf/--max-tf``
(baseline tumour fraction; truncal VAF = TF/2), ``--normals``, ``--patients``,
``--seeds``; each setting is simulated once into its own directory.

    python3 bench/ctdna_confusion.py --seeds 1,2 [--patients 12] [--timepoints 5] [--workdir DIR]
    python3 bench/ctdna_confusion.py --seeds 101,102,103 --min-depth 1000 --max-depth 10000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from common import REPO, WORK  # type: ignore[import-not-found]
from ctdna_misses import true_change  # type: ignore[import-not-found]  # the truth's change labels, one place

PY = sys.executable
RESMARK = [PY, "-m", "annotator"]
GOALS = {
    "vaf0_detected": ("true-VAF-0 observations called detected", "<=", 0.05),
    "false_cleared": ("'cleared' calls that are false (variant present)", "<=", 0.05),
    "emerging_found": ("emergences with >= 10 expected alt molecules called emerging", ">=", 0.80),
    "stable_found": ("stable transitions called stable", ">=", 0.90),
}
# not goals of the issue: the same rates restricted to what the depth can show, and the false calls
EXTRA = {
    "cleared_false_stated": ("'cleared' calls whose true VAF is at or above the clearance VAF they are stated at",
                             "<=", 0.0),
    "emerging_false": ("'emerging' calls whose truth is not an emergence", "<=", 0.0),
    "increase_false": ("'emerging'/'rising' calls whose truth is no increase", "<=", 0.0),
    "stable_false": ("'stable' calls whose truth is not stable", "<=", 0.0),
    "emerging_false_window": ("'emerging' calls whose variant was truly present at the start of the draws compared "
                              "(the previous draw, or the first of the pooled run when the pooled test decided)",
                              "<=", 0.0),
    "emerging_found_both": ("emergences with >= 10 expected alt molecules now and >= 3 at the earlier draw "
                            "at the new VAF, called emerging", ">=", 0.0),
    "stable_found_lt1": ("stable transitions with < 1 expected alt molecule at the lesser draw called stable",
                         ">=", 0.0),
    "stable_found_1_5": ("stable transitions with 1-5 expected alt molecules at the lesser draw called stable",
                         ">=", 0.0),
    "stable_found_5_10": ("stable transitions with 5-10 expected alt molecules at the lesser draw called stable",
                          ">=", 0.0),
    "stable_found_5": ("stable transitions with >= 5 expected alt molecules at both draws called stable", ">=", 0.0),
    "stable_found_10": ("stable transitions with >= 10 expected alt molecules at both draws called stable", ">=", 0.90),
    "mrd_sensitivity": ("timepoints with tumour fraction > 0 called MRD positive", ">=", 0.0),
    "mrd_specificity": ("timepoints with tumour fraction 0 called MRD negative", ">=", 0.0),
}




def _env() -> dict[str, str]:
    """resmark from $PYTHONPATH when set (e.g. another checkout), else from this checkout.

    Entries are made absolute: the commands run in the simulation's directory, where a
    relative ``PYTHONPATH=.`` would silently import another installed resmark.
    """
    env = dict(os.environ)
    paths = [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths or [str(REPO)])
    return env


def run(argv: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, env=_env())
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t


def has_pon_command() -> bool:
    proc = subprocess.run([*RESMARK, "pon", "--help"], capture_output=True, text=True, check=False,
                          cwd=Path(tempfile.gettempdir()), env=_env())
    return proc.returncode == 0


SIM_OPTIONS = (("min_depth", 500), ("max_depth", 5000), ("min_error", 0.001), ("max_error", 0.005),
               ("min_tf", 0.01), ("max_tf", 0.2), ("normals", 8), ("deletions", 0))


def simulate(seed: int, args: argparse.Namespace) -> Path:
    changed = [(k, getattr(args, k)) for k, default in SIM_OPTIONS if getattr(args, k) != default]
    tag = "".join(f"_{k.replace('_', '')}{v:g}" for k, v in changed)
    d = Path(args.workdir) / f"seed{seed}_p{args.patients}_t{args.timepoints}_{args.modes.replace(',', '-')}{tag}"
    if (d / "truth.tsv").exists() and (d / "simulation.json").exists():
        return d
    cmd = [PY, str(REPO / "bench" / "ctdna_sim.py"), str(d), "--seed", str(seed), "--patients",
           str(args.patients), "--timepoints", str(args.timepoints), "--modes", args.modes]
    for k, _default in SIM_OPTIONS:
        cmd += [f"--{k.replace('_', '-')}", f"{getattr(args, k):g}"]
    print(f"simulating seed {seed}: {shlex.join(cmd)}", file=sys.stderr)
    run(cmd, REPO)
    return d


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def evaluate(sim: Path, args: argparse.Namespace, use_pon: bool) -> dict[str, object]:
    out = sim / (f"track_out_{args.run_name}" if args.run_name else "track_out")
    pon = sim / "pon"
    timings = {}
    if use_pon and (args.rebuild_pon or not (pon / "provenance.json").exists()):
        normals = [str(sim / n.strip()) for n in (sim / "normals.txt").read_text().splitlines() if n.strip()]
        timings["pon_build_s"] = run([*RESMARK, "pon", "build", *normals, "-o", str(pon), "--regions",
                                      str(sim / "sites.bed"), "--force"], sim)
    track = [*RESMARK, "track", str(sim / "samplesheet.tsv"), "-o", str(out), "--force", "--no-png"]
    if use_pon:
        track += ["--pon", str(pon)]
    track += shlex.split(args.track_args or "")
    timings["track_s"] = run(track, sim)
    truth = {(r["patient"], r["timepoint"], r["variant_key"]): r for r in read_tsv(sim / "truth.tsv")}
    calls = {(r["patient"], r["timepoint"], r["variant_key"]): r for r in read_tsv(out / "track_long.tsv")}
    order: dict[str, list[str]] = defaultdict(list)
    for p, t, _k in truth:
        if t not in order[p]:
            order[p].append(t)
    status_m: Counter[tuple[str, str]] = Counter()
    change_m: Counter[tuple[str, str]] = Counter()
    vaf0 = vaf0_det = 0
    vaf0_by_role: Counter[str] = Counter()
    cleared = cleared_false = cleared_false_stated = 0
    doc = json.loads((out / "track_summary.json").read_text(encoding="utf-8"))
    clearance_vaf = float((doc.get("thresholds") or {}).get("clearance_vaf") or 0.001)
    emerg = emerg_found = emerg2 = emerg2_found = 0
    stable = stable_found = stable10 = stable10_found = stable5 = stable5_found = 0
    n_emerging = n_emerging_false = n_increase = n_increase_false = n_stable = n_stable_false = 0
    n_emerging_window_false = 0
    bands: dict[str, list[int]] = {"lt1": [0, 0], "1_5": [0, 0], "5_10": [0, 0]}
    for (p, t, k), tr in truth.items():
        v = float(tr["true_vaf"])
        call = calls.get((p, t, k))
        status = call["status"] if call else "untracked"
        status_m[("vaf0" if v == 0 else "vaf>0", status)] += 1
        if v == 0 and call is not None and status not in ("not_assessed",):
            vaf0 += 1
            if status == "detected":
                vaf0_det += 1
                vaf0_by_role[tr["role"]] += 1
        i = order[p].index(t)
        if i == 0:
            continue
        prev = truth[(p, order[p][i - 1], k)]
        tc = true_change(float(prev["true_vaf"]), v)
        cc = (call.get("change") or "none") if call else "untracked"
        change_m[(tc, cc)] += 1
        if cc == "cleared":
            cleared += 1
            cleared_false += v > 0
            cleared_false_stated += v >= clearance_vaf
        if cc == "emerging":
            n_emerging += 1
            n_emerging_false += tc != "emerging"
            # the draws the call compared: the previous one, or the pooled run when its test decided
            start = call.get("pooled_from") if call.get("pooled_p_value") else None
            first = truth[(p, start, k)] if start else prev
            n_emerging_window_false += float(first["true_vaf"]) > 0
        if cc in ("emerging", "rising"):
            n_increase += 1
            n_increase_false += tc not in ("emerging", "rising")
        if cc == "stable":
            n_stable += 1
            n_stable_false += tc != "stable"
        if tc == "emerging" and float(tr["expected_alt_molecules"]) >= 10:
            emerg += 1
            emerg_found += cc == "emerging"
            # alt molecules the earlier draw would have shown had the variant been there at its new VAF
            if float(prev["molecules"]) * v >= 3:
                emerg2 += 1
                emerg2_found += cc == "emerging"
        if tc == "stable":
            stable += 1
            stable_found += cc == "stable"
            least = min(float(prev["expected_alt_molecules"]), float(tr["expected_alt_molecules"]))
            band = "lt1" if least < 1 else "1_5" if least < 5 else "5_10" if least < 10 else None
            if band:
                bands[band][0] += cc == "stable"
                bands[band][1] += 1
            if least >= 5:
                stable5 += 1
                stable5_found += cc == "stable"
            if least >= 10:
                stable10 += 1
                stable10_found += cc == "stable"
    rates = {
        "vaf0_detected": (vaf0_det, vaf0), "false_cleared": (cleared_false, cleared),
        "emerging_found": (emerg_found, emerg), "stable_found": (stable_found, stable),
        "stable_found_10": (stable10_found, stable10), "stable_found_5": (stable5_found, stable5),
        "emerging_found_both": (emerg2_found, emerg2), "cleared_false_stated": (cleared_false_stated, cleared), "emerging_false": (n_emerging_false, n_emerging),
        "increase_false": (n_increase_false, n_increase), "stable_false": (n_stable_false, n_stable),
        "emerging_false_window": (n_emerging_window_false, n_emerging),
        **{f"stable_found_{b}": (v[0], v[1]) for b, v in bands.items()},
    }
    mrd = mrd_matrix(out / "track_summary.json", truth)
    pos = sum(v for (r, _c), v in mrd.items() if r == "tf>0")
    neg = sum(v for (r, _c), v in mrd.items() if r == "tf=0")
    rates["mrd_sensitivity"] = (mrd.get(("tf>0", "positive"), 0), pos)
    rates["mrd_specificity"] = (mrd.get(("tf=0", "negative"), 0), neg)
    modes = sorted({r["mode"] for r in truth.values()})
    if len(modes) > 1:  # MRD sensitivity per library mode of the patients (umi, duplex, ...)
        for m in modes:
            sub_truth = {k: r for k, r in truth.items() if r["mode"] == m}
            mm = mrd_matrix(out / "track_summary.json", sub_truth, only=sub_truth)
            rates[f"mrd_sensitivity_{m}"] = (mm.get(("tf>0", "positive"), 0),
                                            sum(v for (r, _c), v in mm.items() if r == "tf>0"))
    return {"status": status_m, "change": change_m, "rates": rates, "vaf0_by_role": vaf0_by_role,
            "mrd": mrd, "timings": timings, "pon": use_pon}


def mrd_matrix(summary_path: Path, truth: dict[tuple[str, str, str], dict[str, str]],
               only: dict[tuple[str, str, str], dict[str, str]] | None = None) -> Counter[tuple[str, str]]:
    """(true tumour fraction > 0 ?, MRD call) per patient timepoint, when the summary has MRD
    (``only``: the patients of these truth rows)."""
    tf = {(p, t): float(r["tumor_fraction"]) for (p, t, _k), r in truth.items()}
    keep = {p for p, _t, _k in only} if only is not None else None
    m: Counter[tuple[str, str]] = Counter()
    doc = json.loads(summary_path.read_text(encoding="utf-8"))
    for patient in doc.get("patients", []):
        for tp in patient.get("timepoints", []):
            mrd = tp.get("mrd")
            call = tp.get("mrd_call") or (mrd.get("call") if isinstance(mrd, dict) else mrd)
            if call is None:
                continue
            if keep is not None and patient["patient"] not in keep:
                continue
            key = (patient["patient"], tp["label"])
            m[("tf>0" if tf.get(key, 0) > 0 else "tf=0", str(call))] += 1
    return m


def matrix_md(m: Counter[tuple[str, str]], title: str) -> str:
    rows = sorted({r for r, _ in m})
    cols = sorted({c for _, c in m})
    lines = [f"**{title}**", "", "| truth \\ call | " + " | ".join(cols) + " | total |",
             "|---|" + "---:|" * (len(cols) + 1)]
    for r in rows:
        cells = [str(m.get((r, c), 0)) for c in cols]
        lines.append(f"| {r} | " + " | ".join(cells) + f" | {sum(m.get((r, c), 0) for c in cols)} |")
    return "\n".join(lines)


def rates_md(results: dict[int, dict[str, object]]) -> str:
    seeds = sorted(results)
    lines = ["| rate | goal | all seeds | " + " | ".join(f"seed {s}" for s in seeds) + " |",
             "|---|---|---|" + "---|" * len(seeds)]
    extra_modes = sorted({k for s in seeds for k in results[s]["rates"] if k.startswith("mrd_sensitivity_")})  # type: ignore[attr-defined]
    shown = {**GOALS, **EXTRA, **{k: (f"timepoints with tumour fraction > 0 called MRD positive, {k[16:]} patients",
                                      ">=", 0.0) for k in extra_modes}}
    for key, (label, op, goal) in shown.items():
        cells = []
        pairs = [results[s]["rates"].get(key, (0, 0)) for s in seeds]  # type: ignore[attr-defined]
        total = (sum(a for a, _ in pairs), sum(b for _, b in pairs))  # type: ignore[misc]
        for num, den in [total, *pairs]:  # type: ignore[has-type]
            if not den:
                cells.append("n/a (0)")
                continue
            r = num / den
            ok = r <= goal if op == "<=" else r >= goal
            verdict = (" ok" if ok else " MISSED") if key in GOALS or key == "stable_found_10" else ""
            cells.append(f"{100 * r:.1f} % ({num}/{den}){verdict}")
        shown_goal = f"{op} {100 * goal:.0f} %" if key in GOALS else "(info)"
        lines.append(f"| {label} | {shown_goal} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1,2", help="comma-separated simulation seeds")
    ap.add_argument("--patients", type=int, default=12)
    ap.add_argument("--timepoints", type=int, default=5)
    ap.add_argument("--modes", default="umi", help="bench/ctdna_sim.py --modes")
    for k, default in SIM_OPTIONS:
        ap.add_argument(f"--{k.replace('_', '-')}", type=type(default), default=default,
                        help=f"bench/ctdna_sim.py --{k.replace('_', '-')} (default {default:g})")
    ap.add_argument("--workdir", default=str(WORK / "ctdna"))
    ap.add_argument("--no-pon", action="store_true", help="track without a PON")
    ap.add_argument("--track-args", help="extra resmark track options, one quoted string")
    ap.add_argument("--run-name", help="write the track outputs to track_out_NAME (compare resmark versions)")
    ap.add_argument("--rebuild-pon", action="store_true", help="rebuild the PON even when the simulation has one")
    ap.add_argument("--misses", action="store_true",
                    help="also print every stable/emergence miss and false stable/emerging call (bench/ctdna_misses.py)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    use_pon = not args.no_pon and has_pon_command()
    if not args.no_pon and not use_pon:
        print("note: this resmark has no `pon` command; tracking without a PON", file=sys.stderr)
    results = {}
    sims = []
    for seed in seeds:
        sims.append(simulate(seed, args))
        results[seed] = evaluate(sims[-1], args, use_pon)
    sim = ", ".join(f"{k.replace('_', '-')} {getattr(args, k):g}" for k, _ in SIM_OPTIONS)
    print(f"## resmark track on simulated serial ctDNA ({args.patients} patients x {args.timepoints} "
          f"timepoints, modes {args.modes}, PON {'yes' if use_pon else 'no'}; {sim})\n")
    print(rates_md(results))
    for seed in seeds:
        r = results[seed]
        print(f"\n### seed {seed}\n")
        print(matrix_md(r["status"], "status at each timepoint"))  # type: ignore[arg-type]
        print()
        print(matrix_md(r["change"], "change vs the previous timepoint"))  # type: ignore[arg-type]
        roles = r["vaf0_by_role"]
        if roles:
            print("\ntrue-VAF-0 'detected' by site role: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(roles.items())))  # type: ignore[attr-defined]
        if r["mrd"]:
            print()
            print(matrix_md(r["mrd"], "patient MRD call per timepoint (truth: tumour fraction > 0)"))  # type: ignore[arg-type]
        print("\ntimings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items()))  # type: ignore[attr-defined]
    if args.misses:
        import ctdna_misses  # type: ignore[import-not-found]

        print("\n### misses and false calls, one per line\n")
        ctdna_misses.main([*map(str, sims), "--false", *(["--run-name", args.run_name] if args.run_name else [])])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
