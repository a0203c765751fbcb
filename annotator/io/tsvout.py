"""TSV output: one row per listed alteration, columns in ``rows.COLUMNS`` order.

Missing values are empty cells (never 0); booleans are ``true``/``false``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from annotator.core.rows import COLUMNS, Row


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v).replace("\t", " ").replace("\n", " ").replace("\r", " ")


def write_rows(path: Path, rows: Iterable[Row], columns: Sequence[str] = COLUMNS) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(columns)
        # getattr, not Row.as_dict: every column is a scalar, and dataclasses.asdict's
        # recursive deep copy was most of the cost of a dense panel's TSV
        for r in rows:
            w.writerow([_cell(getattr(r, c)) for c in columns])


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([_cell(v) for v in r])
