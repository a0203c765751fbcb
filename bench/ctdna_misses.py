#!/usr/bin/env python3
"""Per-miss diagnostics of ``resmark track`` on the simulator (bench/ctdna_confusion.py runs it).

For every true stable transition not called ``stable`` and every true emergence with >= 10
expected alt molecules not called ``emerging`` (and, with ``--false``, every false
'stable'/'emerging' call), prints one line: the two draws' counts (alt/depth in molecules),
statuses, expected alt molecules at the true VAF, the site background, the change p-value,
the pooled run, which rule of the change labelling decided, and two figures that say
whether any method could have called it from these counts:

* ``lr`` - for a stable miss, the likelihood ratio of "still at the earlier level" against
  "gone" for the current draw: Binomial(k; n, v_run + rate) / BetaBinomial(k; n, background),
  v_run the VAF of the pooled earlier draws (what a tumour-informed method knows);
  for an emergence miss, the ratio of "at the new VAF already" against "absent" for the
  pooled earlier draws: Binomial(K; N, v_now) / BetaBinomial(K; N, background);
* ``p_zero`` - the probability, at the true VAF, of a draw as empty as the one seen
  (P(X <= k) at the current draw for stable misses, at the pooled earlier draws for
  emergences).

    python3 bench/ctdna_misses.py SIMDIR [SIMDIR ...] [--run-name NAME] [--false]
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

import common  # noqa: F401  (puts this checkout on sys.path)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def true_change(v1: float, v2: float) -> str:
    if v1 == 0 and v2 == 0:
        return "absent"
    if v1 == 0:
        return "emerging"
    if v2 == 0:
        return "cleared"
    r = v2 / v1
    return "rising" if r >= 1.5 else "falling" if r <= 1 / 1.5 else "stable"


def _int(s: str) -> int:
    return int(float(s)) if s not in ("", None) else 0


def _f(s: str) -> float | None:
    return float(s) if s not in ("", None) else None


def bg_p(k: int, n: int, rate: float, rho: float) -> float:
    from annotator.track.background import Background, p_value

    return p_value(k, n, Background(rate, rho, "x"))


def bg_pmf(k: int, n: int, rate: float, rho: float) -> float:
    from scipy.stats import betabinom

    s = (1 - rho) / rho
    return float(betabinom.pmf(k, n, rate * s, (1 - rate) * s))


def binom_pmf(k: int, n: int, q: float) -> float:
    from scipy.stats import binom

    return float(binom.pmf(k, n, min(1.0, max(1e-12, q))))


def binom_cdf(k: int, n: int, q: float) -> float:
    from scipy.stats import binom

    return float(binom.cdf(k, n, min(1.0, max(1e-12, q))))


def analyse(sim: Path, run_name: str | None, show_false: bool) -> tuple[list[str], Counter[str]]:
    out = sim / (f"track_out_{run_name}" if run_name else "track_out")
    truth = {(r["patient"], r["timepoint"], r["variant_key"]): r for r in read_tsv(sim / "truth.tsv")}
    calls = {(r["patient"], r["timepoint"], r["variant_key"]): r for r in read_tsv(out / "track_long.tsv")}
    order: dict[str, list[str]] = {}
    for p, t, _k in truth:
        order.setdefault(p, [])
        if t not in order[p]:
            order[p].append(t)
    lines: list[str] = []
    tally: Counter[str] = Counter()
    for (p, t, k), tr in truth.items():
        i = order[p].index(t)
        if i == 0:
            continue
        prev_t = order[p][i - 1]
        pv = truth[(p, prev_t, k)]
        v0, v1 = float(pv["true_vaf"]), float(tr["true_vaf"])
        tc = true_change(v0, v1)
        cur = calls.get((p, t, k))
        prev = calls.get((p, prev_t, k))
        cc = (cur.get("change") or "none") if cur else "untracked"
        kind = None
        if tc == "stable" and cc != "stable":
            kind = "stable_miss"
        elif tc == "emerging" and float(tr["expected_alt_molecules"]) >= 10 and cc != "emerging":
            kind = "emerging_miss"
        elif show_false and cc == "stable" and tc != "stable":
            kind = "false_stable"
        elif show_false and cc == "emerging" and tc != "emerging":
            kind = "false_emerging"
        if kind is None:
            continue
        if cur is None or prev is None:
            lines.append(f"| {kind} | {sim.name} {p} {prev_t}->{t} | {k} {tr['role']} | untracked |")
            tally[f"{kind}: untracked"] += 1
            continue
        k1, n1, k2, n2 = _int(prev["alt_count"]), _int(prev["depth"]), _int(cur["alt_count"]), _int(cur["depth"])
        rate, rho = float(cur["background_rate"] or 1e-4), float(cur["background_rho"] or 1e-4)
        run_k = _int(cur["pooled_alt_count"]) if cur["pooled_alt_count"] else k1
        run_n = _int(cur["pooled_depth"]) if cur["pooled_depth"] else n1
        run_p = bg_p(run_k, run_n, rate, rho)
        est = prev["status"] == "detected" or (run_k >= 2 and run_p <= 0.01)
        # the rule that decided: track's own change_reason column, else inferred (older outputs)
        rule = cur.get("change_reason") or _rule(cc, prev["status"], cur["status"], est, k1 + k2)
        from annotator.track.stats import bb_change

        p_run = bb_change(run_k, run_n, k2, n2, 1e-4) if run_n and n2 else 1.0
        v_cur = k2 / n2 if n2 else 0.0
        lr_before = binom_pmf(run_k, run_n, v_cur + rate) / max(1e-300, bg_pmf(run_k, run_n, rate, rho))
        v_run = run_k / run_n if run_n else 0.0
        lr = binom_pmf(k2, n2, v_run + rate) / max(1e-300, bg_pmf(k2, n2, rate, rho))
        if kind == "stable_miss":
            pz = binom_cdf(k2, n2, v1 + rate)
            least = min(float(pv["expected_alt_molecules"]), float(tr["expected_alt_molecules"]))
            tally[f"{kind}: {rule}"] += 1
            tally[f"{kind}: min expected {_band(least)}"] += 1
        else:
            pz = binom_cdf(run_k, run_n, v1 + rate)
            tally[f"{kind}: {rule}"] += 1
        p_change = _f(cur["p_value"])
        lines.append(
            f"| {kind} | {sim.name.split('_')[0]} {p} {prev_t}->{t} | {tr['role']} {v0:.4g}->{v1:.4g} | "
            f"{k1}/{n1} {prev['status']} (exp {float(pv['expected_alt_molecules']):.1f}) | "
            f"{k2}/{n2} {cur['status']} (exp {float(tr['expected_alt_molecules']):.1f}) | "
            f"run {cur['pooled_from'] or prev_t} {run_k}/{run_n} p_bg {run_p:.3g} | "
            f"bg {rate:.2g}/{rho:.2g} | p {p_change if p_change is None else f'{p_change:.3g}'} | "
            f"{cc}: {rule} | lr {lr:.3g} | p_zero {pz:.3g} | p_run {p_run:.3g} lr_before {lr_before:.3g} |")
    return lines, tally


def _band(x: float) -> str:
    return "< 1" if x < 1 else "1-5" if x < 5 else "5-10" if x < 10 else ">= 10"


def _rule(cc: str, s1: str, s2: str, est: bool, pair_alt: int) -> str:
    """Which clause of status.classify_change gave ``cc``."""
    if cc == "inconclusive":
        if est:
            if s2 == "low_level" and pair_alt < 2:
                return "established, current low level with < 2 alt over the pair"
            if s2 in ("not_detected", "not_assessable"):
                return "established, current draw empty"
            return "established, current draw differs from the pooled run"
        return "not established before, detected now"
    if cc == "absent":
        return "not established, current not shown present"
    if cc in ("rising", "falling", "emerging", "cleared"):
        return f"significant big change ({'established' if est else 'not established'} before)"
    if cc == "stable":
        return "stable from established level" if est else "stable from two low-level draws"
    return cc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sims", nargs="+", type=Path)
    ap.add_argument("--run-name")
    ap.add_argument("--false", action="store_true", help="also the false 'stable' and 'emerging' calls")
    args = ap.parse_args(argv)
    total: Counter[str] = Counter()
    print("| kind | draw | role, true VAF | previous alt/depth | current alt/depth | pooled run | "
          "background rate/rho | change p | call: rule | lr | p_zero | run vs current |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sim in args.sims:
        lines, tally = analyse(sim, args.run_name, args.false)
        print("\n".join(lines))
        total.update(tally)
    print()
    for key, n in sorted(total.items()):
        print(f"- {key}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
