#!/usr/bin/env python3
"""Power and false-emergence rate of the pooled emergence test on simulated count series.

No reads: each draw's alt count is Binomial(depth, vaf + (1 - vaf) 1e-4) (numpy, seeded), the
site background the clean 1e-4 floor; the labels come from ``annotator.track.status``.

* H0: one VAF (0.05, 0.1, 0.2 %) at five draws of 300-3 000 molecules (log-uniform): how
  often is a transition called 'emerging'?
* H1: VAF 0 at four draws (300-3 000 molecules, the fourth 300), then 0.5 % or 1 % at 2 000:
  how often is the last transition called 'emerging'?

``--two-draw-only`` switches the pooled test off (the rule before it), for comparison.

    python3 bench/ctdna_pooled_emergence.py [--reps 300] [--two-draw-only]
"""

from __future__ import annotations

import argparse
from collections import Counter

import common  # noqa: F401  (puts this checkout on sys.path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--two-draw-only", action="store_true")
    args = ap.parse_args(argv)
    import datetime as dt
    from pathlib import Path

    import numpy as np

    from annotator.track import background, status
    from annotator.track.identity import TimepointCalls
    from annotator.track.model import Evidence, Thresholds, TimepointSpec, TrackedVariant

    if args.two_draw_only:
        status._pooled_increase = lambda *a: False  # type: ignore[assignment]  # the rule before
    th = Thresholds()
    clean = background.fit([0] * 5, [20000] * 5, "pon")
    variant = TrackedVariant(
        variant_key="chr6:152098788:A>C", chrom="chr6", pos=152098788, ref="A", alt="C", gene="ESR1",
        hgvsc=None, hgvsp_short=None, consequence=None, alteration_class=None, rule_id=None, mechanism=None,
        mechanism_id=None, mechanism_category=None, strategies=None, drug_classes=None, evidence_level=None)
    rng = np.random.default_rng(args.seed)

    def labels(vafs: list[float], depths: list[int]) -> list[str]:
        ev = [Evidence(int(rng.binomial(n, v + (1 - v) * 1e-4)), n, "reads") for v, n in zip(vafs, depths, strict=True)]
        tps = [TimepointCalls(TimepointSpec("p", f"T{i}", Path("x.vcf"), dt.date(2024, 1, 1 + i)), "GRCh38", "s", {})
               for i in range(len(ev))]
        obs = status.observe("p", variant, tps, ev, th, clean)
        out = status.compare({variant.variant_key: obs}, 0, th)[variant.variant_key]
        return [o.vs_previous.change for o in out[1:] if o.vs_previous is not None]

    total = Counter()
    for v in (0.0005, 0.001, 0.002):
        c: Counter[str] = Counter()
        for _ in range(args.reps):
            c.update(labels([v] * 5, [int(np.exp(rng.uniform(np.log(300), np.log(3000)))) for _ in range(5)]))
        total.update(c)
        print(f"H0 VAF {v:.4f}: 'emerging' at {c['emerging']} of {sum(c.values())} transitions; {dict(c)}")
    print(f"H0 all: 'emerging' at {total['emerging']} of {sum(total.values())} transitions")
    for v in (0.005, 0.01):
        c = Counter()
        for _ in range(args.reps):
            depths = [int(rng.integers(300, 3000)) for _ in range(3)] + [300, 2000]
            c[labels([0, 0, 0, 0, v], depths)[-1]] += 1
        print(f"H1 VAF {v:.3f}: last transition 'emerging' in {c['emerging']} of {args.reps} series; {dict(c)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
