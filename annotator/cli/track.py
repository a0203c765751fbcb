"""``resmark track``: options -> TrackConfig -> annotator.track.track -> summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from annotator.track.model import (
    DEFAULT_ALPHA,
    DEFAULT_CN_DELTA,
    DEFAULT_MIN_ALT_READS,
    DEFAULT_MIN_FOLD_CHANGE,
    DEFAULT_MIN_POWER,
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
@click.option("--min-base-quality", type=int, default=MIN_BASE_QUALITY, show_default=True)
@click.option("--min-mapping-quality", type=int, default=MIN_MAPPING_QUALITY, show_default=True)
@click.option("--min-alt-reads", type=int, default=DEFAULT_MIN_ALT_READS, show_default=True,
              help="Alt reads needed to call a variant detected from counts.")
@click.option("--min-vaf", type=float, default=0.0, show_default=True, help="VAF needed to call detected from counts.")
@click.option("--min-power", type=float, default=DEFAULT_MIN_POWER, show_default=True,
              help="Detection power needed to report 'not_detected' (else 'not_assessable').")
@click.option("--power-vaf", type=float, help="VAF assumed for power (default: the variant's highest observed VAF).")
@click.option("--alpha", type=float, default=DEFAULT_ALPHA, show_default=True, help="BH q-value threshold for changes.")
@click.option("--min-fold-change", type=float, default=DEFAULT_MIN_FOLD_CHANGE, show_default=True,
              help="VAF ratio needed for 'rising'/'falling'.")
@click.option("--ci-level", type=float, default=0.95, show_default=True)
@click.option("--ci-method", type=click.Choice(["clopper-pearson", "wilson"]), default="clopper-pearson", show_default=True)
@click.option("--response-fall", type=float, default=DEFAULT_RESPONSE_FALL, show_default=True,
              help="Fall in mean VAF vs baseline that counts as molecular response.")
@click.option("--progression-rise", type=float, default=DEFAULT_PROGRESSION_RISE, show_default=True,
              help="Rise in mean VAF vs baseline that counts as molecular progression.")
@click.option("--cn-delta", type=float, default=DEFAULT_CN_DELTA, show_default=True,
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
    )
    from annotator.io.htslog import silenced

    with silenced():  # htslib's per-read/per-record lines (BAM, CRAM, index) stay off the console
        result = track(config)
    for p in result.patients:
        click.echo(f"{p.patient} ({p.build}), baseline {p.baseline}:", err=True)
        for s in p.summaries:
            mean = "n/a" if s.mean_vaf is None else f"{100 * s.mean_vaf:.2f}%"
            click.echo(f"  {s.timepoint}: {s.n_detected}/{s.n_tracked} detected, mean VAF {mean}, "
                       f"{s.molecular_response}", err=True)
        for a in p.alerts:
            click.echo(f"  ALERT [{a.kind}, {a.confidence}] {a.message}", err=True)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"results in {result.outdir} (research use only)", err=True)
