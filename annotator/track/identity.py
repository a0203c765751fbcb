"""Reading each timepoint and recognising the same variant across timepoints.

Identity is the normalised ``variant_key`` that ``resmark annotate``
produces: multi-allelic records are split, alleles trimmed and left-aligned
against the reference, chromosome names made canonical.  Each VCF is read
with ``annotate_file`` under ``report="panel"`` and ``include_filtered=True``
so that (1) every variant in a panel gene is kept, whether or not a rule
matches, (2) the knowledge-base match (rule, mechanism, strategies) comes
with it for the alerts, and (3) a filtered record at a tracked key is still
available as measured evidence.  Writing a second reader would risk two
definitions of "the same variant".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict

from annotator.core.models import CNV_SV_CLASSES
from annotator.core.rows import Row
from annotator.errors import TimepointError
from annotator.track.model import TimepointSpec, TrackedVariant

if TYPE_CHECKING:
    from annotator.annotation.config import RunContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Call:
    """One row of one timepoint's annotation, reduced to what tracking needs."""

    row: Row
    passed: bool

    @property
    def is_copy_number(self) -> bool:
        return self.row.copy_number is not None or (self.row.alteration_class or "") in CNV_SV_CLASSES


@dataclass(frozen=True)
class TimepointCalls:
    spec: TimepointSpec
    build: str
    sample: str
    calls: Mapping[str, Call]  # variant_key -> call
    cn_assessed: bool = False  # a copy-number file was given for this timepoint


def calls_from_rows(
    spec: TimepointSpec, build: str, sample: str, rows: Sequence[Row], cn_assessed: bool = False
) -> TimepointCalls:
    calls: dict[str, Call] = {}
    for r in rows:
        # a PASS record with zero alt reads is no call: in a multi-sample VCF FILTER belongs to
        # the site, and force-calling writes records for absent alleles
        no_reads = r.alt_count == 0 or (r.alt_count is None and r.vaf == 0)
        passed = r.filter in ("PASS", ".", "") and not no_reads
        prev = calls.get(r.variant_key)
        if prev is None or (passed and not prev.passed):
            calls[r.variant_key] = Call(r, passed)
    return TimepointCalls(spec, build, sample, calls, cn_assessed)


# the per-timepoint settings of the sample sheet (``AnnotateConfig`` fields)
class _CnvSetting(TypedDict, total=False):
    cnv: str
    tumor_fraction: float | None


class _TherapySetting(TypedDict, total=False):
    prior_therapy: tuple[str, ...]


def read_timepoint(spec: TimepointSpec, run: RunContext) -> TimepointCalls:
    """Annotate one timepoint's VCF (column ``spec.sample``) in memory."""
    from annotator.annotation.config import RunContext
    from annotator.annotation.single import annotate_file

    ctx = run
    # the sheet's therapy at this timepoint is the history the strategies are ranked for
    therapy: _TherapySetting = {"prior_therapy": (spec.therapy,)} if spec.therapy else {}
    if spec.cnv is not None or therapy:
        # per-timepoint inputs: a context of its own, sharing panel and references
        cnv: _CnvSetting = {"cnv": str(spec.cnv), "tumor_fraction": spec.tumor_fraction} if spec.cnv is not None else {}
        ctx = RunContext(
            config=replace(run.config, **cnv, **therapy),
            panel=run.panel,
            references=run.references,
            engines=run.engines,
            regions=run.regions,
        )
    result = annotate_file(spec.vcf, ctx, spec.sample)
    return calls_from_rows(spec, result.build.name, result.sample, result.rows, spec.cnv is not None)


def check_builds(timepoints: Sequence[TimepointCalls]) -> str:
    """All timepoints of a patient must share one build; return it."""
    first = timepoints[0]
    for tp in timepoints[1:]:
        if tp.build != first.build:
            raise TimepointError(
                f"patient {tp.spec.patient!r}: timepoint {tp.spec.label!r} ({tp.spec.vcf}) is "
                f"{tp.build} but {first.spec.label!r} ({first.spec.vcf}) is {first.build}; "
                "lift the calls over to one build first",
            )
    return first.build


def tracked_variants(timepoints: Sequence[TimepointCalls], filtered: bool = False) -> list[TrackedVariant]:
    """Every key with a PASS call at one or more timepoints, in genome order.

    ``filtered``: also small variants whose only records are filtered but carry alt reads
    (``tracked_by="filtered"``); used when reads decide every status, so a caller's filter
    (e.g. too few alt reads) does not hide a variant the reads can test against background.
    """
    chosen: dict[str, Row] = {}
    for tp in timepoints:
        for key, call in tp.calls.items():
            if call.passed and key not in chosen:
                chosen[key] = call.row
    out = [_tracked(r) for r in chosen.values()]
    if filtered:
        extra: dict[str, Row] = {}
        for tp in timepoints:
            for key, call in tp.calls.items():
                r = call.row
                if key in chosen or key in extra or call.is_copy_number or not (r.alt_count or 0) > 0:
                    continue
                extra[key] = r
        out += [replace(_tracked(r), tracked_by="filtered") for r in extra.values()]
    return sorted(out, key=lambda v: (_chrom_rank(v.chrom), v.pos, v.ref, v.alt, v.variant_key))


def _tracked(r: Row) -> TrackedVariant:
    cn = r.copy_number is not None or (r.alteration_class or "") in CNV_SV_CLASSES
    return TrackedVariant(
        variant_key=r.variant_key, chrom=r.chrom, pos=r.pos, ref=r.ref, alt=r.alt, gene=r.gene,
        hgvsc=r.hgvsc, hgvsp_short=r.hgvsp_short, consequence=r.consequence,
        alteration_class=r.alteration_class, rule_id=r.rule_id, mechanism=r.mechanism,
        mechanism_id=r.mechanism_id, mechanism_category=r.mechanism_category,
        strategies=r.strategies, drug_classes=r.drug_classes, evidence_level=r.evidence_level,
        is_copy_number=cn,
    )


def _chrom_rank(chrom: str) -> int:
    from annotator.core.chromnames import PRIMARY

    return PRIMARY.index(chrom) if chrom in PRIMARY else len(PRIMARY)
