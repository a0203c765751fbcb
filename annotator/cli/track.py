"""``resmark track``: options -> TrackConfig -> annotator.track.track -> summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from annotator.cli import params
from annotator.track.model import (
    DEFAULT_ALPHA,
    DEFAULT_CHANGE_RHO,
    DEFAULT_CLEARANCE_VAF,
    DEFAULT_CN_DELTA,
    DEFAULT_DETECTION_ALPHA,
    DEFAULT_LOD_POWER,
    DEFAULT_MAX_BACKGROUND,
    DEFAULT_MIN_ALT_READS,
    DEFAULT_MIN_FOLD_CHANGE,
    DEFAULT_MIN_POWER,
    DEFAULT_MRD_ALPHA,
    DEFAULT_PROGRESSION_RISE,
    DEFAULT_RESPONSE_FALL,
    Thresholds,
    TrackConfig,
)
from annotator.track.regenotype import MIN_BASE_QUALITY, MIN_MAPPING_QUALITY

SHEET_SUFFIXES = (".tsv", ".csv", ".txt", ".tab")


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(x.strip() for x in value.split(","))


@click.command("track")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--timepoints", help="Comma-separated labels, one per VCF (or per sample column of one VCF).")
@click.option("--dates", help="Comma-separated ISO dates (YYYY-MM-DD), one per VCF.")
@click.option("--bams", help="Comma-separated BAM/CRAM paths, one per VCF ('-' for none).")
@click.option("--patient", default="patient", show_default=True, help="Patient name for VCF inputs (or sheets without a patient column).")
@click.option("--therapy", help="Therapy for VCF inputs (free text, e.g. 'palbociclib + letrozole').")
@click.option("--baseline", help="Timepoint label used as baseline (default: the earliest).")
@click.option("--build", default="auto", show_default=True, help="auto, GRCh37 or GRCh38.")
@click.option("--fasta", type=click.Path(dir_okay=False),
              help="Indexed reference FASTA (CRAM decoding, indel placement, sequence for every gene; "
                   "default: RESMARK_FASTA or the config file).")
@click.option("--gtf", type=click.Path(dir_okay=False),
              help="GTF/GFF3 with transcript models for panel genes the embedded set lacks "
                   "(default: RESMARK_GTF or the config file).")
@click.option("--gtf-only", is_flag=True, help="Take every transcript model from --gtf, none embedded.")
@click.option("--panel", help="Panel name or path (default: built-in).")
@click.option("--extend-panel", is_flag=True, help="Merge --panel over the built-in panel.")
@click.option("--report", type=click.Choice(["panel", "all"]), default="panel", show_default=True,
              help="Which variants to track: every panel-gene variant, or every variant.")
@click.option("--min-base-quality", type=click.IntRange(0, 93), default=MIN_BASE_QUALITY, show_default=True)
@click.option("--min-mapping-quality", type=click.IntRange(0, 255), default=MIN_MAPPING_QUALITY, show_default=True)
@click.option("--pon", type=click.Path(file_okay=False), help="Panel of normals from 'resmark pon build'.")
@click.option("--collapse-by-position/--no-collapse-by-position", default=None,
              help="Count fragments with the same outer ends once (unflagged PCR duplicates). "
                   "Default: automatically when the reads carry neither UMI tags nor duplicate flags.")
@click.option("--min-alt-reads", type=click.IntRange(1, 10**6), default=DEFAULT_MIN_ALT_READS, show_default=True,
              help="Alt reads (molecules) needed, as well as significance, to call detected.")
@click.option("--min-vaf", type=params.fraction(open_low=False), default=0.0, show_default=True,
              help="VAF needed, as well as significance, to call detected.")
@click.option("--min-power", type=params.fraction(open_low=False), default=DEFAULT_MIN_POWER, show_default=True,
              help="Power at --clearance-vaf needed to report 'not_detected' (else 'not_assessable').")
@click.option("--clearance-vaf", type=params.fraction(), default=DEFAULT_CLEARANCE_VAF, show_default=True,
              help="VAF that non-detection and clearance are stated at (power computed there).")
@click.option("--power-vaf", type=params.fraction(), help="Deprecated alias of --clearance-vaf.")
@click.option("--detection-alpha", type=params.fraction(), default=DEFAULT_DETECTION_ALPHA, show_default=True,
              help="Per-observation test against the site background (LoB quantile).")
@click.option("--lod-power", type=params.fraction(), default=DEFAULT_LOD_POWER, show_default=True,
              help="Probability of detection that defines the limit of detection.")
@click.option("--background-floor", type=params.fraction(), default=1e-4, show_default=True,
              help="Lowest background rate ever assumed.")
@click.option("--background-cv", type=params.non_negative(100.0), default=0.5, show_default=True,
              help="Between-sample CV of the background when it cannot be estimated.")
@click.option("--max-background", type=params.fraction(), default=DEFAULT_MAX_BACKGROUND, show_default=True,
              help="Sites with a higher background are artefact sites, not monitored.")
@click.option("--change-rho", type=params.FiniteRange(0.0, 0.5), default=DEFAULT_CHANGE_RHO, show_default=True,
              help="Beta-binomial overdispersion of the change test.")
@click.option("--alpha", type=params.fraction(), default=DEFAULT_ALPHA, show_default=True,
              help="Significance level of the change test.")
@click.option("--adjust", type=click.Choice(["none", "bh"]), default="none", show_default=True,
              help="Classify changes on p-values or on BH q-values.")
@click.option("--mrd-alpha", type=params.fraction(), default=DEFAULT_MRD_ALPHA, show_default=True,
              help="Significance level of the patient-level pooled MRD test.")
@click.option("--min-fold-change", type=params.FiniteRange(1.0, 1e6), default=DEFAULT_MIN_FOLD_CHANGE, show_default=True,
              help="VAF ratio needed for 'rising'/'falling'.")
@click.option("--ci-level", type=params.FiniteRange(0.0, 1.0, min_open=True, max_open=True), default=0.95, show_default=True)
@click.option("--ci-method", type=click.Choice(["clopper-pearson", "wilson"]), default="clopper-pearson", show_default=True)
@click.option("--response-fall", type=params.fraction(open_low=False), default=DEFAULT_RESPONSE_FALL, show_default=True,
              help="Fall in mean VAF vs baseline that counts as molecular response.")
@click.option("--progression-rise", type=params.non_negative(1e6), default=DEFAULT_PROGRESSION_RISE, show_default=True,
              help="Rise in mean VAF vs baseline that counts as molecular progression.")
@click.option("--cn-delta", type=params.positive(1e6), default=DEFAULT_CN_DELTA, show_default=True,
              help="Copy-number change for rising/falling copy-number calls.")
@click.option("--no-plots", is_flag=True, help="Do not draw VAF trajectories.")
@click.option("--no-png", is_flag=True, help="SVG only, even when matplotlib is installed.")
@click.option("--force", is_flag=True, help="Replace results already in OUTDIR.")
def command(**kw: object) -> None:
    """Track resistance markers across a patient's serial samples.

    INPUTS is one sample sheet (CSV/TSV: patient, timepoint, date, vcf, and
    optional bam, tumor_fraction, therapy, sample, cnv) or one VCF per
    timepoint (or one VCF with a sample column per timepoint).
    """
    from annotator.track import track

    inputs = [str(p) for p in kw["inputs"]]  # type: ignore[attr-defined]
    sheet = len(inputs) == 1 and Path(inputs[0]).suffix.lower() in SHEET_SUFFIXES
    th = Thresholds(
        min_base_quality=int(kw["min_base_quality"]),  # type: ignore[call-overload]
        min_mapping_quality=int(kw["min_mapping_quality"]),  # type: ignore[call-overload]
        min_alt_reads=int(kw["min_alt_reads"]),  # type: ignore[call-overload]
        min_vaf=float(kw["min_vaf"]),  # type: ignore[arg-type]
        min_power=float(kw["min_power"]),  # type: ignore[arg-type]
        power_vaf=kw["power_vaf"],  # type: ignore[arg-type]
        clearance_vaf=float(kw["clearance_vaf"]),  # type: ignore[arg-type]
        detection_alpha=float(kw["detection_alpha"]),  # type: ignore[arg-type]
        lod_power=float(kw["lod_power"]),  # type: ignore[arg-type]
        background_floor=float(kw["background_floor"]),  # type: ignore[arg-type]
        background_cv=float(kw["background_cv"]),  # type: ignore[arg-type]
        max_background=float(kw["max_background"]),  # type: ignore[arg-type]
        change_rho=float(kw["change_rho"]),  # type: ignore[arg-type]
        adjust=str(kw["adjust"]),
        mrd_alpha=float(kw["mrd_alpha"]),  # type: ignore[arg-type]
        alpha=float(kw["alpha"]),  # type: ignore[arg-type]
        min_fold_change=float(kw["min_fold_change"]),  # type: ignore[arg-type]
        ci_level=float(kw["ci_level"]),  # type: ignore[arg-type]
        ci_method=str(kw["ci_method"]),
        response_fall=float(kw["response_fall"]),  # type: ignore[arg-type]
        progression_rise=float(kw["progression_rise"]),  # type: ignore[arg-type]
        cn_delta=float(kw["cn_delta"]),  # type: ignore[arg-type]
    )
    config = TrackConfig(
        outdir=str(kw["outdir"]),
        samplesheet=inputs[0] if sheet else None,
        vcfs=() if sheet else tuple(inputs),
        timepoints=_split(kw["timepoints"]),  # type: ignore[arg-type]
        dates=_split(kw["dates"]),  # type: ignore[arg-type]
        bams=_split(kw["bams"]),  # type: ignore[arg-type]
        patient=str(kw["patient"]),
        therapy=kw["therapy"],  # type: ignore[arg-type]
        baseline=kw["baseline"],  # type: ignore[arg-type]
        build=str(kw["build"]),
        fasta=kw["fasta"],  # type: ignore[arg-type]
        gtf=kw["gtf"],  # type: ignore[arg-type]
        gtf_only=bool(kw["gtf_only"]),
        panel=kw["panel"],  # type: ignore[arg-type]
        panel_extend=bool(kw["extend_panel"]),
        report=str(kw["report"]),
        thresholds=th,
        plots=not kw["no_plots"],
        png=not kw["no_png"],
        force=bool(kw["force"]),
        command=["resmark", *sys.argv[1:]],
        pon=kw["pon"],  # type: ignore[arg-type]
        by_position=kw["collapse_by_position"],  # type: ignore[arg-type]
    )
    from annotator.io.htslog import silenced

    with silenced():  # htslib's per-read/per-record lines (BAM, CRAM, index) stay off the console
        result = track(config)
    for p in result.patients:
        click.echo(f"{p.patient} ({p.build}), baseline {p.baseline}:", err=True)
        for s in p.summaries:
            mean = "n/a" if s.mean_vaf is None else f"{100 * s.mean_vaf:.2f}%"
            tf = "n/a" if s.tf is None else f"{100 * s.tf:.2g}% ({s.tf_source})"
            lod = "n/a" if s.mrd_lod_vaf is None else f"{100 * s.mrd_lod_vaf:.2g}%"
            mrd_p = ("n/a" if s.mrd_p_value is None else "<1e-15" if s.mrd_p_value < 1e-15
                     else f"{s.mrd_p_value:.2g}")
            click.echo(f"  {s.timepoint}: {s.n_detected}/{s.n_tracked} detected, mean VAF {mean}, "
                       f"TF {tf}, MRD {s.mrd_call} (p{'' if mrd_p.startswith('<') else '='}{mrd_p}, LoD {lod}, "
                       f"{s.counting_unit}), "
                       f"{s.molecular_response}", err=True)
        for a in p.alerts:
            click.echo(f"  ALERT [{a.kind}, {a.confidence}] {a.message}", err=True)
    for p in result.patients:
        for n in p.notes:
            click.echo(f"note: {n}", err=True)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"results in {result.outdir} (research use only)", err=True)
