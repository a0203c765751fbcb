"""``track(TrackConfig) -> TrackResult``: serial-sample tracking of one or more patients.

Steps per patient: order timepoints (date; duplicates are errors), annotate
each VCF, check one build, collect tracked variants (PASS at any timepoint; filtered-only ones
when every timepoint has reads),
gather evidence (reads > VCF record > none), site backgrounds (PON > the
sheet's reads > floor), statuses against background, origin (germline /
CHIP), beta-binomial comparisons, tumour fraction, pooled MRD call, patient
summaries and alerts.  Outputs are written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.errors import InputError, ResmarkError, TimepointError, UsageError, raise_collected
from annotator.track import background
from annotator.track.alerts import (
    polyclonal_alerts,
    summarise_timepoints,
    variant_alerts,
    with_alerts,
)
from annotator.track.identity import (
    TimepointCalls,
    check_builds,
    tracked_variants,
)
from annotator.track.model import TimepointSpec, TrackConfig
from annotator.track.mrd import mrd_calls, tumour_fractions
from annotator.track.result import PatientTrack, TrackContext, TrackResult
from annotator.track.samplesheet import (
    from_vcfs,
    group_patients,
    order_timepoints,
    read_samplesheet,
)
from annotator.track.sites import WhiteCells, origin_of, site_background, wbc_from_vcf_rows
from annotator.track.status import compare, evidence_for, observe

if TYPE_CHECKING:
    from annotator.core.models import VariantKey
    from annotator.track.background import Background
    from annotator.track.model import Evidence, Observation, TrackedVariant
    from annotator.track.mrd import TumourFraction
    from annotator.track.pon import Pon
    from annotator.track.regenotype import AlleleCounts, Fetch, ReadGenotyper

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
    if config.pon is not None and not Path(config.pon).is_dir():
        problems.append(InputError("--pon directory not found", path=config.pon))
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
        panel_extend=config.panel_extend, fasta=config.fasta, include_filtered=True, keep_not_carried=True,
        gtf=config.gtf, gtf_only=config.gtf_only,
        report=config.report, formats=(), command=config.command,
    )
    pon = None
    if config.pon is not None:
        from annotator.track import pon as pon_mod

        pon = pon_mod.load(config.pon, panel=panel)
    return TrackContext(config=config, run=RunContext(config=acfg, panel=panel), pon=pon)


def track(config: TrackConfig, ctx: TrackContext | None = None) -> TrackResult:
    """Track every patient of ``config`` and write the outputs (see docs/track.md)."""
    from annotator.io.atomic import OutdirLock

    check_config(config)
    with OutdirLock(config.outdir):  # one run per OUTDIR: a second one fails at once
        return _track(config, ctx)


def _track(config: TrackConfig, ctx: TrackContext | None) -> TrackResult:
    specs = timepoint_specs(config)
    ctx = ctx if ctx is not None else make_context(config)
    groups = group_patients(specs)
    if ctx.pon is None and len(groups) > 1:
        ctx.sheet_counts = _sheet_counts(groups, ctx)
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
    calls = [_calls(s, ctx) for s in ordered]
    build = check_builds(calls)
    pon = _patient_pon(ctx, build)
    # with reads at every timepoint the reads decide each status: variants with filtered records only
    # are tracked too (not as MRD / tumour-fraction sites)
    variants = tracked_variants(calls, filtered=all(s.reads is not None for s in ordered))
    evidence = _gather_evidence(variants, calls, build, ctx)
    backgrounds = {}
    unit_bg = _pon_in_units(pon, variants, evidence, build, ctx) if pon is not None else {}
    for v in variants:
        if v.is_copy_number:
            continue
        pon_bg = _pon_background(pon, v, ctx, build) if pon is not None else None
        if pon_bg is not None and v.variant_key in unit_bg:
            pon_bg = unit_bg[v.variant_key]  # the samples count molecules: so does the background
        others = [(a, d) for p, a, d in ctx.sheet_counts.get(v.variant_key, []) if p != name]
        backgrounds[v.variant_key] = site_background(v, evidence[v.variant_key], pon_bg, th, others)
    by_variant = {
        v.variant_key: observe(name, v, calls, evidence[v.variant_key], th, backgrounds.get(v.variant_key))
        for v in variants
    }
    wbc = _white_cells(name, ordered, variants, build, ctx)
    for v in variants:
        obs = by_variant[v.variant_key]
        origin, reason = origin_of(v, obs, wbc.get(v.variant_key), backgrounds.get(v.variant_key), th)
        by_variant[v.variant_key] = [
            replace(o, origin=origin, origin_reason=reason, possible_germline=origin == "germline")
            for o in obs
        ]
    by_variant = compare(by_variant, base, th)
    columns = [[obs[t] for obs in by_variant.values()] for t in range(len(ordered))]
    tfs = tumour_fractions(columns, ordered, backgrounds, th)
    by_variant = {k: [_with_tf(o, tfs[t], backgrounds.get(k)) for t, o in enumerate(obs)]
                  for k, obs in by_variant.items()}
    columns = [[obs[t] for obs in by_variant.values()] for t in range(len(ordered))]
    mrd = mrd_calls(columns, backgrounds, th)
    summaries = summarise_timepoints(columns, ordered, base, th, tfs, mrd)
    therapies = [s.therapy for s in ordered]
    alerts = [a for obs in by_variant.values() for a in variant_alerts(name, obs, therapies)]
    alerts += polyclonal_alerts(name, columns, therapies)
    order = {s.label: i for i, s in enumerate(ordered)}
    alerts.sort(key=lambda a: (order.get(a.timepoint, 0), a.kind == "polyclonal", a.gene or ""))
    summaries = with_alerts(summaries, alerts)
    observations = [o for obs in by_variant.values() for o in obs]
    notes = _background_notes(name, backgrounds, pon, by_variant)
    return PatientTrack(
        patient=name, build=build, baseline=ordered[base].label, timepoints=list(ordered),
        observations=observations, summaries=summaries, alerts=alerts,
        samples=[c.sample for c in calls], backgrounds=backgrounds, notes=notes,
    )


def _calls(spec: TimepointSpec, ctx: TrackContext) -> TimepointCalls:
    key = (spec.patient, spec.label)
    if key not in ctx.calls_cache:
        ctx.calls_cache[key] = ctx.reader(spec, ctx.run)
    return ctx.calls_cache[key]


def _sheet_counts(
    groups: dict[str, list[TimepointSpec]], ctx: TrackContext
) -> dict[str, list[tuple[str, int, int]]]:
    """Without a PON: every patient's tracked SNV sites counted in every other patient's reads.

    Other patients are the sheet's own normals for a site (annotator/track/sites.py uses the
    lower half of them, so a hotspot shared by a few patients does not count as background,
    while an artefact present in every sample does).
    """
    from annotator.track.regenotype import ReadGenotyper

    th = ctx.thresholds
    per_patient: dict[str, tuple[str, list[TrackedVariant]]] = {}  # patient -> (build, tracked small variants)
    for name, specs in groups.items():
        calls = [_calls(s, ctx) for s in order_timepoints(specs, [])]
        build = check_builds(calls)
        per_patient[name] = (build, [v for v in tracked_variants(calls) if not v.is_copy_number])
    out: dict[str, list[tuple[str, int, int]]] = {}
    for name, specs in groups.items():
        build = per_patient[name][0]
        # every SNV tracked in another patient, whether or not this patient tracks it too:
        # an artefact present in every sample is tracked by every patient
        sites = {v.variant_key: v for p, (b, vs) in per_patient.items() if p != name and b == build for v in vs
                 if len(v.ref) == len(v.alt) == 1}
        todo = list(sites.values())
        if not todo:
            continue
        for spec in specs:
            if spec.reads is None:
                continue
            with ReadGenotyper(spec.reads, build=build, fetch=_fetcher(ctx, build), fasta=ctx.config.fasta,
                               min_base_quality=th.min_base_quality, min_mapping_quality=th.min_mapping_quality,
                               **_position_option(ctx)) as g:
                counted = _count_all(g, todo, ctx, spec.reads)
                for v in todo:
                    ev = evidence_for(v, _no_calls(spec), counted[v.variant_key])
                    if ev.alt_count is not None and ev.depth:
                        out.setdefault(v.variant_key, []).append((name, ev.alt_count, ev.depth))
    return out


def _pon_in_units(
    pon: Pon, variants: Sequence[TrackedVariant], evidence: dict[str, list[Evidence]], build: str,
    ctx: TrackContext,
) -> dict[str, Background]:
    """Backgrounds from the PON's normals re-genotyped in molecules (annotator/track/normals.py)."""
    from annotator.track.normals import molecule_backgrounds, wants_molecules
    from annotator.track.regenotype import ReadGenotyper

    th = ctx.thresholds
    chosen = [v for v in variants if not v.is_copy_number and wants_molecules(evidence[v.variant_key])
              and _pon_background(pon, v, ctx, build) is not None]
    if not chosen:
        return {}

    def count(path: Path, todo: Sequence[TrackedVariant]) -> dict[str, AlleleCounts]:
        with ReadGenotyper(path, build=build, fetch=_fetcher(ctx, build), fasta=ctx.config.fasta,
                           min_base_quality=th.min_base_quality, min_mapping_quality=th.min_mapping_quality,
                           **_position_option(ctx)) as g:
            return _count_all(g, todo, ctx, path)

    return molecule_backgrounds(pon, chosen, count, th, ctx.normal_counts)


