"""How much of a large sample the HTML report lists (the TSV and JSON keep every row).

A dense panel can list thousands of alterations, most of them of uncertain
significance (gene- or domain-level matches).  A page with one table row and
one evidence card for each is tens of MB and no longer readable, so above
``HTML_ROW_LIMIT`` listed rows the report lists every claimed alteration
(a rule match not of uncertain significance) and the first ``OTHERS_SHOWN``
of the others in the table's order, counts the rest per gene, and says so in
an alert at the top.  Smaller samples are listed in full, as before.  The
run and ``resmark report OUTDIR`` both pass through here (``report.context``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from annotator.core.jsondoc import JsonValue
from annotator.report.views import Alert

HTML_ROW_LIMIT = 1_000  # listed rows up to which the report shows every one
OTHERS_SHOWN = 500  # rows not claimed shown above the limit (strongest evidence first)

Row = TypeVar("Row", bound=Mapping[str, JsonValue])


def bound_rows(rows: Sequence[Row], claimed: Callable[[Row], bool]) -> tuple[Sequence[Row], list[Alert]]:
    """(the rows to list, in their order; alerts that say what was left out)."""
    if len(rows) <= HTML_ROW_LIMIT:
        return rows, []
    shown: list[Row] = []
    left: Counter[str] = Counter()
    n_claimed = n_other = 0
    for r in rows:
        if claimed(r):
            n_claimed += 1
            shown.append(r)
            continue
        n_other += 1
        if n_other <= OTHERS_SHOWN:
            shown.append(r)
        else:
            left[str(r.get("gene") or "no gene")] += 1
    if not left:
        return rows, []
    n_left = sum(left.values())
    per_gene = ", ".join(f"{g}: {n:,}" for g, n in sorted(left.items(), key=lambda kv: (-kv[1], kv[0])))
    message = (
        f"This page lists all {n_claimed:,} interpreted alterations (rule matches not of uncertain "
        f"significance) and the first {OTHERS_SHOWN:,} of the {n_other:,} others (uncertain "
        f"significance or no rule match, strongest evidence first); {n_left:,} more are counted "
        f"here, not listed ({per_gene}). Every row is in the TSV and JSON outputs."
    )
    title = f"{len(shown):,} of {len(rows):,} listed alterations shown"
    return shown, [{"severity": "info", "title": title, "message": message, "gene": ""}]
