"""The end of one sample's pass: row order, the prior-therapy context, the panel's flags."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from annotator.annotation.pipeline import SampleAnnotation
from annotator.core import chromnames
from annotator.core.rows import Row, match_columns
from annotator.knowledge.matcher import compute_flags
from annotator.knowledge.model import Panel

log = logging.getLogger(__name__)


def apply_flags(result: SampleAnnotation, panel: Panel, prior_therapy: str | Iterable[str] | None = None) -> None:
    """Sort rows and add the panel's cross-alteration flags (biallelic loss, polyclonal ...).

    Runs after copy-number and SV calls were added, so e.g. an RB1 nonsense
    variant plus an RB1 deep deletion from --cnv is flagged as biallelic.
    ``prior_therapy`` (drug/class names, None: not given) re-ranks each match's
    strategies for the patient's setting before the flags are computed.
    """
    result.rows.sort(key=_row_order)
    if prior_therapy is not None and result.alterations:
        _apply_therapy_context(result, panel, prior_therapy)
    flags = tuple(compute_flags(panel, result.alterations)) if result.alterations else ()
    result.flags = flags
    by_member: dict[str, list[str]] = {}
    for f in flags:
        for m in f.members:
            by_member.setdefault(m, []).append(
                f"{f.kind}:{getattr(f, 'label', None) or f.gene or f.mechanism_id}"
            )
    result.rows[:] = [
        _replace_flags(r, "; ".join([*filter(None, [r.flags]), *by_member[r.variant_key]]))
        if r.variant_key in by_member else r
        for r in result.rows
    ]


def _apply_therapy_context(result: SampleAnnotation, panel: Panel, prior_therapy: str | Iterable[str]) -> None:
    from annotator.knowledge.matcher import in_context
    from annotator.knowledge.therapy import resolve

    prior, unknown = resolve(panel, prior_therapy)
    if unknown:
        log.warning("%s: prior therapy %s not recognised (ignored)", result.sample, ", ".join(unknown))
    result.prior_therapy = (tuple(str(x) for x in ([prior_therapy] if isinstance(prior_therapy, str)
                                                    else prior_therapy)), tuple(sorted(prior)))
    result.alterations = [(k, a, in_context(panel, ms, prior)) for k, a, ms in result.alterations]
    by_key = {k: ms for k, _, ms in result.alterations}
    result.rows[:] = [
        replace(r, **match_columns(by_key[r.variant_key])) if by_key.get(r.variant_key) else r
        for r in result.rows
    ]


def _row_order(row: Row) -> tuple[int, str, int, int, str]:
    rank = chromnames.PRIMARY.index(row.chrom) if row.chrom in chromnames.PRIMARY else len(chromnames.PRIMARY)
    return (rank, row.chrom, row.pos, row.record_index, row.alt)


def _replace_flags(row: Row, flags: str) -> Row:
    return replace(row, flags=flags)