def _pon_background(pon: Pon, v: TrackedVariant, ctx: TrackContext, build: str) -> Background | None:
    """The PON's read-level background; for an indel over the repeat it can move in."""
    from annotator.track.regenotype import repeat_end

    key, th = _key(v), ctx.thresholds
    span = repeat_end(key, _fetcher(ctx, build)) if len(v.ref) != len(v.alt) else None
    return pon.background(key, th.background_floor, th.background_cv, span_end=span)


def _key(v: TrackedVariant) -> VariantKey:
    from annotator.core.models import VariantKey

    return VariantKey(v.chrom, v.pos, v.ref, v.alt)


def _with_tf(o: Observation, tf: TumourFraction, bg: Background | None) -> Observation:
    if tf.value is None or o.vaf is None or o.variant.is_copy_number:
        return replace(o, tumor_fraction=tf.value)
    e = o.evidence
    corrected = background.subtract(e.alt_count or 0, e.depth or 0, bg) if bg is not None and e.depth else o.vaf
    return replace(o, tumor_fraction=tf.value, vaf_tf=corrected / tf.value if tf.value > 0 else None)


def _patient_pon(ctx: TrackContext, build: str) -> Pon | None:
    pon = ctx.pon
    if pon is not None and pon.build != build:
        raise InputError(f"PON is {pon.build} but the samples are {build}", path=pon.path / "pon.json")
    return pon


