"""``track(TrackConfig) -> TrackResult``: serial-sample tracking of one or more patients.

Steps per patient: order timepoints (date; duplicates are errors), annotate
each VCF, check one build, collect tracked variants (PASS at any timepoint),
gather evidence (reads > VCF record > none), statuses, BH-corrected
comparisons, patient summaries and alerts.  Outputs are written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from annotator.errors import ResmarkError, TimepointError, UsageError, raise_collected
from annotator.track.alerts import (
    polyclonal_alerts,
    possible_germline,
    summarise_timepoints,
    variant_alerts,
)
from annotator.track.identity import (
    TimepointCalls,
    check_builds,
    tracked_variants,
)
from annotator.track.model import TimepointSpec, TrackConfig
from annotator.track.result import PatientTrack, TrackContext, TrackResult
from annotator.track.samplesheet import (
    from_vcfs,
    group_patients,
    order_timepoints,
    read_samplesheet,
)
from annotator.track.status import compare, evidence_for, observe

log = logging.getLogger(__name__)


def check_config(config: TrackConfig) -> None:
    from annotator.io.atomic import OutputDir

    problems: list[ResmarkError] = []
    if (config.samplesheet is None) == (not config.vcfs):
        problems.append(UsageError("give either a sample sheet or VCFs (one per timepoint)"))
    if config.samplesheet is not None and (config.timepoints or config.dates or config.bams):
        problems.append(UsageError("--timepoints/--dates/--bams apply to VCF inputs, not to a sample sheet"))
    if config.report not in ("panel", "all"):
        problems.append(UsageError(f"report must be panel or all, not {config.report!r}"))
    problems += [UsageError(p) for p in config.thresholds.problems()]
    if config.fasta is not None and not Path(config.fasta).exists():
        problems.append(UsageError("--fasta file not found", path=config.fasta))
    if config.gtf is not None and not Path(config.gtf).exists():
        problems.append(UsageError("--gtf file not found", path=config.gtf))
    try:
        inputs = [*config.vcfs, config.samplesheet, config.fasta]
        OutputDir(config.outdir, config.force, protect=[p for p in inputs if p]).check()
    except ResmarkError as e:
        problems.append(e)
    raise_collected(problems)


def timepoint_specs(config: TrackConfig) -> list[TimepointSpec]:
    if config.samplesheet is not None:
        return read_samplesheet(config.samplesheet, config.patient)
    return from_vcfs(
        config.vcfs, labels=config.timepoints, dates=config.dates, reads=config.bams,
        patient=config.patient, therapy=config.therapy,
    )


def make_context(config: TrackConfig) -> TrackContext:
    from annotator.annotation.config import AnnotateConfig, RunContext
    from annotator.knowledge import load_panel

    panel = load_panel(config.panel, extend=config.panel_extend)
    acfg = AnnotateConfig(
        inputs=(), outdir=config.outdir, build=config.build, panel=config.panel,
        panel_extend=config.panel_extend, fasta=config.fasta, include_filtered=True,
        gtf=config.gtf, gtf_only=config.gtf_only,
        report=config.report, formats=(), command=config.command,
    )
    return TrackContext(config=config, run=RunContext(config=acfg, panel=panel))


def track(config: TrackConfig, ctx: TrackContext | None = None) -> TrackResult:
    """Track every patient of ``config`` and write the outputs (see docs/track.md)."""
    from annotator.io.atomic import OutdirLock

    check_config(config)
    with OutdirLock(config.outdir):  # one run per OUTDIR: a second one fails at once
        return _track(config, ctx)


def _track(config: TrackConfig, ctx: TrackContext | None) -> TrackResult:
    specs = timepoint_specs(config)
    ctx = ctx if ctx is not None else make_context(config)
    patients = [
        track_patient(name, group, ctx)
        for name, group in group_patients(specs).items()
    ]
    result = TrackResult(patients=patients, outdir=Path(config.outdir), warnings=ctx.warnings)
    from annotator.track.outputs import write_outputs

    return write_outputs(config, ctx, result)


def _baseline_index(specs: Sequence[TimepointSpec], baseline: str | None) -> int:
    if baseline is None:
        return 0
    for i, s in enumerate(specs):
        if s.label == baseline:
            return i
    raise UsageError(
        f"--baseline {baseline!r} is not a timepoint of patient {specs[0].patient!r} "
        f"(timepoints: {', '.join(s.label for s in specs)})"
    )


def track_patient(name: str, specs: Sequence[TimepointSpec], ctx: TrackContext) -> PatientTrack:
    th = ctx.thresholds
    ordered = order_timepoints(specs, ctx.warnings)
    if len(ordered) < 2:
        msg = f"patient {name!r} has one timepoint; changes need at least two"
        ctx.warnings.append(msg)
        log.warning("%s", msg)
    base = _baseline_index(ordered, ctx.config.baseline)
    calls = [ctx.reader(s, ctx.run) for s in ordered]
    build = check_builds(calls)
    variants = tracked_variants(calls)
    evidence = _gather_evidence(variants, calls, build, ctx)
    by_variant = {
        v.variant_key: observe(name, v, calls, evidence[v.variant_key], th) for v in variants
    }
    for key, obs in by_variant.items():
        if possible_germline(obs):
            by_variant[key] = [replace(o, possible_germline=True) for o in obs]
    by_variant = compare(by_variant, base, th)
    columns = [[obs[t] for obs in by_variant.values()] for t in range(len(ordered))]
    summaries = summarise_timepoints(columns, ordered, base, th)
    therapies = [s.therapy for s in ordered]
    alerts = [a for obs in by_variant.values() for a in variant_alerts(name, obs, therapies)]
    alerts += polyclonal_alerts(name, columns, therapies)
    order = {s.label: i for i, s in enumerate(ordered)}
    alerts.sort(key=lambda a: (order.get(a.timepoint, 0), a.kind == "polyclonal", a.gene or ""))
    observations = [o for obs in by_variant.values() for o in obs]
    return PatientTrack(
        patient=name, build=build, baseline=ordered[base].label, timepoints=list(ordered),
        observations=observations, summaries=summaries, alerts=alerts,
        samples=[c.sample for c in calls],
    )


def _gather_evidence(
    variants: Sequence[Any], calls: Sequence[TimepointCalls], build: str, ctx: TrackContext
) -> dict[str, list[Any]]:
    from annotator.core.models import VariantKey
    from annotator.track.regenotype import ReadGenotyper

    th = ctx.thresholds
    out: dict[str, list[Any]] = {v.variant_key: [] for v in variants}
    small = [v for v in variants if not v.is_copy_number]
    for tp in calls:
        counts: dict[str, Any] = {}
        if tp.spec.reads is not None and small:
            fetch = _fetcher(ctx, build)
            try:
                with ReadGenotyper(
                    tp.spec.reads, build=build, fetch=fetch, fasta=ctx.config.fasta,
                    min_base_quality=th.min_base_quality, min_mapping_quality=th.min_mapping_quality,
                ) as g:
                    for v in small:
                        counts[v.variant_key] = g.count(VariantKey(v.chrom, v.pos, v.ref, v.alt))
            except TimepointError as e:
                raise TimepointError(f"timepoint {tp.spec.label!r}: {e.message}", path=e.path) from e
        for v in variants:
            out[v.variant_key].append(evidence_for(v, tp, counts.get(v.variant_key)))
    return out


def _fetcher(ctx: TrackContext, build: str) -> Any:
    try:
        ref = ctx.run.reference(build)
    except (ResmarkError, AttributeError) as e:
        log.warning("no reference sequence for %s (%s); read indels are compared as placed", build, e)
        return None
    return ref.sequence
