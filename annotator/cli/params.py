"""Click parameter types for numeric options: finite and in range, or a one-line usage error."""

from __future__ import annotations

import math
from typing import Any

import click


class FiniteRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` and ``inf`` (which pass its comparisons)."""

    name = "number"

    # value: command-line text or a default (click declares it float, the input is wider)
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        rv: float = super().convert(value, param, ctx)
        if isinstance(rv, float) and not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return rv


def fraction(open_low: bool = True) -> FiniteRange:
    """(0, 1] (``open_low``) or [0, 1]."""
    return FiniteRange(0.0, 1.0, min_open=open_low)


def positive(maximum: float | None = None) -> FiniteRange:
    return FiniteRange(0.0, maximum, min_open=True)


def non_negative(maximum: float | None = None) -> FiniteRange:
    return FiniteRange(0.0, maximum)