def _background_notes(
    name: str, backgrounds: dict[str, Background], pon: Pon | None, by_variant: dict[str, list[Observation]]
) -> list[str]:
    """What the backgrounds rest on, said once per patient (summary JSON and HTML notes)."""
    sources: dict[str, int] = {}
    for b in backgrounds.values():
        sources[b.source] = sources.get(b.source, 0) + 1
    notes = []
    if pon is None:
        notes.append(
            f"patient {name!r}: no panel of normals (--pon); background per site estimated from "
            + ", ".join(f"{k} ({n} sites)" for k, n in sorted(sources.items()))
            + ("; sheet_site sees the site's other non-reference bases, not an alt-specific artefact"
               if "sheet_site" in sources and "sheet_patients" not in sources else "")
            + ("; floor: no reads at the site, the background is --background-floor" if "floor" in sources else ""))
    else:
        in_pon = sources.get("pon", 0) + sources.get("pon_molecules", 0)
        if sources.get("pon_molecules"):
            notes.append(f"patient {name!r}: {sources['pon_molecules']} PON site(s) in molecules (the PON's "
                         "normals re-genotyped like the samples)")
        if sources.get("pon") and any(o.evidence.unit != "reads" for obs in by_variant.values() for o in obs):
            notes.append(f"patient {name!r}: {sources['pon']} PON site(s) with read-level counts against "
                         "molecule counts (normals not readable): conservative background")
        if in_pon < len(backgrounds):
            notes.append(f"patient {name!r}: {len(backgrounds) - in_pon} site(s) not in the PON "
                         "(indels/MNVs or uncovered): background from " + ", ".join(
                             f"{k} ({n})" for k, n in sorted(sources.items()) if k not in ("pon", "pon_molecules")))
    artefacts = [k for k, obs in by_variant.items() if obs and not obs[0].monitorable]
    if artefacts:
        notes.append(f"patient {name!r}: artefact sites (background too high to monitor): " + ", ".join(artefacts))
    return notes


def _white_cells(
    name: str, specs: Sequence[TimepointSpec], variants: Sequence[TrackedVariant], build: str, ctx: TrackContext
) -> dict[str, WhiteCells]:
    """White-cell evidence per variant from the patient's wbc_bam / wbc_vcf (first given)."""
    from annotator.track.regenotype import ReadGenotyper

    out: dict[str, WhiteCells] = {}
    small = [v for v in variants if not v.is_copy_number]
    bam = next((s for s in specs if s.wbc_reads is not None), None)
    vcf = next((s for s in specs if s.wbc_vcf is not None), None)
    if bam is not None and small:
        th = ctx.thresholds
        assert bam.wbc_reads is not None
        with ReadGenotyper(bam.wbc_reads, build=build, fetch=_fetcher(ctx, build), fasta=ctx.config.fasta,
                           min_base_quality=th.min_base_quality,
                           min_mapping_quality=th.min_mapping_quality, **_position_option(ctx)) as g:
            _check_contigs(g, small, bam.wbc_reads, bam)
            counted = _count_all(g, small, ctx, bam.wbc_reads)
            for v in small:
                ev = evidence_for(v, _no_calls(bam), counted[v.variant_key])
                out[v.variant_key] = WhiteCells(ev.alt_count, ev.depth, ev.vaf, "wbc_bam")
    elif vcf is not None and small:
        assert vcf.wbc_vcf is not None
        spec = replace(vcf, label="white cells", vcf=vcf.wbc_vcf, sample=None, reads=None, cnv=None)
        calls = ctx.reader(spec, ctx.run)
        if calls.build != build:
            raise InputError(f"white-cell VCF is {calls.build}, the patient's samples are {build}",
                             path=vcf.wbc_vcf)
        for v in small:
            out[v.variant_key] = wbc_from_vcf_rows(calls.calls, v.variant_key)
    return out


