"""``resmark annotate``: options -> AnnotateConfig -> api.annotate -> summary."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from annotator.annotation.config import DEFAULT_FORMATS, FORMATS
from annotator.api import AnnotateConfig, annotate
from annotator.cli import params
from annotator.cnv.thresholds import PLOIDY_RANGE, CnThresholds
from annotator.core.brief import brief_message
from annotator.errors import ResmarkError

COHORT_SUMMARY_ABOVE = 20  # more samples than this: one summary line instead of one block each


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    items = tuple(x.strip().lower() for x in value.split(",") if x.strip())
    bad = [x for x in items if x not in FORMATS]
    if bad:
        raise click.BadParameter(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    return items


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A rich progress counter on stderr, only for a terminal outside CI."""
    if not enabled or not sys.stderr.isatty() or os.environ.get("CI"):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("records read: {task.completed:,.0f}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("annotate", total=None)
        yield lambda n: bar.advance(task, n)


@click.command("annotate")
@click.argument("inputs", nargs=-1, required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--sample", help="Tumour sample column (default: ##tumor_sample, else the only sample).")
@click.option("--build", default="auto", show_default=True, help="auto, GRCh37 or GRCh38.")
@click.option("--panel", help="Panel name or path to a panel directory/YAML (default: built-in).")
@click.option("--extend-panel", is_flag=True, help="Merge --panel over the built-in panel instead of replacing it.")
@click.option("--fasta", type=click.Path(dir_okay=False),
              help="Indexed reference FASTA (extends sequence to every gene; default: RESMARK_FASTA "
                   "or the config file, see docs/reference.md).")
@click.option("--gtf", type=click.Path(dir_okay=False),
              help="GTF/GFF3 (GENCODE, Ensembl, RefSeq; plain, gzip or bgzip+tabix): transcript models "
                   "for panel genes the embedded set lacks (default: RESMARK_GTF or the config file).")
@click.option("--gtf-only", is_flag=True, help="Take every transcript model from --gtf, none embedded.")
@click.option("--include-filtered", is_flag=True, help="Annotate records whose FILTER is not PASS.")
@click.option("--report", type=click.Choice(["matched", "panel", "all"]), default="matched", show_default=True,
              help="matched: alterations matching a rule; panel: every variant in a panel gene; all: every variant.")
@click.option("--formats", default=",".join(DEFAULT_FORMATS), show_default=True, callback=_formats,
              help=f"Comma-separated subset of {','.join(FORMATS)}.")
@click.option("--cnv", type=click.Path(dir_okay=False), help="Copy-number segments or gene table (CNVkit .cns/.cnr, SEG, PURPLE, gene table).")
@click.option("--sv", type=click.Path(dir_okay=False), help="Structural-variant VCF (Manta, Delly, LUMPY, ...).")
@click.option("--tumor-fraction", type=params.fraction(), help="Tumour fraction / purity, used for copy-number calls (ctDNA).")
@click.option("--ploidy", type=params.FiniteRange(*PLOIDY_RANGE), default=2.0, show_default=True, help="Tumour ploidy for copy-number calls.")
@click.option("--amp-ratio", type=params.FiniteRange(1.0, 1000.0, min_open=True), default=3.0, show_default=True,
              help="Amplification: tumour copy number >= this x ploidy.")
@click.option("--gain-ratio", type=params.FiniteRange(1.0, 1000.0, min_open=True), default=1.25, show_default=True, help="Gain: copy number >= this x ploidy.")
@click.option("--loss-ratio", type=params.FiniteRange(0.0, 1.0, min_open=True, max_open=True), default=0.75, show_default=True, help="Loss: copy number <= this x ploidy.")
@click.option("--deep-deletion-cn", type=params.FiniteRange(0.0, 100.0, max_open=True), default=0.5, show_default=True,
              help="Deep deletion: tumour copy number below this.")
@click.option("--cn-min-fraction", type=params.fraction(), default=0.5, show_default=True,
              help="Fraction of a gene that segments must cover for a gene-level call.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Parallel processes for cohorts.")
@click.option("--force", is_flag=True, help="Replace results already in OUTDIR.")
@click.option("--samplesheet", type=click.Path(dir_okay=False),
              help="TSV/CSV with a 'vcf' column (and optional sample, patient, timepoint, cnv, sv, "
                   "tumor_fraction): annotate every row as one cohort.")
@click.option("--prior-therapy", "prior_therapy",
              help="Comma-separated drugs or classes already given (e.g. 'palbociclib,letrozole'; "
                   "'none' for treatment-naive): strategies tested only in another setting are "
                   "marked and ranked last ('resmark panel therapies' lists the names).")
@click.option("--dataset", "dataset", type=click.Path(file_okay=False),
              help="Also add every sample to this hive-partitioned Parquet dataset "
                   "(DIR/sample=NAME/part-0.parquet; a rerun replaces a sample's rows).")
@click.pass_context
def command(ctx: click.Context, **kw: object) -> None:
    """Annotate INPUTS (VCF, VCF.GZ or BCF) against the resistance knowledge base.

    INPUTS may be paths or quoted globs ('cohort/*.vcf.gz'); --samplesheet adds the
    rows of a sample sheet.  Several inputs form a cohort: with --jobs N they are
    annotated in N processes, a failing sample is reported and the others are
    written (exit code 1), and --dataset adds them all to one Parquet dataset.
    """
    quiet = bool((ctx.obj or {}).get("quiet"))
    run_log = (ctx.obj or {}).get("run_log")
    with progress_reporter(enabled=not quiet) as progress:
        _run(kw, progress, run_log.lines if run_log is not None else None)


def _prior(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(x.strip() for x in str(value).split(",") if x.strip())


def _run(
    kw: dict[str, object], progress: Callable[[int], None] | None, log_lines: list[str] | None
) -> None:
    config = AnnotateConfig(
        inputs=tuple(str(p) for p in kw["inputs"]),  # type: ignore[attr-defined]
        outdir=str(kw["outdir"]),
        sample=kw["sample"],  # type: ignore[arg-type]
        build=str(kw["build"]),
        panel=kw["panel"],  # type: ignore[arg-type]
        panel_extend=bool(kw["extend_panel"]),
        fasta=kw["fasta"],  # type: ignore[arg-type]
        gtf=kw["gtf"],  # type: ignore[arg-type]
        gtf_only=bool(kw["gtf_only"]),
        include_filtered=bool(kw["include_filtered"]),
        report=str(kw["report"]),
        formats=kw["formats"],  # type: ignore[arg-type]
        force=bool(kw["force"]),
        cnv=kw["cnv"],  # type: ignore[arg-type]
        sv=kw["sv"],  # type: ignore[arg-type]
        tumor_fraction=kw["tumor_fraction"],  # type: ignore[arg-type]
        ploidy=float(kw["ploidy"]),  # type: ignore[arg-type]
        cnv_thresholds=CnThresholds(
            deep_deletion_cn=float(kw["deep_deletion_cn"]),  # type: ignore[arg-type]
            loss_ratio=float(kw["loss_ratio"]),  # type: ignore[arg-type]
            gain_ratio=float(kw["gain_ratio"]),  # type: ignore[arg-type]
            amplification_ratio=float(kw["amp_ratio"]),  # type: ignore[arg-type]
            min_fraction=float(kw["cn_min_fraction"]),  # type: ignore[arg-type]
        ),
        jobs=int(kw["jobs"]),  # type: ignore[call-overload]
        samplesheet=kw["samplesheet"],  # type: ignore[arg-type]
        dataset=kw["dataset"],  # type: ignore[arg-type]
        prior_therapy=_prior(kw["prior_therapy"]),
        command=["resmark", *sys.argv[1:]],
        progress=progress,
        run_log=log_lines,
    )
    result = annotate(config)
    detailed = len(result.samples) <= COHORT_SUMMARY_ABOVE
    for s in result.samples:
        matched = [r for r in s.rows if r.rule_id]
        if not detailed:
            continue
        click.echo(f"{s.sample} ({s.build.name}): {s.accounting.summary_line()}", err=True)
        for r in matched[:20]:
            click.echo(
                f"  {r.gene} {r.hgvsp_short or r.hgvsc or r.alteration_class} "
                f"[{r.rule_id}] {r.mechanism} ({r.mechanism_category}); evidence {r.evidence_level}",
                err=True,
            )
        for f in s.flags:
            click.echo(f"  FLAG {f.kind} {f.gene or f.mechanism_id}: {brief_message(f.message)}", err=True)
    if not detailed:
        n_matched = sum(1 for s in result.samples if any(r.rule_id for r in s.rows))
        click.echo(f"{len(result.samples)} samples annotated; {n_matched} with a matched "
                   "resistance marker (see accounting.tsv)", err=True)
    if result.dataset:
        click.echo(f"dataset {config.dataset}: {len(result.dataset)} sample partition(s) written", err=True)
    click.echo(f"results in {result.outdir} (research use only)", err=True)
    if result.failures:
        for failure in result.failures:
            click.echo(f"resmark: failed: {failure.one_line()}", err=True)
        raise ResmarkError(
            f"{len(result.failures)} of {len(result.failures) + len(result.samples)} inputs failed "
            f"(listed above); the other samples' results are in {result.outdir}"
        )