def _position_option(ctx: TrackContext) -> dict[str, bool]:
    return {"by_position": True} if ctx.config.by_position else {}


AMPLICON_COLLAPSE = 0.9  # collapsing by position removes more than this: amplicons share ends


def _count_all(
    g: ReadGenotyper, variants: Sequence[TrackedVariant], ctx: TrackContext, path: Path
) -> dict[str, AlleleCounts]:
    """Counts of every variant in one BAM; unmarked duplicates collapsed by position when ``auto``.

    ``by_position`` None (auto): when no read at the sites carries a UMI tag or a duplicate
    flag, PCR copies were never marked, so fragments with the same outer ends are counted
    once - unless that removes > 90 % of the fragments (amplicon data, where unrelated
    fragments share their ends), then reads are kept and a warning says so.
    """
    counts = {v.variant_key: g.count(_key(v)) for v in variants}
    if ctx.config.by_position is not None or not counts:
        return counts
    vals = list(counts.values())
    if any(getattr(c, "unit", "reads") != "reads" or getattr(c, "duplicate_reads", 0) for c in vals):
        return counts
    before = sum(c.depth for c in vals)
    if before == 0:
        return counts
    g.by_position = True
    collapsed = {v.variant_key: g.count(_key(v)) for v in variants}
    g.by_position = False
    after = sum(getattr(c, "molecule_depth", c.depth) for c in collapsed.values())
    if after < (1 - AMPLICON_COLLAPSE) * before:
        msg = (f"{Path(path).name}: no UMI tags or duplicate flags, but collapsing by position would keep "
               f"{after} of {before} fragments (amplicons?): counted as reads; "
               "--collapse-by-position to force it")
        ctx.warnings.append(msg)
        log.warning("%s", msg)
        return counts
    log.info("%s: no UMI tags or duplicate flags; fragments with the same ends counted once (%d -> %d)",
             Path(path).name, before, after)
    return collapsed


def _no_calls(spec: TimepointSpec) -> TimepointCalls:
    return TimepointCalls(spec, "", "", {})


def _check_contigs(g: ReadGenotyper, small: Sequence[TrackedVariant], path: Path, spec: TimepointSpec) -> None:
    from annotator.core import chromnames

    native = getattr(g, "native", None)
    if native is None:
        return
    if not any(chromnames.canonical(v.chrom) in native for v in small):
        names = ", ".join(list(native.values())[:4])
        raise InputError(
            f"none of the BAM/CRAM's contigs ({names}...) match the variants' chromosomes "
            f"({', '.join(sorted({v.chrom for v in small})[:4])})", path=path, where=spec.where)


def _gather_evidence(
    variants: Sequence[TrackedVariant], calls: Sequence[TimepointCalls], build: str, ctx: TrackContext
) -> dict[str, list[Evidence]]:
    from annotator.track.regenotype import ReadGenotyper

    th = ctx.thresholds
    out: dict[str, list[Evidence]] = {v.variant_key: [] for v in variants}
    small = [v for v in variants if not v.is_copy_number]
    for tp in calls:
        counts: dict[str, AlleleCounts] = {}
        if tp.spec.reads is not None and small:
            fetch = _fetcher(ctx, build)
            try:
                with ReadGenotyper(
                    tp.spec.reads, build=build, fetch=fetch, fasta=ctx.config.fasta,
                    min_base_quality=th.min_base_quality, min_mapping_quality=th.min_mapping_quality,
                    **_position_option(ctx),
                ) as g:
                    _check_contigs(g, small, tp.spec.reads, tp.spec)
                    counts = _count_all(g, small, ctx, tp.spec.reads)
            except TimepointError as e:
                raise TimepointError(f"timepoint {tp.spec.label!r}: {e.message}", path=e.path) from e
        for v in variants:
            out[v.variant_key].append(evidence_for(v, tp, counts.get(v.variant_key)))
    return out


def _fetcher(ctx: TrackContext, build: str) -> Fetch | None:
    try:
        ref = ctx.run.reference(build)
    except (ResmarkError, AttributeError) as e:
        log.warning("no reference sequence for %s (%s); read indels are compared as placed", build, e)
        return None
    return ref.sequence
